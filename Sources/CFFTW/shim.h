// FFTW 3, single precision (fftwf_*): real-to-complex transforms for the STFT.
#ifndef CFFTW_SHIM_H
#define CFFTW_SHIM_H
#include <fftw3.h>

static inline unsigned CFFTW_flag_estimate(void) { return FFTW_ESTIMATE; }
static inline unsigned CFFTW_flag_measure(void) { return FFTW_MEASURE; }
static inline unsigned CFFTW_flag_patient(void) { return FFTW_PATIENT; }
static inline unsigned CFFTW_flag_preserve_input(void) { return FFTW_PRESERVE_INPUT; }
static inline unsigned CFFTW_flag_destroy_input(void) { return FFTW_DESTROY_INPUT; }
#endif
