/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of LevelDB blocks and TensorFlow tensor
/// bundles, computed in software with a byte table. TensorFlow stores checksums *masked* (``mask(_:)``) so that a
/// CRC of data that itself holds CRCs does not degenerate.
public enum CRC32C {
    static let table: [UInt32] = (0..<256).map { byte in
        var crc = UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        return crc
    }

    /// The CRC-32C of `bytes`, continuing from `crc` (0 to start), e.g. `checksum(Array("123456789".utf8))` =
    /// 0xE3069283.
    public static func checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        var c = ~crc
        table.withUnsafeBufferPointer { t in
            for byte in bytes { c = t[Int((c ^ UInt32(byte)) & 0xFF)] ^ (c >> 8) }
        }
        return ~c
    }

    /// The CRC-32C of `bytes[range]`, continuing from `crc`.
    public static func checksum(_ bytes: [UInt8], range: Range<Int>? = nil, continuing crc: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBytes { raw in
            let r = range ?? 0..<raw.count
            return checksum(UnsafeRawBufferPointer(rebasing: raw[r]), continuing: crc)
        }
    }

    /// TensorFlow's and LevelDB's masking: rotate right by 15 bits and add 0xa282ead8.
    public static func mask(_ crc: UInt32) -> UInt32 { ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8 }

    /// The inverse of ``mask(_:)``.
    public static func unmask(_ masked: UInt32) -> UInt32 {
        let rotated = masked &- 0xA282_EAD8
        return (rotated >> 17) | (rotated << 15)
    }
}
