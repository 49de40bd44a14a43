import Deflate
import Foundation

/// A read-only zip archive held in memory (a Python wheel): the central directory, and members stored (method 0)
/// or deflated (method 8), each checked against its CRC-32. ZIP64, encryption and multi-disk archives are not
/// supported (a wheel of a few tens of megabytes needs none of them).
struct ZipArchive {
    struct Member {
        let name: String
        let method: UInt16
        let flags: UInt16
        let crc32: UInt32
        let compressedSize: Int
        let uncompressedSize: Int
        let localHeaderOffset: Int
    }

    struct Malformed: Error { let reason: String }

    private let bytes: [UInt8]
    /// The members in central-directory order.
    let members: [Member]

    init(path: String) throws(Malformed) {
        guard let data = FileManager.default.contents(atPath: path) else { throw Malformed(reason: "cannot read the file") }
        try self.init(bytes: [UInt8](data))
    }

    init(bytes: [UInt8]) throws(Malformed) {
        self.bytes = bytes
        // The end-of-central-directory record: 22 bytes + a comment of at most 65535 bytes, at the end.
        let lowest = max(0, bytes.count - 22 - 65535)
        guard bytes.count >= 22,
              let end = stride(from: bytes.count - 22, through: lowest, by: -1).first(where: { Self.u32(bytes, $0) == 0x0605_4B50 })
        else { throw Malformed(reason: "not a zip archive (no end of central directory)") }
        let count = Int(Self.u16(bytes, end + 10))
        let directorySize = Int(Self.u32(bytes, end + 12)), directoryOffset = Int(Self.u32(bytes, end + 16))
        guard count != 0xFFFF, directorySize != 0xFFFF_FFFF, directoryOffset != 0xFFFF_FFFF else {
            throw Malformed(reason: "ZIP64 archives are not supported")
        }
        guard directoryOffset + directorySize <= end else { throw Malformed(reason: "the central directory lies past its end record (truncated?)") }
        var members = [Member]()
        var at = directoryOffset
        for _ in 0..<count {
            guard at + 46 <= end, Self.u32(bytes, at) == 0x0201_4B50 else {
                throw Malformed(reason: "central directory entry \(members.count) is damaged")
            }
            let nameLength = Int(Self.u16(bytes, at + 28)), extraLength = Int(Self.u16(bytes, at + 30))
            let commentLength = Int(Self.u16(bytes, at + 32))
            guard at + 46 + nameLength <= end else { throw Malformed(reason: "central directory entry \(members.count) is damaged") }
            let name = String(decoding: bytes[(at + 46)..<(at + 46 + nameLength)], as: UTF8.self)
            members.append(Member(
                name: name, method: Self.u16(bytes, at + 10), flags: Self.u16(bytes, at + 8), crc32: Self.u32(bytes, at + 16),
                compressedSize: Int(Self.u32(bytes, at + 20)), uncompressedSize: Int(Self.u32(bytes, at + 24)),
                localHeaderOffset: Int(Self.u32(bytes, at + 42))))
            at += 46 + nameLength + extraLength + commentLength
        }
        self.members = members
    }

    /// The member named `name`, if any.
    func member(_ name: String) -> Member? { members.first { $0.name == name } }

    /// The contents of `member`, inflated and checked against its CRC-32.
    func contents(_ member: Member) throws(Malformed) -> [UInt8] {
        let at = member.localHeaderOffset
        guard at + 30 <= bytes.count, Self.u32(bytes, at) == 0x0403_4B50 else {
            throw Malformed(reason: "\(member.name): the local header is damaged")
        }
        guard member.flags & 1 == 0 else { throw Malformed(reason: "\(member.name) is encrypted") }
        let start = at + 30 + Int(Self.u16(bytes, at + 26)) + Int(Self.u16(bytes, at + 28))
        guard start <= bytes.count, member.compressedSize <= bytes.count - start else {
            throw Malformed(reason: "\(member.name) runs past the end of the archive (truncated?)")
        }
        let stored = Array(bytes[start..<(start + member.compressedSize)])
        let data: [UInt8]
        switch member.method {
        case 0:
            data = stored
        case 8:
            do {
                data = try Zlib.inflateRaw(stored, originalSize: member.uncompressedSize)
            } catch {
                throw Malformed(reason: "\(member.name) does not inflate: \(error.message)")
            }
        default:
            throw Malformed(reason: "\(member.name) uses compression method \(member.method) (only stored and deflate are supported)")
        }
        guard data.count == member.uncompressedSize, Zlib.crc32(data) == member.crc32 else {
            throw Malformed(reason: "\(member.name) fails its CRC-32 (damaged archive)")
        }
        return data
    }

    private static func u16(_ b: [UInt8], _ i: Int) -> UInt16 { UInt16(b[i]) | UInt16(b[i + 1]) << 8 }
    private static func u32(_ b: [UInt8], _ i: Int) -> UInt32 {
        UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24
    }
}
