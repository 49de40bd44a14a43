internal import CHDF5

/// The element types HDF5Store reads and writes. Numbers are stored little-endian (IEEE floats, two's-complement
/// integers); strings are variable-length UTF-8 (h5py reads them back as `str`).
public enum HDF5ElementType: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// IEEE 754 single (`Float`), double (`Double`); signed 8/32/64-bit and unsigned 8-bit integers.
    case float32, float64, int8, uint8, int32, int64
    /// Variable-length (or, when read from files written elsewhere, fixed-length) text.
    case string

    /// Bytes per element in memory (a string element is one C pointer).
    public var byteCount: Int {
        switch self {
        case .int8, .uint8: 1
        case .float32, .int32: 4
        case .float64, .int64: 8
        case .string: MemoryLayout<UnsafeRawPointer>.size
        }
    }

    public var description: String { rawValue }
}

/// A Swift number type that maps one-to-one onto an HDF5 element type: `Float` (float32), `Double` (float64),
/// `Int8`, `UInt8`, `Int32`, `Int64`. HDF5 converts between numeric types on read and write when the dataset's
/// type differs (e.g. reading an int32 dataset as `Double`).
public protocol HDF5Scalar: BitwiseCopyable, Sendable {
    /// The HDF5 element type a dataset of this Swift type is created with.
    static var hdf5ElementType: HDF5ElementType { get }
}

extension Float: HDF5Scalar { public static var hdf5ElementType: HDF5ElementType { .float32 } }
extension Double: HDF5Scalar { public static var hdf5ElementType: HDF5ElementType { .float64 } }
extension Int8: HDF5Scalar { public static var hdf5ElementType: HDF5ElementType { .int8 } }
extension UInt8: HDF5Scalar { public static var hdf5ElementType: HDF5ElementType { .uint8 } }
extension Int32: HDF5Scalar { public static var hdf5ElementType: HDF5ElementType { .int32 } }
extension Int64: HDF5Scalar { public static var hdf5ElementType: HDF5ElementType { .int64 } }

/// How a chunked dataset's chunks are compressed. Compression needs a chunk shape.
public enum HDF5Compression: Sendable, Hashable {
    /// Chunks are stored as they are (fastest; allows direct chunk I/O).
    case none
    /// zlib "deflate" at `level` 1 (fastest) ... 9 (smallest); h5py's `compression="gzip"`.
    case gzip(level: Int)
}

/// What a dataset holds: its shape, how far it may grow, its element type and storage layout.
public struct HDF5DatasetInfo: Sendable, Hashable {
    /// Current extent, slowest-varying axis first (row-major); `[]` for a scalar dataset.
    public var shape: [Int]
    /// Largest extent per axis; `nil` = unlimited.
    public var maxShape: [Int?]
    /// The element type, or `nil` for a type HDF5Store does not read (int16, compound, ...).
    public var elementType: HDF5ElementType?
    /// Chunk shape for a chunked dataset, `nil` for contiguous or compact storage.
    public var chunks: [Int]?
    /// The compression filter applied to the chunks.
    public var compression: HDF5Compression

    /// Number of elements (product of `shape`; 1 for a scalar dataset).
    public var elementCount: Int { shape.reduce(1, *) }
}

// MARK: - Internal type ids

extension HDF5ElementType {
    /// The native in-memory type id (predefined: never closed). Not valid for `.string`.
    var memoryTypeID: hid_t {
        switch self {
        case .float32: CHDF5_t_native_float()
        case .float64: CHDF5_t_native_double()
        case .int8: CHDF5_t_native_int8()
        case .uint8: CHDF5_t_native_uint8()
        case .int32: CHDF5_t_native_int32()
        case .int64: CHDF5_t_native_int64()
        case .string: -1
        }
    }

    /// The little-endian file type id (predefined: never closed). Not valid for `.string`.
    var fileTypeID: hid_t {
        switch self {
        case .float32: CHDF5_t_ieee_f32le()
        case .float64: CHDF5_t_ieee_f64le()
        case .int8: CHDF5_t_std_i8le()
        case .uint8: CHDF5_t_std_u8le()
        case .int32: CHDF5_t_std_i32le()
        case .int64: CHDF5_t_std_i64le()
        case .string: -1
        }
    }

    /// The element type of an HDF5 datatype, or nil when HDF5Store does not handle it.
    static func of(typeID: hid_t, path: String?, object: String?) throws(HDF5Error) -> HDF5ElementType? {
        let typeClass = try hdf5("H5Tget_class", path: path, object: object, failsWhen: { $0 == H5T_NO_CLASS }) {
            H5Tget_class(typeID)
        }
        let size = try hdf5("H5Tget_size", path: path, object: object, failsWhen: { $0 == 0 }) {
            H5Tget_size(typeID)
        }
        switch typeClass {
        case H5T_FLOAT:
            return size == 4 ? .float32 : size == 8 ? .float64 : nil
        case H5T_INTEGER:
            let sign = try hdf5("H5Tget_sign", path: path, object: object, failsWhen: { $0 == H5T_SGN_ERROR }) {
                H5Tget_sign(typeID)
            }
            switch (size, sign == H5T_SGN_NONE) {
            case (1, false): return .int8
            case (1, true): return .uint8
            case (4, false): return .int32
            case (8, false): return .int64
            default: return nil
            }
        case H5T_STRING:
            return .string
        default:
            return nil
        }
    }
}

/// Converts Swift sizes to HDF5 extents, rejecting negative values.
func hsizes(_ values: [Int], _ operation: String, path: String?, object: String?) throws(HDF5Error) -> [hsize_t] {
    var result: [hsize_t] = []
    result.reserveCapacity(values.count)
    for value in values {
        guard value >= 0 else {
            throw .usage(operation, "negative size \(value) in \(values)", path: path, object: object)
        }
        result.append(hsize_t(value))
    }
    return result
}

/// The product of sizes, rejecting overflow.
func elementCount(_ shape: [Int], _ operation: String, path: String?, object: String?) throws(HDF5Error) -> Int {
    var count = 1
    for size in shape {
        let (product, overflow) = count.multipliedReportingOverflow(by: size)
        guard !overflow, size >= 0 else {
            throw .usage(operation, "invalid shape \(shape)", path: path, object: object)
        }
        count = product
    }
    return count
}
