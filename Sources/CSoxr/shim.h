// libsoxr: the SoX resampler (the one librosa's default res_type 'soxr_hq' uses through python-soxr).
#ifndef CSOXR_SHIM_H
#define CSOXR_SHIM_H
#include <soxr.h>

static inline unsigned long CSoxr_quality_hq(void) { return SOXR_HQ; }
static inline unsigned long CSoxr_quality_vhq(void) { return SOXR_VHQ; }
static inline unsigned long CSoxr_quality_mq(void) { return SOXR_MQ; }
static inline soxr_datatype_t CSoxr_float32_interleaved(void) { return SOXR_FLOAT32_I; }
#endif
