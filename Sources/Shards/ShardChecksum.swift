internal import XXHash

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
/// **The algorithm** (`ShardChecksum.algorithm` = `"xxh64"`): XXH64 with seed 0 over that stream (libxxhash;
/// Python: `xxhash.xxh64(stream, seed=0).hexdigest()`, see `scripts/shard_checksum.py`). The attribute holds the
/// hash as 16 lower-case hex digits, most significant first (xxHash's canonical form).
///
/// Shards of schema `genrekit-shard/1` carried `"genrekit-lanehash64/1"`, a GenreKit-only hash; this version does
/// not verify it (``describeUnsupported(algorithm:)`` says to preprocess again).
public struct ShardChecksum: Sendable {
    /// The value of the `checksum_algorithm` attribute this code writes and can verify.
    public static let algorithm = "xxh64"

    private var hasher = XXH64(seed: 0)
    /// Bytes hashed so far.
    public private(set) var byteCount: UInt64 = 0

    /// An empty checksum (no bytes hashed yet).
    public init() {}

    /// Hashes `bytes` as the next part of the stream.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        byteCount &+= UInt64(bytes.count)
        hasher.update(bytes)
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

    /// The 64-bit result over everything hashed so far (the stream is not consumed; more bytes may follow).
    public var value: UInt64 { hasher.digest }

    /// `value` as stored in the `checksum` attribute: 16 lower-case hex digits.
    public var hexDigest: String { XXH64.hex(value) }
}

// MARK: - Shards of earlier versions

extension ShardChecksum {
    /// The checksum algorithm of schema `genrekit-shard/1`, retired with it.
    public static let retiredAlgorithm = "genrekit-lanehash64/1"
    /// The schema whose shards carry ``retiredAlgorithm``.
    public static let retiredSchema = "genrekit-shard/1"

    /// Why a shard of an earlier GenreKit cannot be checked: the one sentence that `genre verify` and the readers
    /// print for schema-1 shards.
    public static let olderShardMessage =
        "written by an older GenreKit (checksum \(retiredAlgorithm)): preprocess again"

    /// Why a `checksum_algorithm` of `name` cannot be verified by this version, or nil when it can (``algorithm``).
    public static func describeUnsupported(algorithm name: String) -> String? {
        switch name {
        case algorithm: nil
        case retiredAlgorithm: olderShardMessage
        default: "checksum algorithm \"\(name)\" is unknown to this version of GenreKit (it verifies \"\(algorithm)\")"
        }
    }

    /// Why a shard whose `schema` attribute is `schema` cannot be read by this version, or nil when it can
    /// (`ShardSchema.version`).
    public static func describeUnsupported(schema: String) -> String? {
        switch schema {
        case ShardSchema.version: nil
        case retiredSchema: "schema \(retiredSchema), " + olderShardMessage
        default: "schema \"\(schema)\" is not \"\(ShardSchema.version)\", the one this version of GenreKit reads"
        }
    }

    /// A checksum algorithm this version cannot verify; prints ``describeUnsupported(algorithm:)``.
    public struct UnsupportedAlgorithm: Error, CustomStringConvertible, Sendable, Equatable {
        /// The `checksum_algorithm` attribute as found.
        public let algorithm: String
        public var description: String {
            ShardChecksum.describeUnsupported(algorithm: algorithm) ?? "checksum algorithm \"\(algorithm)\""
        }
    }

    /// Throws unless `name` is ``algorithm`` (a shard whose checksum this version can recompute).
    public static func checkAlgorithm(_ name: String) throws(UnsupportedAlgorithm) {
        guard name == algorithm else { throw UnsupportedAlgorithm(algorithm: name) }
    }
}
