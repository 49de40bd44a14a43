import Foundation
import HDF5Store
import Testing

@testable import Shards

@Suite struct ShardChecksumTests {
    /// The stream may arrive in pieces of any size: the result depends only on the bytes.
    @Test func streamingInPiecesEqualsOneUpdate() {
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        var whole = ShardChecksum()
        whole.update(bytes)
        for piece in [1, 3, 31, 32, 33, 100] {
            var parts = ShardChecksum()
            var start = 0
            while start < bytes.count {
                let end = min(bytes.count, start + piece)
                parts.update(Array(bytes[start..<end]))
                start = end
            }
            #expect(parts.hexDigest == whole.hexDigest, "pieces of \(piece)")
        }
        #expect(whole.hexDigest.count == 16)
        #expect(whole.byteCount == 1000)
    }

    /// Any single changed byte, a trailing zero byte and a swapped pair of words change the checksum.
    @Test func detectsChanges() {
        let bytes = (0..<256).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        func digest(_ b: [UInt8]) -> String { var h = ShardChecksum(); h.update(b); return h.hexDigest }
        let reference = digest(bytes)
        for index in bytes.indices {
            var changed = bytes
            changed[index] ^= 0x80
            #expect(digest(changed) != reference, "byte \(index)")
        }
        #expect(digest(bytes + [0]) != reference)
        var swapped = bytes
        for k in 0..<8 { swapped.swapAt(k, 64 + k) }
        #expect(digest(swapped) != reference)
        #expect(digest([]) != digest([0]))
    }

    /// The writer stores the checksum of what it wrote; the reader recomputes the same; an edited clip differs.
    @Test func writerStoresAndReaderVerifies() throws {
        let directory = try TemporaryDirectory("checksum")
        let path = directory.file("train-00000.h5")
        let metadata = ShardMetadata(classes: ["a", "b"], split: "train", nMels: 4, frames: 5,
                                     normMean: [0, 1, 2, 3], normStd: [1, 1, 1, 1], parameters: ["n_fft": .int(512)])
        var writer = try ShardWriter(path: path, metadata: metadata, capacity: 1, syncToDisk: false)
        var expected = ShardChecksum()
        for clip in 0..<3 {
            let mel = (0..<20).map { Float($0 + clip * 100) }
            try writer.append(mel: mel, label: Int32(clip % 2), path: "c/\(clip).au", padded: clip == 1, seconds: 2.5)
            expected.update(mel)
        }
        try writer.commit()
        expected.update([Int32(0), 1, 0])
        expected.update(strings: ["c/0.au", "c/1.au", "c/2.au"])
        expected.update([UInt8(0), 1, 0])
        expected.update([Float(2.5), 2.5, 2.5])

        do {  // the reader keeps the file open: close it before editing
            let reader = try ShardReader(path: path)
            #expect(reader.checksum == expected.hexDigest)
            #expect(reader.checksumAlgorithm == ShardChecksum.algorithm)
            #expect(reader.metadata == metadata)  // the checksum attributes are not parameters
            #expect(try reader.verifyChecksum() == .matches)
        }

        let file = try HDF5File(openingForWriting: path)
        try [Float](repeating: 7, count: 20).withUnsafeBufferPointer { try file.writeRows($0, to: "mel", at: 1) }
        try file.close()
        do {
            let edited = try ShardReader(path: path)
            guard case .mismatch(let stored, _) = try edited.verifyChecksum() else {
                Issue.record("an edited clip was not detected")
                return
            }
            #expect(stored == expected.hexDigest)
        }

        let old = try HDF5File(openingForWriting: path)
        try old.removeAttribute(ShardSchema.checksumAttribute)
        try old.removeAttribute(ShardSchema.checksumAlgorithmAttribute)
        try old.close()
        let legacy = try ShardReader(path: path)
        #expect(legacy.checksum == nil)
        #expect(try legacy.verifyChecksum() == .absent)
    }
}

extension ShardChecksumTests {
    /// Known answers from Python's `xxhash` package (xxHash 0.8.4, independent of the libxxhash linked here), made by
    /// `scripts/make_checksum_vectors.py`.
    @Test func matchesIndependentXXH64Vectors() {
        func digest(_ bytes: [UInt8]) -> String { var h = ShardChecksum(); h.update(bytes); return h.hexDigest }
        #expect(ShardChecksum.algorithm == "xxh64")
        #expect(ShardChecksum().hexDigest == "ef46db3751d8e999")
        #expect(digest(Array("abc".utf8)) == "44bc2cf5ad770999")
        let pattern = (0..<(1 << 20)).map { UInt8($0 % 251) }  // 1 MiB, byte i = i mod 251
        #expect(digest(pattern) == "89ac0399c4464a31")
        var pieces = ShardChecksum()
        for start in stride(from: 0, to: pattern.count, by: 100_003) {
            pieces.update(Array(pattern[start..<min(pattern.count, start + 100_003)]))
        }
        #expect(pieces.hexDigest == "89ac0399c4464a31")
    }

    /// The clip data of `writerStoresAndReaderVerifies`'s shard, as Python recomputes it from the datasets.
    @Test func tinyShardChecksumMatchesPython() throws {
        let directory = try TemporaryDirectory("checksum-vector")
        let path = directory.file("train-00000.h5")
        let metadata = ShardMetadata(classes: ["a", "b"], split: "train", nMels: 4, frames: 5,
                                     normMean: [0, 1, 2, 3], normStd: [1, 1, 1, 1], parameters: ["n_fft": .int(512)])
        var writer = try ShardWriter(path: path, metadata: metadata, capacity: 1, syncToDisk: false)
        for clip in 0..<3 {
            try writer.append(mel: (0..<20).map { Float($0 + clip * 100) }, label: Int32(clip % 2), path: "c/\(clip).au",
                              padded: clip == 1, seconds: 2.5)
        }
        try writer.commit()
        let reader = try ShardReader(path: path)
        #expect(reader.checksum == "554ce3b4c67e6084")
        #expect(try reader.verifyChecksum() == .matches)
    }

    /// Shards of schema 1 (lanehash64) get one clear sentence; the current algorithm passes.
    @Test func olderShardsAreNamed() throws {
        #expect(ShardSchema.version == "genrekit-shard/2")
        try ShardChecksum.checkAlgorithm("xxh64")
        #expect(ShardChecksum.describeUnsupported(algorithm: "xxh64") == nil)
        #expect(ShardChecksum.describeUnsupported(schema: ShardSchema.version) == nil)
        let old = ShardChecksum.describeUnsupported(algorithm: "genrekit-lanehash64/1")
        #expect(old == "written by an older GenreKit (checksum genrekit-lanehash64/1): preprocess again")
        #expect(ShardChecksum.describeUnsupported(schema: "genrekit-shard/1")?.hasSuffix("preprocess again") == true)
        #expect(throws: ShardChecksum.UnsupportedAlgorithm(algorithm: "genrekit-lanehash64/1")) {
            try ShardChecksum.checkAlgorithm("genrekit-lanehash64/1")
        }
        // `found` is the attribute as printed (a string in quotes).
        #expect(ShardError.wrongSchema(path: "x.h5", found: "\"genrekit-shard/1\"").description.hasSuffix("preprocess again"))
    }
}
