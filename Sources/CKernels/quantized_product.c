// Products with weight matrices kept in ggml's block encodings (Q4_1, Q8_0), without
// decoding the matrix to float32 first.
//
// Few rows (decode: one token): the activations are quantized per block of 32 to int8 with
// a float scale d and the block's sum s = d·Σq (the Q8 activation block below), and each
// weight block is multiplied in integers: Q4_1 w = dw·q + mw gives
//   Σ w·x ≈ dw·dx·Σ q_w·q_x + mw·s_x,   Q8_0 gives dw·dx·Σ q_w·q_x.
// One weight row is read once for up to four activation rows. This is what llama.cpp does
// (ggml_vec_dot_q4_1_q8_1); the weights, the bytes that bound decoding, stay 4.5 or 8.5 bits.
//
// Many rows (prefill): integer dots cost more instructions per multiply than the float
// kernel, so panels of weight rows are decoded into a small buffer and multiplied by the
// sgemm kernel: the decoding is paid once per panel for all the rows.
//
// AVX2 + FMA + F16C code is chosen at run time (the default build runs it at full speed);
// elsewhere portable C computes the same sums.

#include "CKernels.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define QK 32

/// An activation block: scale, scale × sum of the quantized values, 32 int8 values.
typedef struct {
    float d;
    float s;
    int8_t q[QK];
} block_q8;

_Static_assert(sizeof(block_q8) == ORRERY_Q8_BLOCK_BYTES, "activation block layout");

static float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exponent = (h >> 10) & 0x1F, mantissa = h & 0x3FF, bits;
    if (exponent == 0) {
        if (mantissa == 0) {
            bits = sign;
        } else {  // subnormal: normalize
            exponent = 127 - 15 + 1;
            while (!(mantissa & 0x400)) { mantissa <<= 1; exponent--; }
            bits = sign | (exponent << 23) | ((mantissa & 0x3FF) << 13);
        }
    } else if (exponent == 31) {
        bits = sign | 0x7F800000 | (mantissa << 13);
    } else {
        bits = sign | ((exponent - 15 + 127) << 23) | (mantissa << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static inline uint16_t load_u16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }

long orrery_block_bytes(int format) {
    switch (format) {
    case ORRERY_FORMAT_Q4_1: return 20;
    case ORRERY_FORMAT_Q8_0: return 34;
    default: return 0;
    }
}

void orrery_dequantize_blocks(int format, const void *source, long blocks, float *target) {
    const uint8_t *bytes = source;
    for (long b = 0; b < blocks; b++) {
        float *out = target + b * QK;
        if (format == ORRERY_FORMAT_Q4_1) {
            const uint8_t *block = bytes + b * 20;
            float d = half_to_float(load_u16(block)), m = half_to_float(load_u16(block + 2));
            for (int j = 0; j < QK / 2; j++) {
                out[j] = (float)(block[4 + j] & 0x0F) * d + m;
                out[j + QK / 2] = (float)(block[4 + j] >> 4) * d + m;
            }
        } else {
            const uint8_t *block = bytes + b * 34;
            float d = half_to_float(load_u16(block));
            const int8_t *q = (const int8_t *)(block + 2);
            for (int j = 0; j < QK; j++) out[j] = (float)q[j] * d;
        }
    }
}

static void quantize_block_portable(const float *v, block_q8 *block) {
    float amax = 0;
    for (int j = 0; j < QK; j++) amax = fmaxf(amax, fabsf(v[j]));
    float d = amax / 127.0f, id = d > 0 ? 1.0f / d : 0.0f;
    int sum = 0;
    for (int j = 0; j < QK; j++) {
        int q = (int)nearbyintf(v[j] * id);  // to nearest, ties to even, as the AVX2 code rounds
        block->q[j] = (int8_t)q;
        sum += q;
    }
    block->d = d;
    block->s = d * (float)sum;
}

/// Portable dots of weight row w with `count` activation rows (xstride blocks apart).
static void dot_rows_portable(int format, const uint8_t *w, const block_q8 *x, long blocks, long xstride, int count, float *out) {
    for (int r = 0; r < count; r++) {
        float total = 0;
        for (long b = 0; b < blocks; b++) {
            const block_q8 *xb = x + r * xstride + b;
            int dot = 0;
            if (format == ORRERY_FORMAT_Q4_1) {
                const uint8_t *wb = w + b * 20;
                for (int j = 0; j < QK / 2; j++) dot += (wb[4 + j] & 0x0F) * xb->q[j] + (wb[4 + j] >> 4) * xb->q[j + QK / 2];
                total += half_to_float(load_u16(wb)) * xb->d * (float)dot + half_to_float(load_u16(wb + 2)) * xb->s;
            } else {
                const uint8_t *wb = w + b * 34;
                const int8_t *q = (const int8_t *)(wb + 2);
                for (int j = 0; j < QK; j++) dot += q[j] * xb->q[j];
                total += half_to_float(load_u16(wb)) * xb->d * (float)dot;
            }
        }
        out[r] = total;
    }
}

static void dot_rows_portable_all(int format, long m, long blocks, const block_q8 *x, const uint8_t *weights, long row_bytes,
                                  float *y, long ldy, long row_begin, long row_end) {
    for (long j = row_begin; j < row_end; j++)
        for (long i = 0; i < m; i++) dot_rows_portable(format, weights + j * row_bytes, x + i * blocks, blocks, blocks, 1, y + i * ldy + j);
}

#if defined(__x86_64__)
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2,fma,f16c")))

AVX2 static inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/// Σ u·s over 32 byte pairs (u unsigned, s signed; no pair sum can saturate int16 here),
/// as eight float lanes.
AVX2 static inline __m256 dot_u8_s8(__m256i u, __m256i s) {
    return _mm256_cvtepi32_ps(_mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)));
}

