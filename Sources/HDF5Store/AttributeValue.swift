internal import CHDF5

/// The value of an HDF5 attribute, as HDF5Store writes it and how it reads one back.
///
/// | case | stored as | h5py reads |
/// | --- | --- | --- |
/// | `string` | scalar variable-length UTF-8 string | `str` |
/// | `strings` | 1-D variable-length UTF-8 strings | `ndarray` of `str` (dtype object) |
/// | `int` | scalar int64 | `numpy.int64` |
/// | `ints` | 1-D int64 | `ndarray` int64 |
/// | `double` | scalar float64 | `numpy.float64` |
/// | `doubles` | 1-D float64 | `ndarray` float64 |
/// | `floats` | 1-D float32 | `ndarray` float32 |
/// | `bool` | scalar 8-bit enum over int8, `FALSE = 0`, `TRUE = 1` (h5py's own bool layout) | `numpy.bool_` |
///
/// Reading maps back by type class and dataspace: any string → `string` (scalar) or `strings` (array, flattened);
/// any integer → `int` / `ints`; a scalar float → `double`; a float array → `floats` (4-byte) or `doubles`
/// (8-byte); an enum over an 8-bit integer with members `FALSE`/`TRUE` → `bool`. Other types (compound, int8
/// arrays of enums, null dataspaces...) are reported as an `HDF5Error`.
public enum AttributeValue: Sendable, Hashable, CustomStringConvertible {
    case string(String)
    case strings([String])
    case int(Int)
    case ints([Int])
    case double(Double)
    case doubles([Double])
    case floats([Float])
    case bool(Bool)

    /// The text, for `.string`.
    public var stringValue: String? { if case .string(let value) = self { value } else { nil } }
    /// The texts, for `.strings`.
    public var stringsValue: [String]? { if case .strings(let value) = self { value } else { nil } }
    /// The integer, for `.int`.
    public var intValue: Int? { if case .int(let value) = self { value } else { nil } }
    /// The integers, for `.ints`.
    public var intsValue: [Int]? { if case .ints(let value) = self { value } else { nil } }
    /// The number, for `.double` (and `.int`, converted).
    public var doubleValue: Double? {
        switch self {
        case .double(let value): value
        case .int(let value): Double(value)
        default: nil
        }
    }
    /// The numbers, for `.doubles` (and `.floats`, converted).
    public var doublesValue: [Double]? {
        switch self {
        case .doubles(let values): values
        case .floats(let values): values.map { Double($0) }
        default: nil
        }
    }
    /// The numbers, for `.floats`.
    public var floatsValue: [Float]? { if case .floats(let value) = self { value } else { nil } }
    /// The flag, for `.bool`.
    public var boolValue: Bool? { if case .bool(let value) = self { value } else { nil } }

    /// The value as it would read in a configuration listing: `"text"`, `[1, 2]`, `0.5`, `true`.
    public var description: String {
        func quoted(_ text: String) -> String {
            "\"" + text.replacingOccurrences("\\", with: "\\\\").replacingOccurrences("\"", with: "\\\"") + "\""
        }
        switch self {
        case .string(let value): return quoted(value)
        case .strings(let values): return "[" + values.map(quoted).joined(separator: ", ") + "]"
        case .int(let value): return String(value)
        case .ints(let values): return "[" + values.map { String($0) }.joined(separator: ", ") + "]"
        case .double(let value): return String(value)
        case .doubles(let values): return "[" + values.map { String($0) }.joined(separator: ", ") + "]"
        case .floats(let values): return "[" + values.map { String($0) }.joined(separator: ", ") + "]"
        case .bool(let value): return String(value)
        }
    }
}

extension AttributeValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension String {
    fileprivate func replacingOccurrences(_ target: Character, with replacement: String) -> String {
        var result = ""
        for character in self { if character == target { result += replacement } else { result.append(character) } }
        return result
    }
}

// MARK: - Reading and writing attributes on any object

