// Orrery's own single-precision matrix product for AVX2 + FMA, in the BLIS layout:
// columns in chunks of NC, the depth in chunks of KC, rows in blocks of MC, and a 6×16
// register tile (12 accumulators, two B vectors, one broadcast of A: 15 of the 16 ymm
// registers) in the innermost loop.
//
// Why not OpenBLAS alone: on the products a training step is made of (a few hundred rows
// and columns) OpenBLAS 0.3.21 ran 4–19% slower than this kernel on one core here, and 256³
// at 87 GFLOP/s against 95. This kernel packs only B (and A when it is transposed, where
// every k step would otherwise touch a new page) and reads A's rows in place. For large
// products OpenBLAS, which packs A as well, wins; the caller chooses
// (Tensor/Kernels/TiledProduct.swift). Block sizes were measured here: NC = 1024 cost 8–10%
// on the encoder's 512×1152×384 product against NC = 512.
//
// Each element of C is summed over k in one fixed order, whatever the column range a call
// is given, so splitting the columns between threads never changes a result.

#include "CKernels.h"

#if defined(__x86_64__)

#include <immintrin.h>
#include <stdlib.h>

#define MR 6
#define NR 16
#define KC 256
#define MC 120
#define NC 512

#define AVX2 __attribute__((target("avx2,fma")))

int orrery_sgemm_supported(void) {
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

/// Transposes the 8×8 block at src (rows ldb apart) into dst (rows NR apart).
AVX2 static inline void transpose_8x8(const float *src, long ldb, float *dst) {
    __m256 r0 = _mm256_loadu_ps(src), r1 = _mm256_loadu_ps(src + ldb), r2 = _mm256_loadu_ps(src + 2 * ldb),
           r3 = _mm256_loadu_ps(src + 3 * ldb), r4 = _mm256_loadu_ps(src + 4 * ldb), r5 = _mm256_loadu_ps(src + 5 * ldb),
           r6 = _mm256_loadu_ps(src + 6 * ldb), r7 = _mm256_loadu_ps(src + 7 * ldb);
    __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1), t2 = _mm256_unpacklo_ps(r2, r3),
           t3 = _mm256_unpackhi_ps(r2, r3), t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5),
           t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
    __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE), s2 = _mm256_shuffle_ps(t1, t3, 0x44),
           s3 = _mm256_shuffle_ps(t1, t3, 0xEE), s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE),
           s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    _mm256_store_ps(dst + 0 * NR, _mm256_permute2f128_ps(s0, s4, 0x20));
    _mm256_store_ps(dst + 1 * NR, _mm256_permute2f128_ps(s1, s5, 0x20));
    _mm256_store_ps(dst + 2 * NR, _mm256_permute2f128_ps(s2, s6, 0x20));
    _mm256_store_ps(dst + 3 * NR, _mm256_permute2f128_ps(s3, s7, 0x20));
    _mm256_store_ps(dst + 4 * NR, _mm256_permute2f128_ps(s0, s4, 0x31));
    _mm256_store_ps(dst + 5 * NR, _mm256_permute2f128_ps(s1, s5, 0x31));
    _mm256_store_ps(dst + 6 * NR, _mm256_permute2f128_ps(s2, s6, 0x31));
    _mm256_store_ps(dst + 7 * NR, _mm256_permute2f128_ps(s3, s7, 0x31));
}