#define VNNI __attribute__((target("avx2,fma,f16c,avx512f,avx512vl,avx512vnni")))

/// The same sums in one instruction (AVX-512 VNNI on 256-bit registers).
VNNI static inline __m256 dot_u8_s8_vnni(__m256i u, __m256i s) {
    return _mm256_cvtepi32_ps(_mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s));
}

// Dots of one weight row with R activation rows (R a constant where the body is inlined),
// two blocks per step into separate accumulators so that the additions of one block do
// not wait for the previous block's. Defined twice: with maddubs (AVX2) and with VNNI.
#define DEFINE_DOT_ROWS(NAME, TARGET, DOT)                                                                         \
    TARGET static inline __attribute__((always_inline)) void NAME##_body(                                         \
        int format, const uint8_t *w, const block_q8 *x, long blocks, long xstride, int R, float *out) {          \
        __m256 acc[2][4];                                                                                          \
        float mins[2][4] = {{0}};                                                                                  \
        for (int h = 0; h < 2; h++)                                                                                \
            for (int r = 0; r < 4; r++) acc[h][r] = _mm256_setzero_ps();                                          \
        const __m256i low = _mm256_set1_epi8(0x0F);                                                               \
        for (long b = 0; b < blocks; b++) {                                                                        \
            int h = (int)(b & 1);                                                                                  \
            if (format == ORRERY_FORMAT_Q4_1) {                                                                    \
                const uint8_t *wb = w + b * 20;                                                                    \
                float dw = _cvtsh_ss(load_u16(wb)), mw = _cvtsh_ss(load_u16(wb + 2));                              \
                __m128i raw = _mm_loadu_si128((const __m128i *)(wb + 4));                                          \
                __m256i q = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(raw, 4), raw), low);                  \
                for (int r = 0; r < R; r++) {                                                                      \
                    const block_q8 *xb = x + r * xstride + b;                                                      \
                    __m256 p = DOT(q, _mm256_loadu_si256((const __m256i *)xb->q));                                  \
                    acc[h][r] = _mm256_fmadd_ps(_mm256_set1_ps(dw * xb->d), p, acc[h][r]);                         \
                    mins[h][r] += mw * xb->s;                                                                      \
                }                                                                                                  \
            } else {                                                                                               \
                const uint8_t *wb = w + b * 34;                                                                    \
                float dw = _cvtsh_ss(load_u16(wb));                                                                \
                __m256i q = _mm256_loadu_si256((const __m256i *)(wb + 2));                                         \
                __m256i magnitude = _mm256_sign_epi8(q, q);                                                        \
                for (int r = 0; r < R; r++) {                                                                      \
                    const block_q8 *xb = x + r * xstride + b;                                                      \
                    /* |w| · (x with w's sign): unsigned × signed, the same products. */                          \
                    __m256 p = DOT(magnitude, _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)xb->q), q));    \
                    acc[h][r] = _mm256_fmadd_ps(_mm256_set1_ps(dw * xb->d), p, acc[h][r]);                         \
                }                                                                                                  \
            }                                                                                                      \
        }                                                                                                          \
        for (int r = 0; r < R; r++) out[r] = hsum(_mm256_add_ps(acc[0][r], acc[1][r])) + (mins[0][r] + mins[1][r]); \
    }                                                                                                              \
    TARGET static void NAME(int format, long m, long blocks, const block_q8 *x, const uint8_t *weights, long row_bytes, \
                            float *y, long ldy, long row_begin, long row_end) {                                    \
        float out[4];                                                                                              \
        for (long j = row_begin; j < row_end; j++) {                                                               \
            const uint8_t *w = weights + j * row_bytes;                                                            \
            if (m == 1) {                                                                                          \
                NAME##_body(format, w, x, blocks, blocks, 1, y + j);                                               \
                continue;                                                                                          \
            }                                                                                                      \
            for (long i = 0; i < m; i += 4) {                                                                      \
                int count = m - i < 4 ? (int)(m - i) : 4;                                                          \
                const block_q8 *xi = x + i * blocks;                                                               \
                switch (count) {                                                                                   \
                case 4: NAME##_body(format, w, xi, blocks, blocks, 4, out); break;                                 \
                case 3: NAME##_body(format, w, xi, blocks, blocks, 3, out); break;                                 \
                case 2: NAME##_body(format, w, xi, blocks, blocks, 2, out); break;                                 \
                default: NAME##_body(format, w, xi, blocks, blocks, 1, out); break;                                \
                }                                                                                                  \
                for (int r = 0; r < count; r++) y[(i + r) * ldy + j] = out[r];                                     \
            }                                                                                                      \
        }                                                                                                          \
    }

