// What this CPU can run, asked once: the kernels choose their code from it at run time, so a
// build for the baseline x86-64 (no -march) still runs AVX2 or VNNI code where it exists.

#include "CKernels.h"

#if defined(__x86_64__)

int orrery_cpu_has_avx2(void) {
    static int cached = -1;
    if (cached < 0) cached = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
    return cached;
}

int orrery_cpu_has_vnni(void) {
    static int cached = -1;
    if (cached < 0) cached = orrery_cpu_has_avx2() && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
    return cached;
}

#else

int orrery_cpu_has_avx2(void) { return 0; }
int orrery_cpu_has_vnni(void) { return 0; }

#endif
