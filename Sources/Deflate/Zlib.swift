internal import CZlib

/// A zlib call that failed: the function, zlib's return code and its message.
public struct ZlibError: Error, CustomStringConvertible, Sendable {
    /// The zlib function, e.g. `compress2`.
    public let function: String
    /// zlib's return code (`Z_MEM_ERROR` = -4, `Z_BUF_ERROR` = -5, `Z_DATA_ERROR` = -3, ...).
    public let code: Int32
    /// zlib's message for `code` (`zError`).
    public let message: String

    public var description: String { "zlib \(function) failed: \(message) (code \(code))" }
}

/// How hard deflate works: zlib's compression levels.
public enum CompressionLevel: Sendable, Hashable {
    /// Level 1: fastest, largest output.
    case fastest
    /// Level 6: zlib's default balance.
    case balanced
    /// Level 9: smallest output, slowest.
    case smallest

    var zlibLevel: Int32 {
        switch self {
        case .fastest: 1
        case .balanced: 6
        case .smallest: 9
        }
    }
}

/// zlib streams (RFC 1950: a 2-byte header, deflate data (RFC 1951), the Adler-32 of the data) and CRC-32, through
/// Debian's zlib.
public enum Zlib {
    /// The zlib stream of `data` at `level` (`compress2`).
    public static func compress(_ data: [UInt8], level: CompressionLevel = .balanced) throws(ZlibError) -> [UInt8] {
        var capacity = CZlib_compress_bound(data.count)
        var output = [UInt8](repeating: 0, count: capacity)
        let status = output.withUnsafeMutableBufferPointer { out in
            data.withUnsafeBufferPointer { input in
                CZlib_compress(out.baseAddress, &capacity, input.baseAddress, input.count, level.zlibLevel)
            }
        }
        try ZlibStatus.check(status, "compress2")
        output.removeSubrange(capacity...)
        return output
    }

    /// The data of the zlib stream `stream`, which must inflate to exactly `originalSize` bytes (`uncompress2`):
    /// a damaged stream, or one holding more or fewer bytes, is an error.
    public static func uncompress(_ stream: [UInt8], originalSize: Int) throws(ZlibError) -> [UInt8] {
        // One spare byte: a stream holding more than `originalSize` bytes then fills it, and shows.
        var length = originalSize + 1
        var output = [UInt8](repeating: 0, count: length)
        let status = output.withUnsafeMutableBufferPointer { out in
            stream.withUnsafeBufferPointer { input in
                CZlib_uncompress(out.baseAddress, &length, input.baseAddress, input.count)
            }
        }
        try ZlibStatus.check(status, "uncompress2")
        guard length == originalSize else {
            throw ZlibError(function: "uncompress2", code: CZlib_buffer_error(),
                            message: "the stream holds \(length > originalSize ? "more" : "\(length)") bytes, not \(originalSize)")
        }
        output.removeLast()
        return output
    }

    /// The data of the raw deflate stream `stream` (RFC 1951, no zlib header or check: a zip member of method 8),
    /// which must inflate to exactly `originalSize` bytes: a damaged or truncated stream, or one holding more or
    /// fewer bytes, is an error. Sizes must be below 4 GiB.
    public static func inflateRaw(_ stream: [UInt8], originalSize: Int) throws(ZlibError) -> [UInt8] {
        guard stream.count < Int(UInt32.max), originalSize < Int(UInt32.max) - 1 else {
            throw ZlibError(function: "inflate", code: CZlib_buffer_error(), message: "sizes of 4 GiB or more are not supported")
        }
        // One spare byte: a stream holding more than `originalSize` bytes then fills it, and shows.
        var length = originalSize + 1
        var output = [UInt8](repeating: 0, count: length)
        let status = output.withUnsafeMutableBufferPointer { out in
            stream.withUnsafeBufferPointer { input in CZlib_inflate_raw(out.baseAddress, &length, input.baseAddress, input.count) }
        }
        if status != CZlib_stream_end() {
            try ZlibStatus.check(status, "inflate")
            throw ZlibError(function: "inflate", code: CZlib_buffer_error(),
                            message: length > originalSize ? "the stream holds more than \(originalSize) bytes" : "the stream is truncated")
        }
        guard length == originalSize else {
            throw ZlibError(function: "inflate", code: CZlib_buffer_error(), message: "the stream holds \(length) bytes, not \(originalSize)")
        }
        output.removeLast()
        return output
    }

    /// CRC-32 (ISO-HDLC: the CRC of PNG chunks, gzip and zip) of `bytes`, continuing from `crc` (0 to start).
    public static func crc32(_ bytes: [UInt8], continuing crc: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBufferPointer { UInt32(truncatingIfNeeded: CZlib_crc32(UInt(crc), $0.baseAddress, $0.count)) }
    }

    /// The zlib version linked at run time, e.g. "1.2.13".
    public static var libraryVersion: String { String(cString: CZlib_version()) }
}

/// The one place where zlib's return codes become ``ZlibError``s (with zlib's own message, `zError`).
enum ZlibStatus {
    static func check(_ status: Int32, _ function: String) throws(ZlibError) {
        guard status != CZlib_ok() else { return }
        let message = CZlib_error_message(status).map { String(cString: $0) } ?? "zlib error \(status)"
        throw ZlibError(function: function, code: status, message: message)
    }
}
