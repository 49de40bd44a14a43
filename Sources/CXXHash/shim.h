// libxxhash (xxHash by Yann Collet): XXH64, the shard checksum and the content hash of audio and files.
#ifndef CXXHASH_SHIM_H
#define CXXHASH_SHIM_H
#include <stddef.h>
#include <stdint.h>
// The state's layout, so that Swift can hold it by value (no allocation, copyable with the value).
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

/// XXH64's streaming state (a plain struct of integers).
typedef XXH64_state_t CXXHash_state64;

/// Starts `state` over with `seed`. Returns 0, or -1 (XXH_ERROR) for a NULL state.
static inline int CXXHash_xxh64_reset(CXXHash_state64 *state, uint64_t seed) {
    return XXH64_reset(state, seed) == XXH_OK ? 0 : -1;
}

/// Hashes `length` more bytes. Returns 0, or -1 (XXH_ERROR) for a NULL state or NULL bytes with a length.
static inline int CXXHash_xxh64_update(CXXHash_state64 *state, const void *bytes, size_t length) {
    return XXH64_update(state, bytes, length) == XXH_OK ? 0 : -1;
}

/// The hash of everything hashed so far; `state` is not changed (more bytes may follow).
static inline uint64_t CXXHash_xxh64_digest(const CXXHash_state64 *state) { return XXH64_digest(state); }

/// One-shot XXH64 of `length` bytes with `seed`.
static inline uint64_t CXXHash_xxh64(const void *bytes, size_t length, uint64_t seed) {
    return XXH64(bytes, length, seed);
}

/// The library's version as major * 10000 + minor * 100 + release (e.g. 801 for 0.8.1).
static inline unsigned CXXHash_version_number(void) { return XXH_versionNumber(); }

#endif