/// Packs op(B)[0..kc, 0..nr] into bp[kc][NR], zero columns past nr. `b` points at
/// op(B)[0, 0]: B[k][j] at b[k·ldb + j], or B[j][k] at b[j·ldb + k] when transposed.
AVX2 static void pack_b(int transposed, long kc, long nr, const float *b, long ldb, float *bp) {
    if (!transposed && nr == NR) {
        for (long kk = 0; kk < kc; kk++) {
            _mm256_store_ps(bp + kk * NR, _mm256_loadu_ps(b + kk * ldb));
            _mm256_store_ps(bp + kk * NR + 8, _mm256_loadu_ps(b + kk * ldb + 8));
        }
        return;
    }
    long kk = 0;
    if (transposed && nr == NR) {
        for (; kk + 8 <= kc; kk += 8) {
            transpose_8x8(b + kk, ldb, bp + kk * NR);
            transpose_8x8(b + 8 * ldb + kk, ldb, bp + kk * NR + 8);
        }
    }
    for (; kk < kc; kk++) {
        for (long jj = 0; jj < NR; jj++) {
            bp[kk * NR + jj] = jj >= nr ? 0 : transposed ? b[jj * ldb + kk] : b[kk * ldb + jj];
        }
    }
}

/// Packs rows of op(A) = Aᵀ (A is k×m, rows lda apart; `a` at op(A)[0, 0]) into tiles of
/// MR rows, ap[tile][kk][MR], zero rows past `rows`. Read in place, each of the kernel's
/// k steps would touch a new page. Each step is one masked load (lanes past the tile's
/// rows read nothing and give zeros) and one 8-float store whose last 2 floats the next
/// step, or the next tile, overwrites: `ap` needs 8 floats of slack at its end.
AVX2 static void pack_a_transposed(long kc, long rows, const float *a, long lda, float *ap) {
    for (long t = 0; t * MR < rows; t++) {
        long r = rows - t * MR < MR ? rows - t * MR : MR;
        __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)r), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        const float *src = a + t * MR;
        float *dst = ap + t * kc * MR;
        for (long kk = 0; kk < kc; kk++) _mm256_storeu_ps(dst + kk * MR, _mm256_maskload_ps(src + kk * lda, mask));
    }
}

#define FMA_ROW(i, address)                                                  \
    {                                                                        \
        __m256 av = _mm256_broadcast_ss(address);                            \
        c##i##0 = _mm256_fmadd_ps(av, b0, c##i##0);                          \
        c##i##1 = _mm256_fmadd_ps(av, b1, c##i##1);                          \
    }