/// Attribute I/O on an open object identifier (the file = root group, a group or a dataset).
enum HDF5Attributes {
    static func set(
        _ name: String, to value: AttributeValue, on location: hid_t, path: String, object: String
    ) throws(HDF5Error) {
        let label = attributeLabel(name, object)
        let exists = try hdf5("H5Aexists", path: path, object: label) { H5Aexists(location, name) }
        if exists > 0 {
            _ = try hdf5("H5Adelete", path: path, object: label) { H5Adelete(location, name) }
        }
        switch value {
        case .string(let text):
            try writeStrings([text], scalar: true, name, on: location, path: path, label: label)
        case .strings(let texts):
            try writeStrings(texts, scalar: false, name, on: location, path: path, label: label)
        case .int(let number):
            try writeNumbers([Int64(number)], scalar: true, name, on: location, path: path, label: label)
        case .ints(let numbers):
            try writeNumbers(numbers.map { Int64($0) }, scalar: false, name, on: location, path: path, label: label)
        case .double(let number):
            try writeNumbers([number], scalar: true, name, on: location, path: path, label: label)
        case .doubles(let numbers):
            try writeNumbers(numbers, scalar: false, name, on: location, path: path, label: label)
        case .floats(let numbers):
            try writeNumbers(numbers, scalar: false, name, on: location, path: path, label: label)
        case .bool(let flag):
            let fileType = try booleanType(base: CHDF5_t_std_i8le(), path: path, label: label)
            let memoryType = try booleanType(base: CHDF5_t_native_int8(), path: path, label: label)
            var byte: Int8 = flag ? 1 : 0
            try create(name, on: location, fileType: fileType.raw, count: nil, path: path, label: label) {
                (attribute) throws(HDF5Error) in
                _ = try hdf5("H5Awrite", path: path, object: label) { H5Awrite(attribute, memoryType.raw, &byte) }
            }
        }
    }

    static func get(_ name: String, on location: hid_t, path: String, object: String) throws(HDF5Error)
        -> AttributeValue?
    {
        let label = attributeLabel(name, object)
        let exists = try hdf5("H5Aexists", path: path, object: label) { H5Aexists(location, name) }
        guard exists > 0 else { return nil }
        let attribute = try HDF5Handle("H5Aopen", .attribute, path: path, object: label) {
            H5Aopen(location, name, CHDF5_p_default())
        }
        let raw = attribute.raw
        let space = try HDF5Handle("H5Aget_space", .dataspace, path: path, object: label) { H5Aget_space(raw) }
        let spaceClass = try hdf5("H5Sget_simple_extent_type", path: path, object: label,
                                  failsWhen: { $0 == H5S_NO_CLASS }) { H5Sget_simple_extent_type(space.raw) }
        guard spaceClass != H5S_NULL else {
            throw .usage("read attribute", "the attribute is empty (null dataspace)", path: path, object: label)
        }
        let scalar = spaceClass == H5S_SCALAR
        let count = Int(try hdf5("H5Sget_simple_extent_npoints", path: path, object: label) {
            H5Sget_simple_extent_npoints(space.raw)
        })
        let type = try HDF5Handle("H5Aget_type", .datatype, path: path, object: label) { H5Aget_type(raw) }
        let typeClass = try hdf5("H5Tget_class", path: path, object: label, failsWhen: { $0 == H5T_NO_CLASS }) {
            H5Tget_class(type.raw)
        }
        switch typeClass {
        case H5T_STRING:
            let texts = try HDF5Operations.readStrings(fileType: type.raw, count: count, path: path, object: label) {
                (memoryType, buffer) throws(HDF5Error) in
                _ = try hdf5("H5Aread", path: path, object: label) { H5Aread(raw, memoryType, buffer) }
            }
            return scalar ? .string(texts.first ?? "") : .strings(texts)
        case H5T_INTEGER:
            let numbers: [Int64] = try readNumbers(raw, count: count, path: path, label: label)
            return scalar ? .int(Int(numbers[0])) : .ints(numbers.map { Int($0) })
        case H5T_FLOAT:
            let size = try hdf5("H5Tget_size", path: path, object: label, failsWhen: { $0 == 0 }) {
                H5Tget_size(type.raw)
            }
            if scalar {
                let numbers: [Double] = try readNumbers(raw, count: 1, path: path, label: label)
                return .double(numbers[0])
            }
            if size == 4 {
                return .floats(try readNumbers(raw, count: count, path: path, label: label))
            }
            return .doubles(try readNumbers(raw, count: count, path: path, label: label))
        case H5T_ENUM where scalar:
            let memoryType = try booleanType(base: CHDF5_t_native_int8(), path: path, label: label)
            var byte: Int8 = 0
            do {
                _ = try hdf5("H5Aread", path: path, object: label) { H5Aread(raw, memoryType.raw, &byte) }
            } catch {
                throw .usage("read attribute", "an enum attribute that is not a FALSE/TRUE boolean (\(error.message))",
                             path: path, object: label)
            }
            return .bool(byte != 0)
        default:
            throw .usage("read attribute", "unsupported attribute type (HDF5 type class \(typeClass.rawValue))",
                         path: path, object: label)
        }
    }

