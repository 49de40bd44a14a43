/// The checksum a shard carries over its clip data (root attributes `checksum` and `checksum_algorithm`), computed by
/// `ShardWriter` as it writes and recomputed by `ShardReader.verifyChecksum()`. It detects a damaged or edited file
/// (a flipped bit, a truncated chunk, a clip rewritten in place); it is not a cryptographic hash.
///
/// **The bytes hashed**, one stream in this order (all little-endian, as stored):
/// 1. `/mel`: every clip in order, each its `n_mels * frames` float32 values row-major (4 bytes each);
/// 2. `/label`: `clips` int32 values;
/// 3. `/path`: every path's UTF-8 bytes followed by one `0x00` byte;
/// 4. `/padded`: `clips` uint8 values;
/// 5. `/seconds`: `clips` float32 values.
///
/// **The algorithm** (`ShardChecksum.algorithm` = `"genrekit-lanehash64/1"`): eight 64-bit lanes start at
/// `0xcbf29ce484222325 + i` (FNV-1a's offset basis, `i` = 0...7). The stream is cut into 64-byte blocks; a last
/// partial block is padded with zero bytes. Word `j` (bytes `8j..<8j+8` of a block, little-endian) updates lane `j`:
/// `lane = (lane ^ word) &* 0x100000001b3; lane ^= lane >> 32` (FNV-1a on 64-bit words with a fold of the high half,
/// each step a bijection, so changing any one word always changes the result). Finally
/// `h = byteCount`, then for each lane in order `h = (h ^ lane) &* 0x100000001b3; h ^= h >> 32`, then MurmurHash3's
/// 64-bit finaliser (`h ^= h >> 33; h &*= 0xff51afd7ed558ccd; h ^= h >> 33; h &*= 0xc4ceb9fe1a85ec53; h ^= h >> 33`).
/// The attribute holds `h` as 16 lower-case hex digits. Eight independent lanes keep the multiplier busy: it hashes
/// at several GB/s, a small fraction of the cost of writing the data.
public struct ShardChecksum: Sendable {
    /// The value of the `checksum_algorithm` attribute this code writes and can verify.
    public static let algorithm = "genrekit-lanehash64/1"

    private static let prime: UInt64 = 0x0000_0100_0000_01b3
    private static let basis: UInt64 = 0xcbf2_9ce4_8422_2325
    private static let blockBytes = 64

    private var lanes: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) =
        (basis, basis &+ 1, basis &+ 2, basis &+ 3, basis &+ 4, basis &+ 5, basis &+ 6, basis &+ 7)
    /// Bytes of an incomplete block waiting for more input (`pendingCount` of 64).
    private var pending: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
    private var pendingCount = 0
    /// Bytes hashed so far.
    public private(set) var byteCount: UInt64 = 0

    /// An empty checksum (no bytes hashed yet).
    public init() {}

    /// Hashes `bytes` as the next part of the stream.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard var base = bytes.baseAddress, bytes.count > 0 else { return }
        var remaining = bytes.count
        byteCount &+= UInt64(remaining)
        if pendingCount > 0 {
            let take = min(Self.blockBytes - pendingCount, remaining)
            withUnsafeMutableBytes(of: &pending) { block in
                block.baseAddress!.advanced(by: pendingCount).copyMemory(from: base, byteCount: take)
            }
            pendingCount += take
            base += take
            remaining -= take
            guard pendingCount == Self.blockBytes else { return }
            withUnsafeBytes(of: pending) { block in Self.mix(&lanes, block.baseAddress!, blocks: 1) }
            pending = (0, 0, 0, 0, 0, 0, 0, 0)
            pendingCount = 0
        }
        let blocks = remaining / Self.blockBytes
        Self.mix(&lanes, base, blocks: blocks)
        let rest = remaining - blocks * Self.blockBytes
        if rest > 0 {
            withUnsafeMutableBytes(of: &pending) { block in
                block.baseAddress!.copyMemory(from: base + blocks * Self.blockBytes, byteCount: rest)
            }
            pendingCount = rest
        }
    }

    /// Hashes the bytes of `values` (their in-memory layout: little-endian on every platform Swift runs on here).
    public mutating func update<T: BitwiseCopyable>(_ values: UnsafeBufferPointer<T>) {
        update(UnsafeRawBufferPointer(values))
    }

    /// Hashes the bytes of `values`.
    public mutating func update<T: BitwiseCopyable>(_ values: [T]) {
        values.withUnsafeBytes { update($0) }
    }

    /// Hashes strings as the `/path` section does: each string's UTF-8 bytes, then one `0x00`.
    public mutating func update(strings: [String]) {
        var bytes: [UInt8] = []
        for string in strings {
            bytes.append(contentsOf: string.utf8)
            bytes.append(0)
        }
        update(bytes)
    }

    /// Runs `blocks` 64-byte blocks from `base` through the eight lanes.
    @inline(__always)
    private static func mix(
        _ lanes: inout (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64), _ base: UnsafeRawPointer,
        blocks: Int
    ) {
        var (a, b, c, d, e, f, g, h) = lanes
        @inline(__always) func step(_ lane: inout UInt64, _ p: UnsafeRawPointer, _ offset: Int) {
            lane = (lane ^ UInt64(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt64.self))) &* prime
            lane ^= lane >> 32
        }
        for block in 0..<blocks {
            let p = base + block * blockBytes
            step(&a, p, 0); step(&b, p, 8); step(&c, p, 16); step(&d, p, 24)
            step(&e, p, 32); step(&f, p, 40); step(&g, p, 48); step(&h, p, 56)
        }
        lanes = (a, b, c, d, e, f, g, h)
    }

    /// The 64-bit result over everything hashed so far (the stream is not consumed; more bytes may follow).
    public var value: UInt64 {
        var lanes = self.lanes
        if pendingCount > 0 {
            // The pending block is already zero beyond `pendingCount`.
            withUnsafeBytes(of: pending) { block in Self.mix(&lanes, block.baseAddress!, blocks: 1) }
        }
        var h = byteCount
        for lane in [lanes.0, lanes.1, lanes.2, lanes.3, lanes.4, lanes.5, lanes.6, lanes.7] {
            h = (h ^ lane) &* Self.prime
            h ^= h >> 32
        }
        h ^= h >> 33
        h &*= 0xff51_afd7_ed55_8ccd
        h ^= h >> 33
        h &*= 0xc4ce_b9fe_1a85_ec53
        h ^= h >> 33
        return h
    }

    /// `value` as stored in the `checksum` attribute: 16 lower-case hex digits.
    public var hexDigest: String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
