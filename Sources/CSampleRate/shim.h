// libsamplerate (Secret Rabbit Code): band-limited sinc sample-rate conversion.
#ifndef CSAMPLERATE_SHIM_H
#define CSAMPLERATE_SHIM_H
#include <samplerate.h>

static inline int CSampleRate_sinc_best(void) { return SRC_SINC_BEST_QUALITY; }
static inline int CSampleRate_sinc_medium(void) { return SRC_SINC_MEDIUM_QUALITY; }
static inline int CSampleRate_sinc_fastest(void) { return SRC_SINC_FASTEST; }
#endif
