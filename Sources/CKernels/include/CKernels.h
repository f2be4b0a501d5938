// Numeric loops written in C where Swift cannot express them at full speed.
//
// Adam: SIMD8<Float>.squareRoot() is lowered lane by lane to scalar square roots, which
// made Adam's update twice as slow as PyTorch's fused one. Compiled with -fno-math-errno
// (so clang emits vector square roots) and -ffp-contract=off (no fused multiply-adds), so
// results match the Swift formula bit for bit.
//
// sgemm: a register-tiled matrix product with AVX2 intrinsics (sgemm.c), compiled for
// AVX2 + FMA whatever -march says and used only where the CPU has them.
//
// The engine's thread pool (thread_pool.c): workers that start a job at once.
#ifndef ORRERY_CKERNELS_H
#define ORRERY_CKERNELS_H

/// One Adam / AdamW step over `count` weights, in place (w, m, v):
///   w' = w·keep;  g' = g + coupled·w';  m = β₁m + (1−β₁)g';  v = β₂v + (1−β₂)g'g'
///   w = w' − step_size·m / (√(v·inverse_correction2) + ε)
void orrery_adam_update(
    float *w, const float *g, float *m, float *v, long count,
    float keep, float coupled, float beta1, float beta2,
    float step_size, float inverse_correction2, float epsilon);

/// Whether this CPU has AVX2 and FMA, which orrery_sgemm_columns needs.
int orrery_sgemm_supported(void);

/// C[m×n] = op(A)·op(B) (+ C when `accumulate`), row-major, for the columns
/// column_begin..<column_end of C and op(B) only: disjoint column ranges may run on
/// different threads, and the result does not depend on how the columns were split.
/// op(A) is m×k: A[i][k] at a[i·lda + k], or a[k·lda + i] when `transpose_a`. op(B) is
/// k×n: B[k][j] at b[k·ldb + j], or b[j·ldb + k] when `transpose_b`. k must be ≥ 1.
/// Returns 0, or −1 when its packing buffers (about 640 KiB) cannot be allocated.
int orrery_sgemm_columns(int transpose_a, int transpose_b, long m, long k, const float *a, long lda,
                         const float *b, long ldb, float *c, long ldc, int accumulate,
                         long column_begin, long column_end);

/// Runs body(context, c) for every chunk c in 0..<chunks on the caller and up to
/// threads − 1 persistent workers (started on first use), returning when all are done.
/// Workers spin briefly after a job, then sleep; a caller that finds the pool busy with
/// another thread's job runs every chunk itself.
void orrery_pool_run(long chunks, int threads, void (*body)(void *context, long chunk), void *context);

#endif
