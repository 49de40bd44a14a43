import Foundation
import TestSupport
import Testing

@testable import TensorBundle

@Suite struct TensorBundleTests {
    static let tensors: [TensorBundleWriter.Tensor] = [
        .init(name: "1CNN/kernel", shape: [3, 3, 1, 2], values: (0..<18).map { Float($0) * 0.25 - 2 }),
        .init(name: "1CNN/bias", shape: [2], values: [0.5, -1.5]),
        .init(name: "batch_normalization/gamma", shape: [1], values: [1.25]),
        .init(name: "batch_normalization/beta", shape: [1], values: [-0.125]),
        .init(name: "dense/kernel", shape: [4, 3], values: (0..<12).map { Float($0).squareRoot() }),
        .init(name: "global_step", shape: [], values: [0], dataTypeCode: 9),
        .init(name: "scalar", shape: [], values: [.pi]),
    ]

    static func bundleBytes() -> (index: [UInt8], data: [UInt8]) { TensorBundleWriter().write(tensors) }

    @Test func crc32cKnownAnswer() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        for crc: UInt32 in [0, 1, 0xDEAD_BEEF, 0xFFFF_FFFF] { #expect(CRC32C.unmask(CRC32C.mask(crc)) == crc) }
    }

    @Test func readsBackEveryTensor() throws {
        let (index, data) = Self.bundleBytes()
        let bundle = try TensorBundle(indexBytes: index, dataBytes: data, source: "test")
        #expect(bundle.names == Self.tensors.map(\.name).sorted())
        #expect(bundle.shardCount == 1)
        #expect(bundle.producerVersion == 1)
        for tensor in Self.tensors {
            let entry = try bundle.entry(tensor.name)
            #expect(entry.shape == tensor.shape)
            #expect(entry.dataType == TensorDataType(code: tensor.dataTypeCode))
            if entry.dataType == .float { #expect(try bundle.floats(tensor.name) == tensor.values) }
        }
    }

    @Test func oneEntryPerBlockAndNoPrefixSharingAlsoRead() throws {
        for writer in [TensorBundleWriter(restartInterval: 1, entriesPerBlock: 1), TensorBundleWriter(restartInterval: 16, entriesPerBlock: 100)] {
            let (index, data) = writer.write(Self.tensors)
            let bundle = try TensorBundle(indexBytes: index, dataBytes: data)
            #expect(try bundle.floats("dense/kernel") == Self.tensors[4].values)
        }
    }

    @Test func prefixPathReadsTheTwoFiles() throws {
        let directory = try TemporaryDirectory("tensorbundle")
        let (index, data) = Self.bundleBytes()
        try Data(index).write(to: URL(fileURLWithPath: directory.file(".index")))
        try Data(data).write(to: URL(fileURLWithPath: directory.file(".data-00000-of-00001")))
        let bundle = try TensorBundle(prefixPath: directory.path + "/")
        #expect(try bundle.floats("1CNN/bias") == [0.5, -1.5])
        #expect(bundle.source == directory.path + "/.index")
        #expect(throws: TensorBundleError.unreadableFile(path: directory.path + "/x.index", reason: "no such file")) {
            try TensorBundle(prefixPath: directory.path + "/x")
        }
    }

    @Test func damagedTensorBytesFailTheirChecksum() throws {
        var (index, data) = Self.bundleBytes()
        let bundle0 = try TensorBundle(indexBytes: index, dataBytes: data)
        let entry = try bundle0.entry("dense/kernel")
        data[entry.offset + 5] ^= 0x10
        let bundle = try TensorBundle(indexBytes: index, dataBytes: data, source: "b")
        #expect(try bundle.floats("1CNN/bias") == [0.5, -1.5])
        do {
            _ = try bundle.floats("dense/kernel")
            Issue.record("no error")
        } catch {
            guard case .tensorChecksumMismatch(let source, let name, _, _) = error else { Issue.record("\(error)"); return }
            #expect(source == "b" && name == "dense/kernel")
            #expect(error.description.hasPrefix("b: tensor dense/kernel fails its checksum"))
        }
        _ = index
    }

