// zlib, for reading the gzipped data sets. Only the Datasets target imports it.
#include <zlib.h>
