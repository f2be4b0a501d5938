#include "CKernels.h"

void orrery_adam_update(
    float *restrict w, const float *restrict g, float *restrict m, float *restrict v, long count,
    float keep, float coupled, float beta1, float beta2,
    float step_size, float inverse_correction2, float epsilon) {
    const float keep1 = 1 - beta1, keep2 = 1 - beta2;
    for (long i = 0; i < count; i++) {
        float wi = w[i] * keep;
        float gi = g[i] + coupled * wi;
        float mi = beta1 * m[i] + keep1 * gi;
        float vi = beta2 * v[i] + keep2 * gi * gi;
        m[i] = mi;
        v[i] = vi;
        w[i] = wi - step_size * mi / (__builtin_sqrtf(vi * inverse_correction2) + epsilon);
    }
}
