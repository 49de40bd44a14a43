internal import HDF5Store

/// The element type of a shard dataset as stored.
public enum ShardElementType: String, Sendable, Hashable, CustomStringConvertible {
    case float32, float64, int8, uint8, int32, int64, string

    public var description: String { rawValue }
}

/// How a dataset of a shard is stored: element type (nil: a type the format never uses), extent per axis
/// (slowest first), and whether its chunks are compressed.
public struct ShardDatasetLayout: Sendable, Hashable {
    public var elementType: ShardElementType?
    public var shape: [Int]
    public var isCompressed: Bool
}

/// A shard opened without validating it, for `genre verify`: every attribute, dataset layout and array is read on
/// its own, and each read fails on its own (a `ShardError` naming the dataset), so a verifier can report every
/// problem of a damaged file rather than the first. Training reads shards through ``ShardReader``, which
/// validates the whole file when opening; both read the format ``ShardSchema`` names.
public struct RawShard: ~Copyable {
    /// The shard's path.
    public let path: String
    private let file: HDF5File

    /// Checks the file's HDF5 global heaps, where the string attributes and `/path` live, before it is opened:
    /// HDF5 1.10 crashes on a damaged heap (see HDF5Store's `HDF5Integrity`). The error's message says what is
    /// damaged.
    public static func checkStructure(path: String) throws(ShardError) {
        _ = try hdf5 { () throws(HDF5Error) in try HDF5Integrity.checkGlobalHeaps(path: path) }
    }

    /// Opens the file at `path` as HDF5 (nothing about the shard format is checked).
    public init(path: String) throws(ShardError) {
        self.path = path
        file = try hdf5 { () throws(HDF5Error) in try HDF5File(openingForReading: path) }
    }

    /// Every root attribute (format attributes and pipeline parameters alike).
    public func attributes() throws(ShardError) -> [String: ShardParameter] {
        try hdf5 { () throws(HDF5Error) in try file.attributes() }.mapValues(ShardParameter.init)
    }

    /// The layout of dataset `name` (`ShardSchema.melDataset`...), or nil when the file has no such dataset.
    public func layout(of name: String) throws(ShardError) -> ShardDatasetLayout? {
        try hdf5 { () throws(HDF5Error) -> ShardDatasetLayout? in
            guard try file.contains(name) else { return nil }
            let info = try file.datasetInfo(name)
            return ShardDatasetLayout(
                elementType: info.elementType.flatMap { ShardElementType(rawValue: $0.rawValue) }, shape: info.shape,
                isCompressed: info.compression != .none)
        }
    }

    /// `/label`.
    public func labels() throws(ShardError) -> [Int32] {
        try hdf5 { () throws(HDF5Error) in try file.readInt32s(ShardSchema.labelDataset).values }
    }

    /// `/path`.
    public func paths() throws(ShardError) -> [String] {
        try hdf5 { () throws(HDF5Error) in try file.readStrings(ShardSchema.pathDataset) }
    }

    /// `/padded` as stored (0 or 1 in a sound shard).
    public func paddedBytes() throws(ShardError) -> [UInt8] {
        try hdf5 { () throws(HDF5Error) in try file.readUInt8s(ShardSchema.paddedDataset).values }
    }

    /// A float32 dataset: `/seconds`, `/norm/mean` or `/norm/std`.
    public func floats(_ name: String) throws(ShardError) -> [Float] {
        try hdf5 { () throws(HDF5Error) in try file.readFloats(name).values }
    }

    /// Reads consecutive clips of `/mel` from `first` into `destination` (`[k, n_mels, frames]` row-major; its size
    /// says how many).
    public func mels(from first: Int, into destination: UnsafeMutableBufferPointer<Float>) throws(ShardError) {
        try hdf5 { () throws(HDF5Error) in try file.readRows(from: ShardSchema.melDataset, at: first, into: destination) }
    }
}