    /// Attribute names of an object, sorted by name.
    static func names(on location: hid_t, path: String, object: String) throws(HDF5Error) -> [String] {
        var names: [String] = []
        var index: hsize_t = 0
        _ = try withUnsafeMutablePointer(to: &names) { (namesPointer) throws(HDF5Error) in
            try hdf5("H5Aiterate2", path: path, object: object) {
                H5Aiterate2(location, H5_INDEX_NAME, H5_ITER_INC, &index, { _, name, _, clientData in
                    guard let name, let clientData else { return 0 }
                    clientData.assumingMemoryBound(to: [String].self).pointee.append(String(cString: name))
                    return 0
                }, namesPointer)
            }
        }
        return names
    }

    // MARK: Helpers

    private static func attributeLabel(_ name: String, _ object: String) -> String {
        object == "/" ? "/@\(name)" : "\(object)@\(name)"
    }

    /// Creates attribute `name` with a scalar (`count` nil) or 1-D dataspace and hands its id to `write`.
    private static func create(
        _ name: String, on location: hid_t, fileType: hid_t, count: Int?, path: String, label: String,
        write: (hid_t) throws(HDF5Error) -> Void
    ) throws(HDF5Error) {
        let space = try HDF5Operations.createDataspace(shape: count.map { [$0] } ?? [], maxShape: nil, path: path,
                                                      object: label)
        let attribute = try HDF5Handle("H5Acreate2", .attribute, path: path, object: label) {
            H5Acreate2(location, name, fileType, space.raw, CHDF5_p_default(), CHDF5_p_default())
        }
        try write(attribute.raw)
        try attribute.close(path: path, object: label)
    }

    private static func writeStrings(
        _ texts: [String], scalar: Bool, _ name: String, on location: hid_t, path: String, label: String
    ) throws(HDF5Error) {
        let type = try HDF5Operations.variableUTF8StringType(path: path, object: label)
        try HDF5Operations.withCStringArray(texts, path: path, object: label) { (pointers) throws(HDF5Error) in
            try create(name, on: location, fileType: type.raw, count: scalar ? nil : texts.count, path: path,
                       label: label) { (attribute) throws(HDF5Error) in
                guard !texts.isEmpty else { return }
                _ = try hdf5("H5Awrite", path: path, object: label) { H5Awrite(attribute, type.raw, pointers) }
            }
        }
    }

    private static func writeNumbers<T: HDF5Scalar>(
        _ numbers: [T], scalar: Bool, _ name: String, on location: hid_t, path: String, label: String
    ) throws(HDF5Error) {
        let elementType = T.hdf5ElementType
        try create(name, on: location, fileType: elementType.fileTypeID, count: scalar ? nil : numbers.count,
                   path: path, label: label) { (attribute) throws(HDF5Error) in
            guard !numbers.isEmpty else { return }
            _ = try numbers.withUnsafeBufferPointer { (buffer) throws(HDF5Error) in
                try hdf5("H5Awrite", path: path, object: label) {
                    H5Awrite(attribute, elementType.memoryTypeID, buffer.baseAddress)
                }
            }
        }
    }

    private static func readNumbers<T: HDF5Scalar>(
        _ attribute: hid_t, count: Int, path: String, label: String
    ) throws(HDF5Error) -> [T] {
        var numbers = [T]()
        try withUninitializedArray(&numbers, count: count) { (buffer) throws(HDF5Error) in
            guard count > 0 else { return }
            _ = try hdf5("H5Aread", path: path, object: label) {
                H5Aread(attribute, T.hdf5ElementType.memoryTypeID, buffer.baseAddress)
            }
        }
        return numbers
    }

    /// h5py's boolean: an enum over an 8-bit signed integer with members FALSE = 0 and TRUE = 1.
    private static func booleanType(base: hid_t, path: String, label: String) throws(HDF5Error) -> HDF5Handle {
        let type = try HDF5Handle("H5Tenum_create", .datatype, path: path, object: label) { H5Tenum_create(base) }
        var falseValue: Int8 = 0
        var trueValue: Int8 = 1
        _ = try hdf5("H5Tenum_insert", path: path, object: label) { H5Tenum_insert(type.raw, "FALSE", &falseValue) }
        _ = try hdf5("H5Tenum_insert", path: path, object: label) { H5Tenum_insert(type.raw, "TRUE", &trueValue) }
        return type
    }
}