    @Test func damagedIndexBlockFailsItsChecksum() throws {
        var (index, data) = Self.bundleBytes()
        // A byte inside the first data block's tensor name.
        index[10] ^= 0x01
        #expect {
            try TensorBundle(indexBytes: index, dataBytes: data, source: "b")
        } throws: { error in
            guard case .malformedIndex(_, let reason) = error as? TensorBundleError else { return false }
            return reason.contains("data block 0 fails its checksum")
        }
    }

    @Test func compressedBlockIsRefused() throws {
        // One data block at offset 0; its trailer ends where the metaindex block (first handle of the footer) starts.
        var (index, data) = TensorBundleWriter(restartInterval: 2, entriesPerBlock: 100).write(Self.tensors)
        var cursor = index.count - 48
        let metaindexOffset = Int(SSTable.varint(index[...], &cursor, limit: index.count)!)
        index[metaindexOffset - 5] = 1
        #expect {
            try TensorBundle(indexBytes: index, dataBytes: data)
        } throws: { error in
            (error as? TensorBundleError)?.description.contains("data block 0 is compressed (snappy)") == true
        }
    }

    @Test func truncatedIndexAndDataAreNamed() throws {
        let (index, data) = Self.bundleBytes()
        #expect {
            try TensorBundle(indexBytes: Array(index.prefix(30)), dataBytes: data, source: "b")
        } throws: { error in
            (error as? TensorBundleError)?.description.contains("too short for a table footer") == true
        }
        // Cut in the middle: the footer is gone, so the last 8 bytes are not the magic number.
        #expect {
            try TensorBundle(indexBytes: Array(index.prefix(index.count - 20)), dataBytes: data, source: "b")
        } throws: { error in
            (error as? TensorBundleError)?.description.contains("wrong magic number") == true
        }
        let bundle = try TensorBundle(indexBytes: index, dataBytes: Array(data.prefix(data.count - 3)), source: "b")
        let last = bundle.names.filter { (try? bundle.entry($0).dataType) == .float }.max { try! bundle.entry($0).offset < bundle.entry($1).offset }!
        #expect {
            try bundle.floats(last)
        } throws: { error in
            guard case .truncatedTensor(_, let name, let reason) = error as? TensorBundleError else { return false }
            return name == last && reason.contains("past the end of the data file")
        }
    }

    @Test func wrongMagicIsNamed() throws {
        var (index, data) = Self.bundleBytes()
        index[index.count - 1] ^= 0xFF
        #expect {
            try TensorBundle(indexBytes: index, dataBytes: data, source: "model.index")
        } throws: { error in
            let text = (error as? TensorBundleError)?.description ?? ""
            return text.hasPrefix("model.index: damaged tensor bundle index: wrong magic number") && !text.contains("\n")
        }
    }

    @Test func otherDataTypesAreRefusedByName() throws {
        var tensors = Self.tensors
        tensors.append(.init(name: "odd", shape: [2], values: [1, 2], dataTypeCode: 77))
        let (index, data) = TensorBundleWriter().write(tensors)
        let bundle = try TensorBundle(indexBytes: index, dataBytes: data, source: "b")
        #expect(try bundle.entry("odd").dataType == .other(77))
        #expect(throws: TensorBundleError.unsupportedTensor(source: "b", name: "odd", reason: "data type DataType 77, expected DT_FLOAT")) {
            try bundle.floats("odd")
        }
        #expect(throws: TensorBundleError.unsupportedTensor(source: "b", name: "global_step", reason: "data type DT_INT64, expected DT_FLOAT")) {
            try bundle.floats("global_step")
        }
        #expect(throws: TensorBundleError.noSuchTensor(source: "b", name: "nope")) { try bundle.floats("nope") }
    }

    @Test func sizeThatDisagreesWithTheShapeIsNamed() throws {
        var tensors = Self.tensors
        tensors[1].shape = [3]  // 2 floats stored for 3 elements
        let (index, data) = TensorBundleWriter().write(tensors)
        let bundle = try TensorBundle(indexBytes: index, dataBytes: data, source: "b")
        #expect(throws: TensorBundleError.truncatedTensor(source: "b", name: "1CNN/bias", reason: "8 bytes stored for shape [3] (3 floats)")) {
            try bundle.floats("1CNN/bias")
        }
    }
}
