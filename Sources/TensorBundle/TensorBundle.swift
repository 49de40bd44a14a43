import Foundation

/// A TensorFlow element type, from the `DataType` enum of `types.proto` (the codes TensorFlow stores).
public enum TensorDataType: Sendable, Hashable, CustomStringConvertible {
    case float, double, int32, uint8, int16, int8, string, complex64, int64, bool, bfloat16, half
    /// Any other code (including TensorFlow's reference types, code + 100).
    case other(Int)

    /// The type of TensorFlow's `DataType` code.
    public init(code: Int) {
        switch code {
        case 1: self = .float
        case 2: self = .double
        case 3: self = .int32
        case 4: self = .uint8
        case 5: self = .int16
        case 6: self = .int8
        case 7: self = .string
        case 8: self = .complex64
        case 9: self = .int64
        case 10: self = .bool
        case 14: self = .bfloat16
        case 19: self = .half
        default: self = .other(code)
        }
    }

    /// TensorFlow's `DataType` code.
    public var code: Int {
        switch self {
        case .float: 1
        case .double: 2
        case .int32: 3
        case .uint8: 4
        case .int16: 5
        case .int8: 6
        case .string: 7
        case .complex64: 8
        case .int64: 9
        case .bool: 10
        case .bfloat16: 14
        case .half: 19
        case .other(let code): code
        }
    }

    /// Bytes per element of the fixed-width types (nil for strings and unknown codes).
    public var byteWidth: Int? {
        switch self {
        case .float, .int32: 4
        case .double, .int64, .complex64: 8
        case .uint8, .int8, .bool: 1
        case .int16, .bfloat16, .half: 2
        case .string, .other: nil
        }
    }

    public var description: String {
        switch self {
        case .float: "DT_FLOAT"
        case .double: "DT_DOUBLE"
        case .int32: "DT_INT32"
        case .uint8: "DT_UINT8"
        case .int16: "DT_INT16"
        case .int8: "DT_INT8"
        case .string: "DT_STRING"
        case .complex64: "DT_COMPLEX64"
        case .int64: "DT_INT64"
        case .bool: "DT_BOOL"
        case .bfloat16: "DT_BFLOAT16"
        case .half: "DT_HALF"
        case .other(let code): "DataType \(code)"
        }
    }
}

/// One tensor's record in a bundle's index (`BundleEntryProto`): type, shape and where its bytes are.
public struct TensorBundleEntry: Sendable, Hashable {
    /// The variable name, e.g. `"1CNN/kernel"`.
    public let name: String
    public let dataType: TensorDataType
    /// Dimensions in TensorFlow's order (row-major, last dimension fastest); `[]` for a scalar.
    public let shape: [Int]
    /// Which `.data-NNNNN-of-MMMMM` file holds the bytes.
    public let shardID: Int
    /// Byte offset of the tensor in its data file.
    public let offset: Int
    /// Byte length of the tensor in its data file.
    public let size: Int
    /// The masked CRC-32C of the tensor bytes, as stored (nil when the entry has none).
    public let maskedChecksum: UInt32?
    /// True for a partitioned variable stored as slices (not supported by ``TensorBundle/floats(_:)``).
    public let isSliced: Bool

    /// The number of elements (1 for a scalar).
    public var elementCount: Int { shape.reduce(1, *) }
}

/// A TensorFlow V2 checkpoint ("tensor bundle"), read natively: the `.index` file (a LevelDB-format table whose
/// empty key holds the `BundleHeaderProto` and every other key is a tensor name with its `BundleEntryProto`) and
/// the `.data-00000-of-00001` file (the tensors' raw little-endian bytes, each at its entry's offset). Only
/// single-shard, little-endian bundles of unsliced tensors are supported; every index block checksum is verified
/// on opening and every tensor checksum when the tensor is read.
public struct TensorBundle: Sendable {
    /// Names the bundle in errors: the index path, or the caller's label.
    public let source: String
    /// `BundleHeaderProto.num_shards`.
    public let shardCount: Int
    /// `BundleHeaderProto.version.producer`.
    public let producerVersion: Int
    /// The tensor names, in the index's (byte-wise sorted) order.
    public let names: [String]
    private let entries: [String: TensorBundleEntry]
    private let data: [UInt8]

