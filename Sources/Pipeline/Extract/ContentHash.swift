import Foundation
internal import XXHash

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A fast, non-cryptographic 64-bit hash of decoded audio, a file or bytes, used to find exact duplicates (the same
/// samples under two names, as GTZAN has), to key cached features, and to assign files to the parts of a
/// partitioned run. XXH64 (libxxhash), so any language recomputes it (Python: `xxhash.xxh64(data, seed).intdigest()`):
/// - samples: XXH64 of the float32 samples' bytes (little-endian) with seed = the sample rate;
/// - a file: XXH64 of the file's bytes, seed 0;
/// - bytes: XXH64 of the bytes, seed 0.
public struct ContentHash: Hashable, Sendable, Codable, CustomStringConvertible {
    public let value: UInt64

    public init(value: UInt64) { self.value = value }

    /// Hash of a run of Float samples (their bit patterns, little-endian) and the sample rate (the seed).
    public init(samples: UnsafeBufferPointer<Float>, sampleRate: Int) {
        value = XXH64.hash(UnsafeRawBufferPointer(samples), seed: UInt64(truncatingIfNeeded: sampleRate))
    }

    /// Hash of a file's bytes, read in 1 MiB blocks (the key of its cached features).
    public init(fileAt path: String) throws(PipelineError) {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw PipelineError(path: path, reason: "cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let block = 1 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: block, alignment: 16)
        defer { buffer.deallocate() }
        var hasher = XXH64(seed: 0)
        while true {
            let n = read(fd, buffer.baseAddress!, block)
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw PipelineError(path: path, reason: "read failed: \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
        value = hasher.digest
    }

    /// Hash of bytes (e.g. a relative path's UTF-8 or a configuration's text).
    public init(bytes: some Sequence<UInt8>) {
        value = bytes.withContiguousStorageIfAvailable { XXH64.hash(UnsafeRawBufferPointer($0)) }
            ?? XXH64.hash(Array(bytes))
    }

    /// 16 lower-case hex digits (xxHash's canonical form).
    public var description: String { XXH64.hex(value) }
}
