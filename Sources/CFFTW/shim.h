// FFTW 3, single precision (fftwf_*): the STFT's transforms (complex FFTs of real frame pairs; r2c for benchmarks).
#ifndef CFFTW_SHIM_H
#define CFFTW_SHIM_H
#include <fftw3.h>

static inline unsigned CFFTW_flag_estimate(void) { return FFTW_ESTIMATE; }
static inline unsigned CFFTW_flag_measure(void) { return FFTW_MEASURE; }
static inline unsigned CFFTW_flag_patient(void) { return FFTW_PATIENT; }
static inline unsigned CFFTW_flag_preserve_input(void) { return FFTW_PRESERVE_INPUT; }
static inline unsigned CFFTW_flag_destroy_input(void) { return FFTW_DESTROY_INPUT; }
/* Direction of fftwf_plan_dft_1d (Spectral transforms real frame pairs with one complex FFT). */
static inline int CFFTW_forward(void) { return FFTW_FORWARD; }
#endif
