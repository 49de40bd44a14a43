// libsndfile: decoding and encoding of audio files (WAV, AU, AIFF, FLAC, Ogg/Vorbis, Opus, MP3).
#ifndef CSNDFILE_SHIM_H
#define CSNDFILE_SHIM_H
#include <sndfile.h>

// Untyped enum values imported as Int by Swift: give them their C type here.
static inline int CSndFile_mode_read(void) { return SFM_READ; }
static inline int CSndFile_mode_write(void) { return SFM_WRITE; }
static inline int CSndFile_format_type_mask(void) { return SF_FORMAT_TYPEMASK; }
static inline int CSndFile_format_subtype_mask(void) { return SF_FORMAT_SUBMASK; }
#endif