/// quantize_block_portable's result, eight values at a time.
AVX2 static void quantize_block_avx2(const float *v, block_q8 *block) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 x[4], amax = _mm256_setzero_ps();
    for (int i = 0; i < 4; i++) {
        x[i] = _mm256_loadu_ps(v + 8 * i);
        amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign, x[i]));
    }
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(amax), _mm256_extractf128_ps(amax, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    float d = _mm_cvtss_f32(m) / 127.0f, id = d > 0 ? 1.0f / d : 0.0f;
    __m256i q[4];
    for (int i = 0; i < 4; i++)
        q[i] = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(x[i], _mm256_set1_ps(id)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    __m256i sum = _mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3]));
    __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(sum), _mm256_extracti128_si256(sum, 1));
    s4 = _mm_hadd_epi32(s4, s4);
    s4 = _mm_hadd_epi32(s4, s4);
    // Pack 32-bit → 16-bit → 8-bit; the packs interleave 128-bit lanes, the permute undoes it.
    __m256i packed = _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
    packed = _mm256_permutevar8x32_epi32(packed, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256((__m256i *)block->q, packed);
    block->d = d;
    block->s = d * (float)_mm_cvtsi128_si32(s4);
}

DEFINE_DOT_ROWS(dot_rows_avx2, AVX2, dot_u8_s8)
DEFINE_DOT_ROWS(dot_rows_vnni, VNNI, dot_u8_s8_vnni)

#endif

static _Atomic int level_cap = 2;

int orrery_quantized_kernel_level(void) {
    int available = orrery_cpu_has_vnni() ? 2 : orrery_cpu_has_avx2() ? 1 : 0;
    return available < level_cap ? available : level_cap;
}

void orrery_quantized_kernel_cap(int level) { level_cap = level; }

void orrery_quantize_rows_q8(const float *x, long rows, long k, void *target) {
    block_q8 *out = target;
    long blocks = k / QK;
    void (*quantize)(const float *, block_q8 *) = quantize_block_portable;
#if defined(__x86_64__)
    if (orrery_quantized_kernel_level() >= 1) quantize = quantize_block_avx2;
#endif
    for (long r = 0; r < rows; r++)
        for (long b = 0; b < blocks; b++) quantize(x + r * k + b * QK, out + r * blocks + b);
}


void orrery_quantized_dot_rows(int format, long m, long k, const void *activations, const void *weights,
                               float *y, long ldy, long row_begin, long row_end) {
    long blocks = k / QK, row_bytes = blocks * orrery_block_bytes(format);
    void (*rows)(int, long, long, const block_q8 *, const uint8_t *, long, float *, long, long, long) = dot_rows_portable_all;
#if defined(__x86_64__)
    int level = orrery_quantized_kernel_level();
    if (level >= 2) rows = dot_rows_vnni;
    else if (level == 1) rows = dot_rows_avx2;
#endif
    rows(format, m, blocks, activations, weights, row_bytes, y, ldy, row_begin, row_end);
}

int orrery_quantized_panel_product(int format, long m, long k, const float *x, const void *weights,
                                   float *y, long ldy, long row_begin, long row_end, float *panel, long panel_rows) {
    long blocks = k / QK, row_bytes = blocks * orrery_block_bytes(format);
    for (long j = row_begin; j < row_end; j += panel_rows) {
        long rows = row_end - j < panel_rows ? row_end - j : panel_rows;
        orrery_dequantize_blocks(format, (const uint8_t *)weights + j * row_bytes, rows * blocks, panel);
        // y[:, j..<j+rows] = x · panelᵀ: the panel is op(B)'s columns, read transposed.
        if (orrery_sgemm_columns(0, 1, m, k, x, k, panel, k, y + j, ldy, 0, 0, rows) != 0) return -1;
    }
    return 0;
}
