import Foundation
import Testing

@testable import Pipeline

/// `ContentHash` is XXH64: known answers from Python's `xxhash` package (independent of the libxxhash linked here),
/// made by `scripts/make_checksum_vectors.py`.
@Suite struct ContentHashTests {
    @Test func samplesAreXXH64OfTheirBytesSeededWithTheRate() {
        let samples = (0..<1000).map { Float($0 % 17 - 8) / 16 }  // exact in float32
        func hash(_ rate: Int) -> UInt64 {
            samples.withUnsafeBufferPointer { ContentHash(samples: $0, sampleRate: rate).value }
        }
        #expect(hash(22050) == 0x5FFA_E525_6FAB_7745)
        #expect(hash(44100) == 0xD583_8F40_C937_8D1F)
        #expect([Float]().withUnsafeBufferPointer { ContentHash(samples: $0, sampleRate: 22050).value } == 0xD65F_DADE_10D4_B5FE)
    }

    @Test func bytesAreXXH64WithSeedZero() {
        #expect(ContentHash(bytes: [UInt8]()).value == 0xEF46_DB37_51D8_E999)
        #expect(ContentHash(bytes: "abc".utf8).value == 0x44BC_2CF5_AD77_0999)
        #expect(ContentHash(bytes: "rock/rock.00000.au".utf8).value == 0x64F2_BF41_AB93_B352)
        #expect(ContentHash(bytes: Array("blues/blues.00042.au".utf8)).value == 0x2497_4EA1_3750_DE40)
        // A sequence without contiguous storage hashes the same bytes.
        #expect(ContentHash(bytes: "abc".utf8.lazy.map { $0 }).value == 0x44BC_2CF5_AD77_0999)
        #expect(ContentHash(value: 0x44BC_2CF5_AD77_0999).description == "44bc2cf5ad770999")
        #expect(ContentHash(value: 0xFF).description == "00000000000000ff")
    }

    @Test func filesAreXXH64OfTheirBytes() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("contenthash-\(getpid()).bin").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        // 1 MiB + 1 MiB - 1 bytes: a full read block and a partial one.
        let pattern = (0..<(1 << 20)).map { UInt8($0 % 251) }
        try Data(pattern).write(to: URL(fileURLWithPath: path))
        #expect(try ContentHash(fileAt: path).value == 0x89AC_0399_C446_4A31)
        try Data(pattern + pattern.dropLast()).write(to: URL(fileURLWithPath: path))
        #expect(try ContentHash(fileAt: path).value == ContentHash(bytes: pattern + pattern.dropLast()).value)
        #expect(throws: PipelineError.self) { try ContentHash(fileAt: path + ".missing") }
    }
}
