/// A reader of LevelDB-format sorted string tables, the format of a TensorFlow bundle's `.index` file:
///
/// - the file ends with a 48-byte footer: the metaindex and index block handles (each `varint64 offset,
///   varint64 size`), zero padding to 40 bytes, then the magic number 0xdb4775248b80fb57 (little-endian);
/// - every block is followed by a 5-byte trailer: the compression type (0 = none) and the masked CRC-32C of the
///   block and the type byte (little-endian fixed32);
/// - a block holds prefix-compressed entries (`varint32 shared, varint32 unshared, varint32 value length,
///   unshared key bytes, value`), then the restart offsets (fixed32 each) and their count (fixed32);
/// - the index block maps a separator key to the handle of each data block.
///
/// Every key-value pair of every data block is read, in order; every block's checksum is verified.
struct SSTable {
    static let magic: UInt64 = 0xDB47_7524_8B80_FB57
    static let footerLength = 48
    static let trailerLength = 5

    struct Malformed: Error { let reason: String }

    /// The key-value pairs of all data blocks, in file (= key) order.
    let entries: [(key: [UInt8], value: ArraySlice<UInt8>)]

    init(bytes: [UInt8]) throws(Malformed) {
        guard bytes.count >= Self.footerLength else {
            throw Malformed(reason: "\(bytes.count) bytes is too short for a table footer (\(Self.footerLength) bytes); truncated?")
        }
        let footerStart = bytes.count - Self.footerLength
        let magic = Self.fixed64(bytes[...], at: bytes.count - 8)
        guard magic == Self.magic else {
            throw Malformed(reason: "wrong magic number 0x\(String(magic, radix: 16)) at the end (not a table, or truncated)")
        }
        var cursor = footerStart
        _ = try Self.blockHandle(bytes, &cursor, limit: bytes.count - 8, what: "metaindex")
        let index = try Self.blockHandle(bytes, &cursor, limit: bytes.count - 8, what: "index")
        let indexBlock = try Self.block(bytes, index, before: footerStart, what: "index block")
        var entries = [(key: [UInt8], value: ArraySlice<UInt8>)]()
        for (number, pair) in try Self.entries(of: indexBlock, what: "index block").enumerated() {
            var at = pair.value.startIndex
            let handle = try Self.blockHandle(bytes, &at, limit: pair.value.endIndex, source: pair.value, what: "data block \(number)")
            let data = try Self.block(bytes, handle, before: index.offset, what: "data block \(number)")
            entries += try Self.entries(of: data, what: "data block \(number)")
        }
        self.entries = entries
    }

    struct BlockHandle { let offset: Int; let size: Int }

    private static func blockHandle(
        _ bytes: [UInt8], _ cursor: inout Int, limit: Int, source: ArraySlice<UInt8>? = nil, what: String
    ) throws(Malformed) -> BlockHandle {
        let slice = source ?? bytes[...]
        guard let offset = varint(slice, &cursor, limit: limit), let size = varint(slice, &cursor, limit: limit),
              offset <= UInt64(Int.max), size <= UInt64(Int.max)
        else { throw Malformed(reason: "the \(what) handle is not two varints") }
        return BlockHandle(offset: Int(offset), size: Int(size))
    }

    /// The contents of the block at `handle` after checking its trailer (type 0, CRC); the block and trailer must
    /// end at or before `before`.
    private static func block(_ bytes: [UInt8], _ handle: BlockHandle, before: Int, what: String) throws(Malformed) -> ArraySlice<UInt8> {
        let (end, overflow) = handle.offset.addingReportingOverflow(handle.size)
        guard !overflow, end <= before - trailerLength, end + trailerLength <= bytes.count else {
            throw Malformed(reason: "the \(what) (offset \(handle.offset), \(handle.size) bytes + trailer) runs past its place in the file; truncated?")
        }
        let type = bytes[end]
        guard type == 0 else {
            let name = type == 1 ? "snappy" : type == 2 ? "zlib" : "type \(type)"
            throw Malformed(reason: "the \(what) is compressed (\(name)); only uncompressed tables are supported")
        }
        let stored = CRC32C.unmask(UInt32(truncatingIfNeeded: fixed64(bytes[...], at: end + 1, width: 4)))
        let actual = CRC32C.checksum(bytes, range: handle.offset..<(end + 1))
        guard stored == actual else {
            throw Malformed(reason: "the \(what) fails its checksum (stored CRC-32C 0x\(String(stored, radix: 16)), computed 0x\(String(actual, radix: 16)))")
        }
        return bytes[handle.offset..<end]
    }

    private static func entries(of block: ArraySlice<UInt8>, what: String) throws(Malformed) -> [(key: [UInt8], value: ArraySlice<UInt8>)] {
        guard block.count >= 4 else { throw Malformed(reason: "the \(what) is shorter than its restart count") }
        let restarts = Int(fixed64(block, at: block.endIndex - 4, width: 4))
        let (restartBytes, overflow) = restarts.multipliedReportingOverflow(by: 4)
        guard !overflow, restartBytes <= block.count - 4 else {
            throw Malformed(reason: "the \(what) claims \(restarts) restart points, more than it can hold")
        }
        let limit = block.endIndex - 4 - restartBytes
        var result = [(key: [UInt8], value: ArraySlice<UInt8>)]()
        var key = [UInt8]()
        var cursor = block.startIndex
        while cursor < limit {
            guard let shared = varint(block, &cursor, limit: limit), let unshared = varint(block, &cursor, limit: limit),
                  let valueLength = varint(block, &cursor, limit: limit)
            else { throw Malformed(reason: "entry \(result.count) of the \(what) has a malformed header") }
            guard shared <= UInt64(key.count), unshared <= UInt64(limit - cursor),
                  valueLength <= UInt64(limit - cursor) - unshared
            else { throw Malformed(reason: "entry \(result.count) of the \(what) runs past the block (or shares more key than exists)") }
            key.removeSubrange(Int(shared)...)
            key += block[cursor..<(cursor + Int(unshared))]
            cursor += Int(unshared)
            result.append((key, block[cursor..<(cursor + Int(valueLength))]))
            cursor += Int(valueLength)
        }
        return result
    }

    /// A varint64 of at most 10 bytes from `bytes[cursor..<limit]`, or nil if malformed or truncated.
    static func varint(_ bytes: ArraySlice<UInt8>, _ cursor: inout Int, limit: Int) -> UInt64? {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while cursor < limit, shift < 64 {
            let byte = bytes[cursor]
            cursor += 1
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
        return nil
    }

    /// A little-endian unsigned integer of `width` bytes at `offset`.
    static func fixed64(_ bytes: ArraySlice<UInt8>, at offset: Int, width: Int = 8) -> UInt64 {
        var value: UInt64 = 0
        for i in 0..<width { value |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
        return value
    }
}
