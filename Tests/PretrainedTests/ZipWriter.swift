import Deflate

/// Writes small zip archives for tests: each member stored (method 0) or deflated (method 8, zlib's stream without
/// its 2-byte header and 4-byte Adler-32), with its CRC-32.
struct ZipWriter {
    private(set) var bytes = [UInt8]()
    private var directory = [UInt8]()
    private var count = 0

    mutating func add(_ name: String, _ data: [UInt8], deflate: Bool = true) throws {
        let stored = deflate ? Array(try Zlib.compress(data).dropFirst(2).dropLast(4)) : data
        let crc = Zlib.crc32(data)
        let nameBytes = Array(name.utf8)
        let offset = bytes.count
        let method: UInt16 = deflate ? 8 : 0
        bytes += u32(0x0403_4B50) + u16(20) + u16(0) + u16(method) + u16(0) + u16(0) + u32(crc)
            + u32(UInt32(stored.count)) + u32(UInt32(data.count)) + u16(UInt16(nameBytes.count)) + u16(0) + nameBytes + stored
        directory += u32(0x0201_4B50) + u16(20) + u16(20) + u16(0) + u16(method) + u16(0) + u16(0) + u32(crc)
            + u32(UInt32(stored.count)) + u32(UInt32(data.count)) + u16(UInt16(nameBytes.count)) + u16(0) + u16(0)
            + u16(0) + u16(0) + u32(0) + u32(UInt32(offset)) + nameBytes
        count += 1
    }

    /// The archive: members, central directory, end record.
    func finished() -> [UInt8] {
        bytes + directory + u32(0x0605_4B50) + u16(0) + u16(0) + u16(UInt16(count)) + u16(UInt16(count))
            + u32(UInt32(directory.count)) + u32(UInt32(bytes.count)) + u16(0)
    }

    private func u16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
    private func u32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
}