    /// The bundle at `prefixPath`: reads `prefixPath + ".index"` and `prefixPath + ".data-00000-of-00001"` (for
    /// musicnn's checkpoints the prefix is the folder with a trailing slash, e.g. `.../MSD_vgg/`).
    public init(prefixPath: String) throws(TensorBundleError) {
        let index = prefixPath + ".index", data = prefixPath + ".data-00000-of-00001"
        try self.init(indexBytes: try Self.read(index), dataBytes: try Self.read(data), source: index)
    }

    /// A bundle from the bytes of its `.index` and `.data-00000-of-00001` files; `source` names it in errors.
    public init(indexBytes: [UInt8], dataBytes: [UInt8], source: String = "tensor bundle") throws(TensorBundleError) {
        self.source = source
        let table: SSTable
        do {
            table = try SSTable(bytes: indexBytes)
        } catch {
            throw .malformedIndex(source: source, reason: error.reason)
        }
        guard let first = table.entries.first, first.key.isEmpty else {
            throw .malformedIndex(source: source, reason: "no bundle header (the entry under the empty key)")
        }
        var shards = 1, endianness = 0, producer = 0, minConsumer = 0
        do {
            var header = ProtobufReader(first.value)
            while let field = try header.next() {
                switch (field.number, field.value) {
                case (1, .varint(let v)): shards = Int(truncatingIfNeeded: v)
                case (2, .varint(let v)): endianness = Int(truncatingIfNeeded: v)
                case (3, .bytes(let version)):
                    var reader = ProtobufReader(version)
                    while let f = try reader.next() {
                        if f.number == 1, let v = f.value.integer { producer = v }
                        if f.number == 2, let v = f.value.integer { minConsumer = v }
                    }
                default: break
                }
            }
        } catch {
            throw .malformedIndex(source: source, reason: "bundle header: \(error.reason)")
        }
        guard shards == 1 else { throw .unsupportedBundle(source: source, reason: "\(shards) data shards (only 1 is supported)") }
        guard endianness == 0 else { throw .unsupportedBundle(source: source, reason: "big-endian data") }
        guard minConsumer <= 1 else {
            throw .unsupportedBundle(source: source, reason: "format version needs a reader of version \(minConsumer) (this one is 1)")
        }
        shardCount = shards
        producerVersion = producer

        var entries = [String: TensorBundleEntry]()
        var names = [String]()
        for pair in table.entries.dropFirst() {
            guard let name = String(validating: pair.key, as: UTF8.self), !name.isEmpty else {
                throw .malformedIndex(source: source, reason: "a tensor name is not UTF-8 text")
            }
            let entry: TensorBundleEntry
            do {
                entry = try Self.decodeEntry(name: name, pair.value)
            } catch {
                throw .malformedIndex(source: source, reason: "entry of tensor \(name): \(error.reason)")
            }
            entries[name] = entry
            names.append(name)
        }
        self.entries = entries
        self.names = names
        self.data = dataBytes
    }

    /// The index entry of `name`.
    public func entry(_ name: String) throws(TensorBundleError) -> TensorBundleEntry {
        guard let entry = entries[name] else { throw .noSuchTensor(source: source, name: name) }
        return entry
    }

    /// Whether the bundle holds a tensor named `name`.
    public func contains(_ name: String) -> Bool { entries[name] != nil }

