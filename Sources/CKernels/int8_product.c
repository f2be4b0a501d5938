// The int8 product of the engine's own models: y = x · Wᵀ (+ b) with W quantized per
// output channel (w = s_j·q, q in −127…127) once, and x quantized per row at run time
// (x = s_i·q). The sums are exact in int32; the scales are applied once per output.
//
// AVX-512 VNNI multiplies unsigned by signed bytes, four pairs per 32-bit lane in one
// instruction (vpdpbusd), so activations are stored offset by 128 (0…254) and the offset is
// taken out with each weight row's sum: Σ (q_x + 128)·q_w − 128·Σ q_w. The register tile is
// 6 rows × 16 columns (12 accumulators, two weight vectors, one broadcast), as in sgemm.c;
// weights are packed once into panels of 16 columns × 4 depths per 64 bytes.
//
// AVX2 has no such instruction; its byte product (vpmaddubsw) saturates 16-bit pair sums,
// which 254·127·2 would overflow. So it centres the activations (q_x = byte − 128, within
// ±127) and multiplies |q_w| by q_x carrying q_w's sign, as llama.cpp does: a pair sum is at
// most 2·127² = 32,258, exact, then widened to 32 bits (vpmaddwd by ones) — the same four
// depths per 32-bit lane as dpbusd, from the same panels, with a 4 × 16 tile.
//
// Portable C computes the same integer sums and applies the scales with the same float
// operations (no fused multiply-add: -ffp-contract=off), so both give identical bits.

#include "CKernels.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#define MR 6
#define NR 16
#define MC 96

long orrery_int8_depth(long k) { return (k + 3) / 4 * 4; }

long orrery_int8_packed_bytes(long n, long k) { return (n + NR - 1) / NR * NR * orrery_int8_depth(k); }

void orrery_int8_pack(const int8_t *w, long n, long k, int8_t *packed) {
    long depth = orrery_int8_depth(k), panels = (n + NR - 1) / NR;
    memset(packed, 0, (size_t)orrery_int8_packed_bytes(n, k));
    for (long p = 0; p < panels; p++)
        for (long g = 0; g < depth / 4; g++)
            for (int c = 0; c < NR; c++) {
                long j = p * NR + c;
                if (j >= n) continue;
                // Columns 0–7 of the panel fill the first 32 bytes of the group, 8–15 the next.
                int8_t *out = packed + (p * (depth / 4) + g) * 64 + (c / 8) * 32 + (c % 8) * 4;
                for (int t = 0; t < 4; t++) out[t] = 4 * g + t < k ? w[j * k + 4 * g + t] : 0;
            }
}

/// y for one output from its exact centred sum Σ q_x·q_w: the same float operations in every path.
static inline float finish(int32_t sum, float row_scale, float column_scale, const float *bias, long j) {
    float value = (float)sum * (row_scale * column_scale);
    return bias ? value + bias[j] : value;
}

static void product_portable(long m, long n, long depth, const uint8_t *a, const float *a_scales, const int8_t *packed,
                             const int32_t *column_sums, const float *column_scales, const float *bias, float *y, long ldy,
                             long column_begin, long column_end) {
    for (long i = 0; i < m; i++)
        for (long j = column_begin; j < column_end; j++) {
            const int8_t *panel = packed + (j / NR) * (depth / 4) * 64 + ((j % NR) / 8) * 32 + (j % 8) * 4;
            int32_t sum = 0;
            for (long g = 0; g < depth / 4; g++)
                for (int t = 0; t < 4; t++) sum += (int32_t)a[i * depth + 4 * g + t] * panel[g * 64 + t];
            y[i * ldy + j] = finish(sum - 128 * column_sums[j], a_scales[i], column_scales[j], bias, j);
        }
}

#if defined(__x86_64__)
#include <immintrin.h>

#define VNNI __attribute__((target("avx2,fma,avx512f,avx512vl,avx512vnni")))

/// One R×16 tile (R ≤ 6, a constant where this is inlined) over the whole depth.
VNNI static inline __attribute__((always_inline)) void tile_rows(
    int R, long depth, const uint8_t *a, const float *a_scales, const int8_t *panel, const int32_t *column_sums,
    const float *column_scales, const float *bias, float *y, long ldy, long j0, long columns) {
    __m256i acc[MR][2];
    for (int r = 0; r < R; r++) acc[r][0] = acc[r][1] = _mm256_setzero_si256();
    for (long g = 0; g < depth / 4; g++) {
        __m256i b0 = _mm256_loadu_si256((const __m256i *)(panel + g * 64));
        __m256i b1 = _mm256_loadu_si256((const __m256i *)(panel + g * 64 + 32));
        for (int r = 0; r < R; r++) {
            int32_t four;
            memcpy(&four, a + r * depth + 4 * g, 4);
            __m256i av = _mm256_set1_epi32(four);
            acc[r][0] = _mm256_dpbusd_epi32(acc[r][0], av, b0);
            acc[r][1] = _mm256_dpbusd_epi32(acc[r][1], av, b1);
        }
    }
    for (int r = 0; r < R; r++) {
        int32_t sums[NR];
        _mm256_storeu_si256((__m256i *)sums, acc[r][0]);
        _mm256_storeu_si256((__m256i *)(sums + 8), acc[r][1]);
        for (long c = 0; c < columns; c++)
            y[r * ldy + j0 + c] = finish(sums[c] - 128 * column_sums[j0 + c], a_scales[r], column_scales[j0 + c], bias, j0 + c);
    }
}

