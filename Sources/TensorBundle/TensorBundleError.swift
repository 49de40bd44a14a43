/// Why a tensor bundle, or one tensor of it, cannot be read. Every case names the bundle (`source`: the index
/// path, or the label given to ``TensorBundle/init(indexBytes:dataBytes:source:)``) and, where it applies, the
/// tensor; ``description`` is one line.
public enum TensorBundleError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A file could not be read at all.
    case unreadableFile(path: String, reason: String)
    /// The `.index` table is damaged: truncated, wrong magic number, a block checksum that fails, a compressed
    /// block, a malformed entry or header.
    case malformedIndex(source: String, reason: String)
    /// A well-formed bundle this reader does not handle (several shards, big-endian data, a newer format).
    case unsupportedBundle(source: String, reason: String)
    /// No tensor of that name.
    case noSuchTensor(source: String, name: String)
    /// The tensor's entry cannot be used: malformed, sliced, a data type other than the one asked for.
    case unsupportedTensor(source: String, name: String, reason: String)
    /// The tensor's bytes are not all in the data file, or do not match its shape and type.
    case truncatedTensor(source: String, name: String, reason: String)
    /// The tensor's bytes fail the CRC-32C stored in its entry.
    case tensorChecksumMismatch(source: String, name: String, stored: UInt32, computed: UInt32)

    public var description: String {
        switch self {
        case .unreadableFile(let path, let reason):
            "\(path): cannot read: \(reason)"
        case .malformedIndex(let source, let reason):
            "\(source): damaged tensor bundle index: \(reason)"
        case .unsupportedBundle(let source, let reason):
            "\(source): unsupported tensor bundle: \(reason)"
        case .noSuchTensor(let source, let name):
            "\(source): no tensor named \(name)"
        case .unsupportedTensor(let source, let name, let reason):
            "\(source): tensor \(name): \(reason)"
        case .truncatedTensor(let source, let name, let reason):
            "\(source): tensor \(name): \(reason)"
        case .tensorChecksumMismatch(let source, let name, let stored, let computed):
            "\(source): tensor \(name) fails its checksum (stored CRC-32C 0x\(String(stored, radix: 16)), computed 0x\(String(computed, radix: 16))): the data file is damaged"
        }
    }
}