    /// The elements of the `DT_FLOAT` tensor `name`, row-major in TensorFlow's order, after checking that its
    /// bytes lie in the data file, that their count is 4 x the shape's element count, and their CRC-32C.
    public func floats(_ name: String) throws(TensorBundleError) -> [Float] {
        let entry = try entry(name)
        guard entry.dataType == .float else {
            throw .unsupportedTensor(source: source, name: name, reason: "data type \(entry.dataType), expected DT_FLOAT")
        }
        guard !entry.isSliced else { throw .unsupportedTensor(source: source, name: name, reason: "stored as slices") }
        guard entry.shardID == 0 else {
            throw .unsupportedTensor(source: source, name: name, reason: "in shard \(entry.shardID), the bundle has 1")
        }
        let (byteCount, overflow) = entry.elementCount.multipliedReportingOverflow(by: 4)
        guard !overflow, entry.size == byteCount else {
            throw .truncatedTensor(source: source, name: name, reason: "\(entry.size) bytes stored for shape \(entry.shape) (\(entry.elementCount) floats)")
        }
        guard entry.offset <= data.count, entry.size <= data.count - entry.offset else {
            throw .truncatedTensor(source: source, name: name, reason: "bytes \(entry.offset)..<\(entry.offset + entry.size) lie past the end of the data file (\(data.count) bytes); truncated?")
        }
        let range = entry.offset..<(entry.offset + entry.size)
        if let masked = entry.maskedChecksum {
            let stored = CRC32C.unmask(masked)
            let computed = CRC32C.checksum(data, range: range)
            guard stored == computed else {
                throw .tensorChecksumMismatch(source: source, name: name, stored: stored, computed: computed)
            }
        }
        return data.withUnsafeBytes { raw in
            (0..<entry.elementCount).map { i in
                Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: entry.offset + 4 * i, as: UInt32.self)))
            }
        }
    }

    private static func decodeEntry(name: String, _ bytes: ArraySlice<UInt8>) throws(ProtobufReader.Malformed) -> TensorBundleEntry {
        var reader = ProtobufReader(bytes)
        var dtype = 0, shape = [Int](), shard = 0, offset = 0, size = 0
        var checksum: UInt32?
        var sliced = false
        while let field = try reader.next() {
            switch (field.number, field.value) {
            case (1, .varint(let v)): dtype = Int(truncatingIfNeeded: v)
            case (2, .bytes(let shapeBytes)):
                var shapeReader = ProtobufReader(shapeBytes)
                while let dimField = try shapeReader.next() {
                    switch (dimField.number, dimField.value) {
                    case (2, .bytes(let dimBytes)):
                        var dimReader = ProtobufReader(dimBytes)
                        var extent = 0
                        while let f = try dimReader.next() {
                            if f.number == 1, let v = f.value.integer { extent = v }
                        }
                        guard extent >= 0 else { throw ProtobufReader.Malformed(reason: "dimension \(extent) is negative or unknown") }
                        shape.append(extent)
                    case (3, .varint(let unknownRank)) where unknownRank != 0:
                        throw ProtobufReader.Malformed(reason: "shape of unknown rank")
                    default: break
                    }
                }
            case (3, .varint(let v)): shard = Int(truncatingIfNeeded: v)
            case (4, .varint(let v)): offset = Int(truncatingIfNeeded: v)
            case (5, .varint(let v)): size = Int(truncatingIfNeeded: v)
            case (6, .fixed32(let v)): checksum = v
            case (7, .bytes): sliced = true
            default: break
            }
        }
        guard offset >= 0, size >= 0, shard >= 0 else { throw ProtobufReader.Malformed(reason: "negative offset, size or shard") }
        return TensorBundleEntry(
            name: name, dataType: TensorDataType(code: dtype), shape: shape, shardID: shard, offset: offset, size: size,
            maskedChecksum: checksum, isSliced: sliced)
    }

    private static func read(_ path: String) throws(TensorBundleError) -> [UInt8] {
        guard FileManager.default.fileExists(atPath: path) else { throw .unreadableFile(path: path, reason: "no such file") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .unreadableFile(path: path, reason: "not readable")
        }
        return [UInt8](data)
    }
}
