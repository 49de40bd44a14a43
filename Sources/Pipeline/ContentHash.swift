import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A fast, non-cryptographic 64-bit hash of decoded audio, used to find exact duplicates (the same samples under
/// two names, as GTZAN has) and, with the parameters, to key cached features. Deterministic across runs and
/// machines of the same endianness.
public struct ContentHash: Hashable, Sendable, Codable, CustomStringConvertible {
    public let value: UInt64

    public init(value: UInt64) { self.value = value }

    /// Hash of a run of Float samples (their bit patterns) and the sample rate. Four independent lanes of two
    /// samples each (so the multiply chains overlap), folded together at the end.
    public init(samples: UnsafeBufferPointer<Float>, sampleRate: Int) {
        let seed = UInt64(truncatingIfNeeded: sampleRate) &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(samples.count)
        var lanes = (Mixer(seed: seed), Mixer(seed: seed &+ 1), Mixer(seed: seed &+ 2), Mixer(seed: seed &+ 3))
        let n = samples.count
        let raw = UnsafeRawBufferPointer(samples)
        var i = 0
        while i + 8 <= n {
            let byte = i * 4
            lanes.0.absorb(raw.loadUnaligned(fromByteOffset: byte, as: UInt64.self))
            lanes.1.absorb(raw.loadUnaligned(fromByteOffset: byte + 8, as: UInt64.self))
            lanes.2.absorb(raw.loadUnaligned(fromByteOffset: byte + 16, as: UInt64.self))
            lanes.3.absorb(raw.loadUnaligned(fromByteOffset: byte + 24, as: UInt64.self))
            i += 8
        }
        while i < n {
            lanes.0.absorb(UInt64(samples[i].bitPattern))
            i += 1
        }
        var h = lanes.0
        h.absorb(lanes.1.finish())
        h.absorb(lanes.2.finish())
        h.absorb(lanes.3.finish())
        value = h.finish()
    }

    /// Hash of a file's bytes, read in 1 MiB blocks (the key of its cached features). Four lanes of 8-byte words, as
    /// for samples; the tail is zero-padded and the length folded in.
    public init(fileAt path: String) throws(PipelineError) {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw PipelineError(path: path, reason: "cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let block = 1 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: block, alignment: 16)
        defer { buffer.deallocate() }
        var lanes = (Mixer(seed: 1), Mixer(seed: 2), Mixer(seed: 3), Mixer(seed: 4))
        var total: UInt64 = 0
        while true {
            var filled = 0
            while filled < block {
                let n = read(fd, buffer.baseAddress! + filled, block - filled)
                if n < 0 && errno == EINTR { continue }
                guard n >= 0 else { throw PipelineError(path: path, reason: "read failed: \(String(cString: strerror(errno)))") }
                if n == 0 { break }
                filled += n
            }
            total += UInt64(filled)
            // Zero-pad a partial last block to whole 32-byte groups.
            let padded = (filled + 31) & ~31
            if padded > filled { (buffer.baseAddress! + filled).initializeMemory(as: UInt8.self, repeating: 0, count: padded - filled) }
            var offset = 0
            while offset < padded {
                lanes.0.absorb(buffer.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
                lanes.1.absorb(buffer.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self))
                lanes.2.absorb(buffer.loadUnaligned(fromByteOffset: offset + 16, as: UInt64.self))
                lanes.3.absorb(buffer.loadUnaligned(fromByteOffset: offset + 24, as: UInt64.self))
                offset += 32
            }
            if filled < block { break }
        }
        var h = lanes.0
        h.absorb(lanes.1.finish())
        h.absorb(lanes.2.finish())
        h.absorb(lanes.3.finish())
        h.absorb(total)
        value = h.finish()
    }

    /// Hash of bytes (e.g. a file's content or a configuration's text).
    public init(bytes: some Sequence<UInt8>) {
        var h = Mixer(seed: 0x243F_6A88_85A3_08D3)
        var word: UInt64 = 0, shift: UInt64 = 0, length: UInt64 = 0
        for byte in bytes {
            word |= UInt64(byte) << shift
            shift += 8
            length += 1
            if shift == 64 {
                h.absorb(word)
                word = 0
                shift = 0
            }
        }
        h.absorb(word ^ (length << 56))
        value = h.finish()
    }

    public var description: String {
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// Multiply-xorshift mixing (a 64-bit variant of the wyhash/murmur finalisers).
    private struct Mixer {
        var state: UInt64
        init(seed: UInt64) { state = seed ^ 0x6A09_E667_F3BC_C909 }
        mutating func absorb(_ w: UInt64) {
            var k = w &* 0xFF51_AFD7_ED55_8CCD
            k ^= k >> 32
            state = (state ^ k) &* 0xC4CE_B9FE_1A85_EC53
            state ^= state >> 29
        }
        func finish() -> UInt64 {
            var x = state
            x ^= x >> 33
            x = x &* 0xFF51_AFD7_ED55_8CCD
            x ^= x >> 33
            x = x &* 0xC4CE_B9FE_1A85_EC53
            x ^= x >> 33
            return x
        }
    }
}
