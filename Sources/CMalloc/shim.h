// glibc allocator tuning (mallopt). Only Tensor/Storage.swift imports it.
#include <malloc.h>
