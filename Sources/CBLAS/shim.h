// OpenBLAS's CBLAS interface, as one C module for Swift. Only the tensor kernels import it.
#include <cblas.h>
