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
// Quantized products (quantized_product.c): weights in ggml's Q4_1 / Q8_0 blocks multiplied
// in place, integer dots per block (AVX-512 VNNI or AVX2 chosen at run time), or decoded
// panels for the sgemm kernel.
//
// int8 products (int8_product.c): weights per output channel, activations per row, exact
// int32 sums (AVX-512 VNNI where the CPU has it, portable C with the same bits elsewhere).
//
// The engine's thread pool (thread_pool.c): workers that start a job at once.
#ifndef ORRERY_CKERNELS_H
#define ORRERY_CKERNELS_H

#include <stdint.h>

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

/// Whether this CPU runs AVX2 with FMA and F16C (cpu_features.c; asked once).
int orrery_cpu_has_avx2(void);

/// Whether it also runs AVX-512 VNNI on 256-bit registers (AVX512VL).
int orrery_cpu_has_vnni(void);

/// Block encodings of ggml (quantized_product.c): 32 weights share an fp16 scale d (and,
/// for Q4_1, an fp16 minimum m): Q4_1 is d, m, 16 bytes of nibbles (low nibbles are weights
/// 0–15, high 16–31); Q8_0 is d and 32 int8.
#define ORRERY_FORMAT_Q4_1 0
#define ORRERY_FORMAT_Q8_0 1
/// Bytes of one activation block made by orrery_quantize_rows_q8: float d, float d·Σq, 32 int8.
#define ORRERY_Q8_BLOCK_BYTES 40

/// Bytes of one block of `format` (0 for an unknown format).
long orrery_block_bytes(int format);

/// Decodes `blocks` blocks of `format` at `source` into 32·blocks floats.
void orrery_dequantize_blocks(int format, const void *source, long blocks, float *target);

/// Quantizes rows×k floats (k a multiple of 32) to activation blocks, rows·k/32 of them.
void orrery_quantize_rows_q8(const float *x, long rows, long k, void *target);

/// y[i·ldy + j] = Σ_k x[i][k]·W[j][k] for i < m and row_begin ≤ j < row_end, with x given as
/// activation blocks (orrery_quantize_rows_q8) and W as `format` blocks, k/32 per row. Integer
/// dot products per block (AVX2 when the CPU has it); disjoint row ranges may run on
/// different threads.
void orrery_quantized_dot_rows(int format, long m, long k, const void *activations, const void *weights,
                               float *y, long ldy, long row_begin, long row_end);

/// The integer code orrery_quantized_dot_rows and orrery_int8_product run: 2 AVX-512 VNNI, 1 AVX2, 0 portable
/// C — the best the CPU has, chosen at run time, at most the cap.
int orrery_quantized_kernel_level(void);

/// Caps that choice (tests run every path on one machine; benchmarks compare them).
void orrery_quantized_kernel_cap(int level);

/// The same product with float activations x [m × k]: panels of `panel_rows` weight rows are
/// decoded into `panel` (panel_rows·k floats) and multiplied by the sgemm kernel, for many
/// rows at once. Needs orrery_sgemm_supported(); returns −1 when the kernel cannot run.
int orrery_quantized_panel_product(int format, long m, long k, const float *x, const void *weights,
                                   float *y, long ldy, long row_begin, long row_end, float *panel, long panel_rows);

/// The depth an int8 operand is stored with: k rounded up to a multiple of 4.
long orrery_int8_depth(long k);

/// Bytes of n×k int8 weights packed for orrery_int8_product (panels of 16 columns).
long orrery_int8_packed_bytes(long n, long k);

/// Packs row-major int8 weights w [n × k] (one output channel per row).
void orrery_int8_pack(const int8_t *w, long n, long k, int8_t *packed);

/// Quantizes rows of x [m × k] symmetrically per row: q = round(x / s) + 128 with
/// s = max|x| / 127, into q [m × depth] (padding holds 128, zero) and scales [m].
void orrery_int8_quantize_rows(const float *x, long m, long k, uint8_t *q, float *scales);

/// y[i·ldy + j] = a_scales[i]·column_scales[j]·Σ_k (a[i][k] − 128)·w[j][k] (+ bias[j]) for
/// i < m and column_begin ≤ j < column_end; column_sums[j] = Σ_k w[j][k]. Disjoint column
/// ranges that start at multiples of 16 may run on different threads. The code (VNNI, AVX2 or
/// portable C, identical bits) is orrery_quantized_kernel_level()'s.
void orrery_int8_product(long m, long n, long k, const uint8_t *a, const float *a_scales, const int8_t *packed,
                         const int32_t *column_sums, const float *column_scales, const float *bias, float *y, long ldy,
                         long column_begin, long column_end);

#endif
