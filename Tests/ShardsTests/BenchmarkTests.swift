import Foundation
import Testing
@testable import Shards

/// Throughput, printed, never asserted; off unless `GENREKIT_BENCH=1` (meaningful in release builds:
/// `GENREKIT_BENCH=1 swift test -c release -Xswiftc -enable-testing --filter ShardsTests.BenchmarkTests`).
@Suite(.enabled(if: ProcessInfo.processInfo.environment["GENREKIT_BENCH"] != nil)) struct BenchmarkTests {
    @Test func appendThroughputFor256FullSizeClips() throws {
        let directory = try TemporaryDirectory()
        let (clips, fullMels, fullFrames) = (256, 128, 1292)
        let full = ShardMetadata(classes: ["a", "b"], split: "train", nMels: fullMels, frames: fullFrames,
                                 normMean: [Float](repeating: 0, count: fullMels),
                                 normStd: [Float](repeating: 1, count: fullMels))
        let values = (0..<(fullMels * fullFrames)).map { Float($0 % 1013) * 0.001 }
        let path = directory.file("train-00000.h5")
        let clock = ContinuousClock()
        var writer = try ShardWriter(path: path, metadata: full, capacity: clips)
        let appending = try clock.measure {
            try values.withUnsafeBufferPointer { values in
                for index in 0..<clips {
                    try writer.append(mel: values, label: Int32(index % 2), path: "a/\(index).wav", padded: false,
                                      seconds: 30)
                }
            }
        }
        let committed = clock.now
        try writer.commit()
        let committing = clock.now - committed
        let reader = try ShardReader(path: path)
        var buffer = [Float](repeating: 0, count: fullMels * fullFrames)
        let reading = try clock.measure {
            try buffer.withUnsafeMutableBufferPointer { buffer in
                for index in 0..<clips { try reader.mel(at: index, into: buffer) }
            }
        }
        #expect(buffer == values)
        let megabytes = Double(clips * fullMels * fullFrames * 4) / 1_048_576
        func seconds(_ duration: Duration) -> Double {
            Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        }
        print("Shards: 256 clips of [128, 1292] float32 (\(Int(megabytes)) MiB): append \(Int(megabytes / seconds(appending))) "
              + "MB/s, append+commit (with fsync) \(Int(megabytes / seconds(appending + committing))) MB/s, "
              + "read \(Int(megabytes / seconds(reading))) MB/s")
    }

    /// The shard checksum's hashing rate.
    @Test
    func printsHashingRate() {
        let values = [Float](repeating: 0.5, count: 16 << 20)  // 64 MB
        var hasher = ShardChecksum()
        let clock = ContinuousClock()
        let elapsed = clock.measure { values.withUnsafeBufferPointer { hasher.update($0) } }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print("ShardChecksum (xxh64): \(String(format: "%.2f", Double(values.count * 4) / seconds / 1e9)) GB/s")
        #expect(hasher.byteCount == UInt64(values.count * 4))
    }
}
