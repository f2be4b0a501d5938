/* The benchmark functions of Orrery's `sweep` workload, as defined in
 * Sources/Workloads/Sweep/BenchmarkFunction.swift (Surjanovic & Bingham's library). */
#ifndef ORRERY_C_WORKER_FUNCTIONS_H
#define ORRERY_C_WORKER_FUNCTIONS_H

#include <stddef.h>

/* Evaluates `name` at x[0..n). Returns 0, or -1 for an unknown name or wrong dimension. */
int orrery_benchmark(const char *name, const double *x, size_t n, double *value);

#endif
