// OpenBLAS through its CBLAS interface: the network's matrix products.
#ifndef CBLAS_SHIM_H
#define CBLAS_SHIM_H
#include <cblas.h>
#include <stdlib.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

static inline int CBLAS_row_major(void) { return CblasRowMajor; }
static inline int CBLAS_no_trans(void) { return CblasNoTrans; }
static inline int CBLAS_trans(void) { return CblasTrans; }

/// Row-major single-precision GEMM, C = alpha * op(A) * op(B) + beta * C, with the transposes as plain flags
/// (non-zero = transpose), so that Swift never handles the CBLAS enum types.
static inline void CBLAS_sgemm_row_major(int transA, int transB, int m, int n, int k, float alpha,
                                         const float *a, int lda, const float *b, int ldb, float beta,
                                         float *c, int ldc) {
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

/// OpenBLAS's worker-thread count for subsequent calls (process-wide).
static inline void CBLAS_set_threads(int threads) { openblas_set_num_threads(threads); }
static inline int CBLAS_get_threads(void) { return openblas_get_num_threads(); }
/// The CPU kernel family OpenBLAS is using (e.g. "SkylakeX"), a static string.
static inline const char *CBLAS_core_name(void) { return openblas_get_corename(); }

/// OpenBLAS's runtime kernel selection (exported only by DYNAMIC_ARCH builds such as Debian's; weak, so that the
/// module still links against builds without it, where the addresses are NULL).
extern void gotoblas_dynamic_init(void) __attribute__((weak));
extern void gotoblas_dynamic_quit(void) __attribute__((weak));

/// The widest vector instruction set this CPU and OS support, for choosing OpenBLAS kernels:
/// 2 = AVX-512 F/DQ/BW/VL with the OS saving the ZMM state, 1 = AVX2 + FMA with the OS saving the YMM state,
/// 0 = neither (or not x86-64).
static inline int CBLAS_cpu_vector_level(void) {
#if defined(__x86_64__)
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    if (!((c >> 27) & 1) || !((c >> 28) & 1)) return 0; /* OSXSAVE, AVX */
    unsigned xcr0_lo, xcr0_hi;
    __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
    if ((xcr0_lo & 0x6) != 0x6) return 0; /* XMM and YMM state */
    int fma = (c >> 12) & 1;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    int avx2 = (b >> 5) & 1;
    int avx512 = ((b >> 16) & 1) && ((b >> 17) & 1) && ((b >> 30) & 1) && ((b >> 31) & 1);
    if (avx512 && (xcr0_lo & 0xE0) == 0xE0) return 2; /* opmask, ZMM_Hi256, Hi16_ZMM state */
    if (avx2 && fma) return 1;
#endif
    return 0;
}

/// Re-runs OpenBLAS's kernel selection as if `OPENBLAS_CORETYPE=coretype` had been set when the library loaded
/// (the variable is set only for the duration of the call). Returns 1 when done, 0 when this OpenBLAS build has
/// no runtime selection or the user set OPENBLAS_CORETYPE. Call before any other thread uses BLAS.
static inline int CBLAS_reselect_core(const char *coretype) {
    if (!gotoblas_dynamic_init || !gotoblas_dynamic_quit) return 0;
    if (getenv("OPENBLAS_CORETYPE")) return 0; /* the user chose explicitly */
    setenv("OPENBLAS_CORETYPE", coretype, 1);
    gotoblas_dynamic_quit();
    gotoblas_dynamic_init();
    unsetenv("OPENBLAS_CORETYPE");
    return 1;
}
#endif