/// The 6×16 tile C[0..mr, 0..nr] (+)= A-tile · bp over kc steps. With `packed_a` the rows
/// come from a packed tile (ap[kk][MR]); otherwise from A's rows in place, lda apart, and
/// rows past mr repeat row 0 (computed and dropped, never read out of bounds).
AVX2 static inline __attribute__((always_inline)) void tile(
    int packed_a, long kc, const float *a, long lda, const float *bp, float *c, long ldc, long mr, long nr, int accumulate) {
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00,
           c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    if (packed_a) {
#pragma clang loop unroll_count(4)
        for (long kk = 0; kk < kc; kk++) {
            const float *ak = a + kk * MR;
            __m256 b0 = _mm256_load_ps(bp + kk * NR), b1 = _mm256_load_ps(bp + kk * NR + 8);
            FMA_ROW(0, ak) FMA_ROW(1, ak + 1) FMA_ROW(2, ak + 2) FMA_ROW(3, ak + 3) FMA_ROW(4, ak + 4) FMA_ROW(5, ak + 5)
        }
    } else {
        const float *a0 = a, *a1 = a + (mr > 1 ? lda : 0), *a2 = a + (mr > 2 ? 2 * lda : 0),
                    *a3 = a + (mr > 3 ? 3 * lda : 0), *a4 = a + (mr > 4 ? 4 * lda : 0), *a5 = a + (mr > 5 ? 5 * lda : 0);
#pragma clang loop unroll_count(4)
        for (long kk = 0; kk < kc; kk++) {
            __m256 b0 = _mm256_load_ps(bp + kk * NR), b1 = _mm256_load_ps(bp + kk * NR + 8);
            FMA_ROW(0, a0 + kk) FMA_ROW(1, a1 + kk) FMA_ROW(2, a2 + kk) FMA_ROW(3, a3 + kk) FMA_ROW(4, a4 + kk) FMA_ROW(5, a5 + kk)
        }
    }
    __m256 rows[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
    for (long i = 0; i < mr; i++) {
        float *ci = c + i * ldc;
        if (nr == NR) {
            __m256 r0 = rows[i][0], r1 = rows[i][1];
            if (accumulate) {
                r0 = _mm256_add_ps(r0, _mm256_loadu_ps(ci));
                r1 = _mm256_add_ps(r1, _mm256_loadu_ps(ci + 8));
            }
            _mm256_storeu_ps(ci, r0);
            _mm256_storeu_ps(ci + 8, r1);
        } else {
            float values[NR] __attribute__((aligned(32)));
            _mm256_store_ps(values, rows[i][0]);
            _mm256_store_ps(values + 8, rows[i][1]);
            for (long j = 0; j < nr; j++) ci[j] = accumulate ? ci[j] + values[j] : values[j];
        }
    }
}

AVX2 static void product(int transpose_a, int transpose_b, long m, long k, const float *a, long lda,
                         const float *b, long ldb, float *c, long ldc, int accumulate,
                         long column_begin, long column_end, float *b_pack, float *a_pack) {
    for (long jc = column_begin; jc < column_end; jc += NC) {
        long nc = column_end - jc < NC ? column_end - jc : NC;
        long panels = (nc + NR - 1) / NR;
        for (long k0 = 0; k0 < k; k0 += KC) {
            long kc = k - k0 < KC ? k - k0 : KC;
            int add = accumulate || k0 > 0;
            for (long p = 0; p < panels; p++) {
                long j0 = jc + p * NR, nr = jc + nc - j0 < NR ? jc + nc - j0 : NR;
                pack_b(transpose_b, kc, nr, transpose_b ? b + j0 * ldb + k0 : b + k0 * ldb + j0, ldb, b_pack + p * kc * NR);
            }
            for (long ib = 0; ib < m; ib += MC) {
                long ie = m - ib < MC ? m : ib + MC;
                if (transpose_a) pack_a_transposed(kc, ie - ib, a + k0 * lda + ib, lda, a_pack);
                for (long p = 0; p < panels; p++) {
                    long j0 = jc + p * NR, nr = jc + nc - j0 < NR ? jc + nc - j0 : NR;
                    const float *bp = b_pack + p * kc * NR;
                    for (long i0 = ib; i0 < ie; i0 += MR) {
                        long mr = ie - i0 < MR ? ie - i0 : MR;
                        float *ct = c + i0 * ldc + j0;
                        if (transpose_a) tile(1, kc, a_pack + (i0 - ib) * kc, MR, bp, ct, ldc, mr, nr, add);
                        else tile(0, kc, a + i0 * lda + k0, lda, bp, ct, ldc, mr, nr, add);
                    }
                }
            }
        }
    }
}

int orrery_sgemm_columns(int transpose_a, int transpose_b, long m, long k, const float *a, long lda,
                         const float *b, long ldb, float *c, long ldc, int accumulate,
                         long column_begin, long column_end) {
    if (m <= 0 || column_end <= column_begin) return 0;
    long width = column_end - column_begin < NC ? column_end - column_begin : NC;
    long b_floats = (width + NR - 1) / NR * NR * KC, a_floats = transpose_a ? (MC + MR) * KC + 16 : 0;
    float *work = aligned_alloc(64, (size_t)(b_floats + a_floats) * sizeof(float));
    if (!work) return -1;
    product(transpose_a, transpose_b, m, k, a, lda, b, ldb, c, ldc, accumulate, column_begin, column_end, work, work + b_floats);
    free(work);
    return 0;
}

#else  // Not x86-64: the caller sees no support and uses OpenBLAS for every product.

int orrery_sgemm_supported(void) { return 0; }

int orrery_sgemm_columns(int transpose_a, int transpose_b, long m, long k, const float *a, long lda,
                         const float *b, long ldb, float *c, long ldc, int accumulate,
                         long column_begin, long column_end) {
    return -1;
}

#endif
