// Element loops that Swift's SIMD types do not vectorize: SIMD8<Float>.squareRoot() is
// lowered lane by lane to scalar square roots, which made Adam's update twice as slow as
// PyTorch's fused one. Compiled with -fno-math-errno (so clang emits vector square roots)
// and -ffp-contract=off (no fused multiply-adds), so results match the Swift formula bit
// for bit.
#ifndef ORRERY_CKERNELS_H
#define ORRERY_CKERNELS_H

/// One Adam / AdamW step over `count` weights, in place (w, m, v):
///   w' = w·keep;  g' = g + coupled·w';  m = β₁m + (1−β₁)g';  v = β₂v + (1−β₂)g'g'
///   w = w' − step_size·m / (√(v·inverse_correction2) + ε)
void orrery_adam_update(
    float *w, const float *g, float *m, float *v, long count,
    float keep, float coupled, float beta1, float beta2,
    float step_size, float inverse_correction2, float epsilon);

#endif
