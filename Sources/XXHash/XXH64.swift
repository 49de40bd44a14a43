internal import CXXHash

/// XXH64, the 64-bit xxHash (Yann Collet; specification in xxHash's `doc/xxhash_spec.md`), through Debian's
/// libxxhash: a fast non-cryptographic hash that every language has (Python's `xxhash.xxh64`, `xxhsum -H1`), so
/// anyone can recompute GenreKit's shard checksums and content hashes.
///
/// A value type: the streaming state is held inline (88 bytes, no allocation), so a copy continues independently
/// (hash a common prefix once, then finish two copies with different tails). `digest` does not consume the state.
///
/// ```swift
/// var hasher = XXH64(seed: 0)
/// hasher.update(bytesA)
/// hasher.update(bytesB)
/// hasher.digest  // == XXH64.hash(bytesA + bytesB)
/// ```
public struct XXH64: @unchecked Sendable {
    // `@unchecked Sendable`: the state is a C struct of plain integers held by value; no pointer into it outlives
    // a call, so copies on different threads share nothing.
    private var state = CXXHash_state64()

    /// A hasher with nothing hashed yet; `seed` selects one of 2^64 unrelated hash functions (0: the usual one).
    public init(seed: UInt64 = 0) {
        XXHashStatus.check(CXXHash_xxh64_reset(&state, seed), "XXH64_reset")
    }

    /// Hashes `bytes` as the next part of the stream.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        XXHashStatus.check(CXXHash_xxh64_update(&state, base, bytes.count), "XXH64_update")
    }

    /// The hash of everything hashed so far (more bytes may follow).
    public var digest: UInt64 {
        withUnsafePointer(to: state) { CXXHash_xxh64_digest($0) }
    }

    /// XXH64 of `bytes` in one call.
    public static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0) -> UInt64 {
        CXXHash_xxh64(bytes.baseAddress, bytes.count, seed)
    }

    /// XXH64 of the bytes of `bytes` (e.g. `Array(text.utf8)`).
    public static func hash(_ bytes: [UInt8], seed: UInt64 = 0) -> UInt64 {
        bytes.withUnsafeBytes { hash($0, seed: seed) }
    }

    /// `value` as 16 lower-case hex digits, most significant first (xxHash's canonical form, as `xxhsum` and
    /// Python's `hexdigest()` print it).
    public static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// The linked libxxhash's version, e.g. "0.8.1".
    public static var libraryVersion: String {
        let n = CXXHash_version_number()
        return "\(n / 10000).\(n / 100 % 100).\(n % 100)"
    }
}

/// The one place where libxxhash's return codes are checked.
///
/// libxxhash reports failure (`XXH_ERROR`) only for a NULL state, or NULL input with a non-zero length; ``XXH64``
/// never passes either, so a failure is a programming error: it stops the program naming the function, instead of
/// making every hashing call site throw an error that cannot happen.
enum XXHashStatus {
    static func check(_ status: Int32, _ function: StaticString) {
        precondition(status == 0, "libxxhash: \(function) failed (XXH_ERROR: NULL state or input)")
    }
}
