internal import HDF5Store

/// A pipeline parameter as a shard stores it: a root attribute under its own name (`sample_rate` = `22050`,
/// `window` = `"hann (periodic)"`, `split_fractions` = `[0.8, 0.1, 0.1]`). The kinds of value an attribute holds:
/// integers are int64, reals float64 (`floats`: float32), strings UTF-8, `bool` h5py's bool.
public enum ShardParameter: Sendable, Hashable, CustomStringConvertible {
    case string(String)
    case strings([String])
    case int(Int)
    case ints([Int])
    case double(Double)
    case doubles([Double])
    case floats([Float])
    case bool(Bool)

    /// The text of a `string`, else nil.
    public var stringValue: String? { if case .string(let value) = self { value } else { nil } }
    /// The texts of a `strings`, else nil.
    public var stringsValue: [String]? { if case .strings(let value) = self { value } else { nil } }
    /// The number of an `int`, else nil.
    public var intValue: Int? { if case .int(let value) = self { value } else { nil } }
    /// The number of a `double` or an `int`, else nil.
    public var doubleValue: Double? {
        switch self {
        case .double(let value): value
        case .int(let value): Double(value)
        default: nil
        }
    }
    /// The flag of a `bool`, else nil.
    public var boolValue: Bool? { if case .bool(let value) = self { value } else { nil } }

    /// The value as it would read in a configuration listing: `"text"`, `[1, 2]`, `0.5`, `true`.
    public var description: String { attributeValue.description }

    /// The attribute HDF5Store writes.
    var attributeValue: AttributeValue {
        switch self {
        case .string(let value): .string(value)
        case .strings(let values): .strings(values)
        case .int(let value): .int(value)
        case .ints(let values): .ints(values)
        case .double(let value): .double(value)
        case .doubles(let values): .doubles(values)
        case .floats(let values): .floats(values)
        case .bool(let value): .bool(value)
        }
    }

    /// The parameter an attribute read back holds.
    init(_ value: AttributeValue) {
        switch value {
        case .string(let value): self = .string(value)
        case .strings(let values): self = .strings(values)
        case .int(let value): self = .int(value)
        case .ints(let values): self = .ints(values)
        case .double(let value): self = .double(value)
        case .doubles(let values): self = .doubles(values)
        case .floats(let values): self = .floats(values)
        case .bool(let value): self = .bool(value)
        }
    }
}

extension ShardParameter: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}
