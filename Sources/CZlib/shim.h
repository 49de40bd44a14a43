// zlib: the deflate streams inside the report's PNG pictures, and their CRC-32.
#ifndef CZLIB_SHIM_H
#define CZLIB_SHIM_H
#include <stddef.h>
#include <zlib.h>

/// zlib's return codes that the Swift checker names.
static inline int CZlib_ok(void) { return Z_OK; }
static inline int CZlib_buffer_error(void) { return Z_BUF_ERROR; }

/// The largest size `CZlib_compress` can produce for `sourceLength` bytes (`compressBound`).
static inline size_t CZlib_compress_bound(size_t sourceLength) { return (size_t)compressBound((uLong)sourceLength); }

/// One-shot zlib stream (RFC 1950: header, deflate data, Adler-32) of `source` at `level` (0...9) into
/// `destination`, whose capacity `*destinationLength` must be at least `CZlib_compress_bound`; on return
/// `*destinationLength` is the stream's length. Returns Z_OK, Z_MEM_ERROR, Z_BUF_ERROR or Z_STREAM_ERROR.
static inline int CZlib_compress(unsigned char *destination, size_t *destinationLength, const unsigned char *source,
                                 size_t sourceLength, int level) {
    uLongf length = (uLongf)*destinationLength;
    int status = compress2(destination, &length, source, (uLong)sourceLength, level);
    *destinationLength = (size_t)length;
    return status;
}

/// Inflates the zlib stream `source` into `destination` (capacity `*destinationLength`, set to the bytes written).
/// Returns Z_OK, Z_MEM_ERROR, Z_BUF_ERROR (destination too small or stream truncated) or Z_DATA_ERROR.
static inline int CZlib_uncompress(unsigned char *destination, size_t *destinationLength, const unsigned char *source,
                                   size_t sourceLength) {
    uLongf length = (uLongf)*destinationLength;
    uLong consumed = (uLong)sourceLength;
    int status = uncompress2(destination, &length, source, &consumed);
    *destinationLength = (size_t)length;
    return status;
}

/// Inflates the raw deflate stream `source` (RFC 1951 without zlib's header and check: zip's method 8) into
/// `destination` (capacity `*destinationLength`, set to the bytes written). Returns Z_STREAM_END when the stream
/// ended, Z_OK or Z_BUF_ERROR when the destination filled first or the stream is truncated, Z_DATA_ERROR,
/// Z_MEM_ERROR. Lengths must fit in 32 bits.
static inline int CZlib_inflate_raw(unsigned char *destination, size_t *destinationLength, const unsigned char *source,
                                    size_t sourceLength) {
    z_stream stream = {0};
    int status = inflateInit2(&stream, -MAX_WBITS);
    if (status != Z_OK) return status;
    stream.next_in = (Bytef *)source;
    stream.avail_in = (uInt)sourceLength;
    stream.next_out = destination;
    stream.avail_out = (uInt)*destinationLength;
    status = inflate(&stream, Z_FINISH);
    *destinationLength = (size_t)stream.total_out;
    inflateEnd(&stream);
    return status;
}

/// zlib's end-of-stream code (Z_STREAM_END).
static inline int CZlib_stream_end(void) { return Z_STREAM_END; }

/// CRC-32 (ISO-HDLC, as in PNG) of `length` bytes, continuing from `crc` (0 to start).
static inline unsigned long CZlib_crc32(unsigned long crc, const unsigned char *bytes, size_t length) {
    return crc32_z(crc, bytes, length);
}

/// zlib's message for a return code (a static string).
static inline const char *CZlib_error_message(int status) { return zError(status); }

/// The zlib version linked at run time, e.g. "1.2.13".
static inline const char *CZlib_version(void) { return zlibVersion(); }

#endif
