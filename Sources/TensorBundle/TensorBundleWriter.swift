/// Writes single-shard TensorFlow V2 tensor bundles (what ``TensorBundle`` reads): uncompressed LevelDB-table blocks
/// with prefix-compressed keys, a restart point every ``restartInterval`` entries, a new data block every
/// ``entriesPerBlock`` entries, masked CRC-32C block trailers and tensor checksums, `BundleEntryProto` values.
/// For tests and fixtures (TensorFlow itself is the reference writer; `scripts/make_musicnn_forward_golden.py`
/// holds an independent one).
public struct TensorBundleWriter: Sendable {
    /// One tensor to write: float32 elements, row-major in `shape`, stored under TensorFlow's `dataTypeCode`
    /// (1 = DT_FLOAT; another code stores the same 4-byte elements under that type, for tests).
    public struct Tensor: Sendable {
        public var name: String
        public var shape: [Int]
        public var values: [Float]
        public var dataTypeCode: Int

        public init(name: String, shape: [Int], values: [Float], dataTypeCode: Int = 1) {
            self.name = name
            self.shape = shape
            self.values = values
            self.dataTypeCode = dataTypeCode
        }
    }

    /// Entries between restart points (keys at a restart point share no prefix).
    public var restartInterval: Int
    /// Entries per data block (the bundle header counts as one).
    public var entriesPerBlock: Int

    public init(restartInterval: Int = 2, entriesPerBlock: Int = 3) {
        precondition(restartInterval >= 1 && entriesPerBlock >= 1)
        self.restartInterval = restartInterval
        self.entriesPerBlock = entriesPerBlock
    }

    /// The `.index` and `.data-00000-of-00001` bytes of a bundle holding `tensors` (any order: sorted here).
    public func write(_ tensors: [Tensor]) -> (index: [UInt8], data: [UInt8]) {
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

    /// `BundleHeaderProto`: num_shards 1, endianness LITTLE (0, the default: omitted), version { producer 1 }.
    static func header() -> [UInt8] { [0x08, 0x01] + [0x1A, 0x02, 0x08, 0x01] }

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