#define AVX2 __attribute__((target("avx2,fma")))
#define MR_AVX2 4

/// The AVX2 R×16 tile (R ≤ 4): 8 accumulators, the panel's two weight vectors and their
/// magnitudes, one broadcast — within the 16 registers.
AVX2 static inline __attribute__((always_inline)) void tile_rows_avx2(
    int R, long depth, const uint8_t *a, const float *a_scales, const int8_t *panel, const int32_t *column_sums,
    const float *column_scales, const float *bias, float *y, long ldy, long j0, long columns) {
    __m256i acc[MR_AVX2][2];
    const __m256i ones = _mm256_set1_epi16(1), centre = _mm256_set1_epi8((char)0x80);
    for (int r = 0; r < R; r++) acc[r][0] = acc[r][1] = _mm256_setzero_si256();
    for (long g = 0; g < depth / 4; g++) {
        __m256i b0 = _mm256_loadu_si256((const __m256i *)(panel + g * 64));
        __m256i b1 = _mm256_loadu_si256((const __m256i *)(panel + g * 64 + 32));
        __m256i m0 = _mm256_abs_epi8(b0), m1 = _mm256_abs_epi8(b1);
        for (int r = 0; r < R; r++) {
            int32_t four;
            memcpy(&four, a + r * depth + 4 * g, 4);
            __m256i av = _mm256_xor_si256(_mm256_set1_epi32(four), centre);  // byte − 128 as a signed byte
            acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(_mm256_maddubs_epi16(m0, _mm256_sign_epi8(av, b0)), ones));
            acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(_mm256_maddubs_epi16(m1, _mm256_sign_epi8(av, b1)), ones));
        }
    }
    (void)column_sums;
    for (int r = 0; r < R; r++) {
        int32_t sums[NR];
        _mm256_storeu_si256((__m256i *)sums, acc[r][0]);
        _mm256_storeu_si256((__m256i *)(sums + 8), acc[r][1]);
        for (long c = 0; c < columns; c++)
            y[r * ldy + j0 + c] = finish(sums[c], a_scales[r], column_scales[j0 + c], bias, j0 + c);
    }
}

AVX2 static void tile_avx2(long rows, long depth, const uint8_t *a, const float *a_scales, const int8_t *panel,
                           const int32_t *column_sums, const float *column_scales, const float *bias, float *y, long ldy,
                           long j0, long columns) {
    switch (rows) {
    case 4: tile_rows_avx2(4, depth, a, a_scales, panel, column_sums, column_scales, bias, y, ldy, j0, columns); break;
    case 3: tile_rows_avx2(3, depth, a, a_scales, panel, column_sums, column_scales, bias, y, ldy, j0, columns); break;
    case 2: tile_rows_avx2(2, depth, a, a_scales, panel, column_sums, column_scales, bias, y, ldy, j0, columns); break;
    default: tile_rows_avx2(1, depth, a, a_scales, panel, column_sums, column_scales, bias, y, ldy, j0, columns); break;
    }
}

/// A tile of `rows` rows: a batch of one (decoding, latency) does one row's work, not six.
VNNI static void tile_vnni(long rows, long depth, const uint8_t *a, const float *a_scales, const int8_t *panel,
                      const int32_t *column_sums, const float *column_scales, const float *bias, float *y, long ldy,
                      long j0, long columns) {
    switch (rows) {
    case 6: tile_rows(6, depth, a, a_scales, panel, column_sums, column_scales, bias, y, ldy, j0, columns); break;
    case 5: tile_rows(5, depth, a, a_scales, panel, column_sums, column_scales, bias, y, ldy, j0, columns); break;
    case 4: tile_rows(4, depth, a, a_scales, panel, column_sums, column_scales, bias, y, ldy, j0, columns); break;
    case 3: tile_rows(3, depth, a, a_scales, panel, column_sums, column_scales, bias, y, ldy, j0, columns); break;
    case 2: tile_rows(2, depth, a, a_scales, panel, column_sums, column_scales, bias, y, ldy, j0, columns); break;
    default: tile_rows(1, depth, a, a_scales, panel, column_sums, column_scales, bias, y, ldy, j0, columns); break;
    }
}

