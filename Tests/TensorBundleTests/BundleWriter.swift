@testable import TensorBundle

/// A minimal TensorFlow tensor-bundle writer for tests (an independent implementation of the format the reader
/// parses): uncompressed LevelDB-table blocks with prefix-compressed keys, restart points every `restartInterval`
/// entries, a new data block every `entriesPerBlock` entries, masked CRC-32C trailers, `BundleEntryProto` values.
struct BundleWriter {
    struct Tensor {
        var name: String
        var shape: [Int]
        var values: [Float]
        var dataTypeCode = 1
    }

    var restartInterval = 2
    var entriesPerBlock = 3

    /// The `.index` and `.data-00000-of-00001` bytes of a bundle holding `tensors` (any order: sorted here).
    func write(_ tensors: [Tensor]) -> (index: [UInt8], data: [UInt8]) {
        var data = [UInt8]()
        var pairs = [([UInt8], [UInt8])]()
        pairs.append(([], Self.header()))
        for tensor in tensors.sorted(by: { Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8)) }) {
            let offset = data.count
            var bytes = [UInt8]()
            for v in tensor.values { bytes += Self.fixed32(v.bitPattern) }
            data += bytes
            let crc = CRC32C.mask(CRC32C.checksum(bytes))
            pairs.append((Array(tensor.name.utf8), Self.entry(tensor, offset: offset, size: bytes.count, maskedCRC: crc)))
        }
        var file = [UInt8]()
        var indexPairs = [([UInt8], [UInt8])]()
        var start = 0
        while start < pairs.count {
            let chunk = Array(pairs[start..<min(start + entriesPerBlock, pairs.count)])
            let handle = Self.appendBlock(block(chunk), to: &file)
            indexPairs.append((chunk.last!.0, handle))
            start += entriesPerBlock
        }
        let metaindex = Self.appendBlock(block([]), to: &file)
        let index = Self.appendBlock(block(indexPairs), to: &file)
        var footer = metaindex + index
        footer += [UInt8](repeating: 0, count: 40 - footer.count)
        footer += Self.fixed32(UInt32(SSTable.magic & 0xFFFF_FFFF)) + Self.fixed32(UInt32(SSTable.magic >> 32))
        return (file + footer, data)
    }

    func block(_ pairs: [([UInt8], [UInt8])]) -> [UInt8] {
        var out = [UInt8]()
        var restarts = [UInt32]()
        var previous = [UInt8]()
        for (i, (key, value)) in pairs.enumerated() {
            var shared = 0
            if i % restartInterval == 0 {
                restarts.append(UInt32(out.count))
            } else {
                while shared < min(previous.count, key.count), previous[shared] == key[shared] { shared += 1 }
            }
            out += Self.varint(UInt64(shared)) + Self.varint(UInt64(key.count - shared)) + Self.varint(UInt64(value.count))
            out += key[shared...] + value
            previous = key
        }
        if restarts.isEmpty { restarts = [0] }
        for r in restarts { out += Self.fixed32(r) }
        return out + Self.fixed32(UInt32(restarts.count))
    }

    /// Appends block + trailer; returns the encoded block handle.
    static func appendBlock(_ block: [UInt8], to file: inout [UInt8]) -> [UInt8] {
        let handle = varint(UInt64(file.count)) + varint(UInt64(block.count))
        let crc = CRC32C.mask(CRC32C.checksum(block + [0]))
        file += block + [0] + fixed32(crc)
        return handle
    }

    static func header() -> [UInt8] {
        // num_shards 1, endianness LITTLE (0, default: omitted), version { producer 1 }
        [0x08, 0x01] + [0x1A, 0x02, 0x08, 0x01]
    }

    static func entry(_ tensor: Tensor, offset: Int, size: Int, maskedCRC: UInt32) -> [UInt8] {
        var shape = [UInt8]()
        for extent in tensor.shape {
            let dim = [0x08] + varint(UInt64(extent))
            shape += [0x12] + varint(UInt64(dim.count)) + dim
        }
        var out = [0x08] + varint(UInt64(tensor.dataTypeCode))
        out += [0x12] + varint(UInt64(shape.count)) + shape
        if offset != 0 { out += [0x20] + varint(UInt64(offset)) }
        out += [0x28] + varint(UInt64(size))
        out += [0x35] + fixed32(maskedCRC)
        return out
    }

    static func varint(_ value: UInt64) -> [UInt8] {
        var v = value
        var out = [UInt8]()
        while v >= 0x80 {
            out.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        return out + [UInt8(v)]
    }

    static func fixed32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
}
