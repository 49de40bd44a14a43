/// A minimal protocol-buffers wire-format reader: enough for TensorFlow's `BundleHeaderProto`,
/// `BundleEntryProto` and `TensorShapeProto` (varints, fixed32/64 and length-delimited fields).
struct ProtobufReader {
    enum Field {
        case varint(UInt64)
        case fixed64(UInt64)
        case bytes(ArraySlice<UInt8>)
        case fixed32(UInt32)
    }

    struct Malformed: Error { let reason: String }

    private let bytes: ArraySlice<UInt8>
    private var position: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        position = bytes.startIndex
    }

    /// The next field (number and value), or nil at the end of the message.
    mutating func next() throws(Malformed) -> (number: Int, value: Field)? {
        guard position < bytes.endIndex else { return nil }
        let key = try varint()
        let number = Int(key >> 3)
        guard number >= 1 else { throw Malformed(reason: "field number 0") }
        switch key & 7 {
        case 0:
            return (number, .varint(try varint()))
        case 1:
            return (number, .fixed64(try fixed(8)))
        case 2:
            let length = try varint()
            guard length <= UInt64(bytes.endIndex - position) else {
                throw Malformed(reason: "field \(number) runs past the end of the message")
            }
            let start = position
            position += Int(length)
            return (number, .bytes(bytes[start..<position]))
        case 5:
            return (number, .fixed32(UInt32(try fixed(4))))
        case let wire:
            throw Malformed(reason: "field \(number) has unsupported wire type \(wire)")
        }
    }

    private mutating func varint() throws(Malformed) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < bytes.endIndex else { throw Malformed(reason: "truncated varint") }
            let byte = bytes[position]
            position += 1
            guard shift < 64 else { throw Malformed(reason: "varint longer than 10 bytes") }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    private mutating func fixed(_ count: Int) throws(Malformed) -> UInt64 {
        guard bytes.endIndex - position >= count else { throw Malformed(reason: "truncated fixed-width field") }
        var result: UInt64 = 0
        for i in 0..<count { result |= UInt64(bytes[position + i]) << (8 * UInt64(i)) }
        position += count
        return result
    }
}

extension ProtobufReader.Field {
    /// The value as a signed integer (int32/int64 fields are varints in two's complement).
    var integer: Int? {
        if case .varint(let v) = self { return Int(truncatingIfNeeded: v) }
        return nil
    }
}