/// The blocked loop around a tile of at most `MR_` rows, for each instruction set.
#define DEFINE_PRODUCT(name, TARGET, tile_fn, MR_)                                                                      \
    TARGET static void name(long m, long n, long depth, const uint8_t *a, const float *a_scales, const int8_t *packed,   \
                            const int32_t *column_sums, const float *column_scales, const float *bias, float *y,        \
                            long ldy, long column_begin, long column_end) {                                             \
        (void)n;                                                                                                        \
        /* Rows in blocks that stay in L2 while every panel of the column range passes them. */                        \
        for (long i0 = 0; i0 < m; i0 += MC) {                                                                           \
            long block = m - i0 < MC ? m - i0 : MC;                                                                     \
            for (long j = column_begin; j < column_end; j += NR) {                                                      \
                long columns = column_end - j < NR ? column_end - j : NR;                                               \
                const int8_t *panel = packed + (j / NR) * (depth / 4) * 64;                                             \
                for (long i = i0; i < i0 + block; i += MR_) {                                                           \
                    long rows = i0 + block - i < MR_ ? i0 + block - i : MR_;                                            \
                    tile_fn(rows, depth, a + i * depth, a_scales + i, panel, column_sums, column_scales, bias,          \
                            y + i * ldy, ldy, j, columns);                                                              \
                }                                                                                                       \
            }                                                                                                           \
        }                                                                                                               \
    }

DEFINE_PRODUCT(product_vnni, VNNI, tile_vnni, MR)
DEFINE_PRODUCT(product_avx2, AVX2, tile_avx2, MR_AVX2)

/// Rounds 32 floats times `inverse` to nearest-even, adds 128 and stores them as bytes.
AVX2 static void quantize_32_avx2(const float *x, float inverse, uint8_t *q) {
    __m256i r[4];
    __m256 scale = _mm256_set1_ps(inverse);
    for (int i = 0; i < 4; i++)
        r[i] = _mm256_add_epi32(_mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x + 8 * i), scale),
                                                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)),
                                _mm256_set1_epi32(128));
    // 32 → 16 → 8 bits (1…255 fits unsigned); the packs interleave 128-bit lanes, the permute undoes it.
    __m256i packed = _mm256_packus_epi16(_mm256_packs_epi32(r[0], r[1]), _mm256_packs_epi32(r[2], r[3]));
    _mm256_storeu_si256((__m256i *)q, _mm256_permutevar8x32_epi32(packed, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
}

AVX2 static float max_abs_avx2(const float *x, long k) {
    __m256 m = _mm256_setzero_ps(), sign = _mm256_set1_ps(-0.0f);
    long t = 0;
    for (; t + 8 <= k; t += 8) m = _mm256_max_ps(m, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + t)));
    float lanes[8], amax = 0;
    _mm256_storeu_ps(lanes, m);
    for (int i = 0; i < 8; i++) amax = lanes[i] > amax ? lanes[i] : amax;
    for (; t < k; t++) amax = (x[t] < 0 ? -x[t] : x[t]) > amax ? (x[t] < 0 ? -x[t] : x[t]) : amax;
    return amax;
}

#endif

void orrery_int8_quantize_rows(const float *x, long m, long k, uint8_t *q, float *scales) {
    long depth = orrery_int8_depth(k);
    int fast = orrery_quantized_kernel_level() >= 1;
    for (long i = 0; i < m; i++) {
        const float *row = x + i * k;
        uint8_t *out = q + i * depth;
        float amax = 0;
        long t = 0;
#if defined(__x86_64__)
        if (fast) amax = max_abs_avx2(row, k);
        else
#endif
            for (long u = 0; u < k; u++) amax = fabsf(row[u]) > amax ? fabsf(row[u]) : amax;
        float scale = amax / 127.0f, inverse = scale > 0 ? 1.0f / scale : 0.0f;
#if defined(__x86_64__)
        if (fast)
            for (; t + 32 <= k; t += 32) quantize_32_avx2(row + t, inverse, out + t);
#endif
        for (; t < k; t++) out[t] = (uint8_t)(nearbyintf(row[t] * inverse) + 128);  // ties to even, as above
        for (t = k; t < depth; t++) out[t] = 128;  // zero after the offset
        scales[i] = scale;
    }
    (void)fast;
}


void orrery_int8_product(long m, long n, long k, const uint8_t *a, const float *a_scales, const int8_t *packed,
                         const int32_t *column_sums, const float *column_scales, const float *bias, float *y, long ldy,
                         long column_begin, long column_end) {
    long depth = orrery_int8_depth(k);
    (void)n;
#if defined(__x86_64__)
    // Column ranges start on panel boundaries so that a panel is never split between calls.
    int level = orrery_quantized_kernel_level();
    if (level >= 1 && column_begin % NR == 0) {
        (level == 2 ? product_vnni : product_avx2)(m, n, depth, a, a_scales, packed, column_sums, column_scales, bias, y,
                                                   ldy, column_begin, column_end);
        return;
    }
#endif
    product_portable(m, n, depth, a, a_scales, packed, column_sums, column_scales, bias, y, ldy, column_begin, column_end);
}
