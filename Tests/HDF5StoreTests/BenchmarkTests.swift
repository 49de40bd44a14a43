import Foundation
import Testing
@testable import HDF5Store

/// Throughput, printed, never asserted; off unless `GENREKIT_BENCH=1` (meaningful in release builds:
/// `GENREKIT_BENCH=1 swift test -c release -Xswiftc -enable-testing --filter HDF5StoreTests.BenchmarkTests`).
@Suite(.enabled(if: ProcessInfo.processInfo.environment["GENREKIT_BENCH"] != nil)) struct BenchmarkTests {
    @Test func rowWriteAndReadThroughput() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("throughput.h5")
        let (rows, mels, frames) = (64, 128, 1292)
        let clip = (0..<(mels * frames)).map { Float($0 % 977) * 0.01 }
        let megabytes = Double(rows * mels * frames * 4) / 1_048_576
        let clock = ContinuousClock()
        let file = try HDF5File.create(path: path)
        let dataset = try file.createDataset("mel", of: Float.self, shape: [rows, mels, frames], chunks: [1, mels, frames])
        let writing = try clock.measure {
            try clip.withUnsafeBufferPointer { clip in
                for row in 0..<rows { try dataset.writeRows(clip, at: row) }
            }
            try file.flush()
        }
        var buffer = [Float](repeating: 0, count: mels * frames)
        let reading = try clock.measure {
            try buffer.withUnsafeMutableBufferPointer { buffer in
                for row in 0..<rows { try dataset.readRows(at: row, into: buffer) }
            }
        }
        #expect(buffer == clip)
        func rate(_ duration: Duration) -> Int {
            Int(megabytes / (Double(duration.components.attoseconds) / 1e18 + Double(duration.components.seconds)))
        }
        print("HDF5Store rows [\(mels), \(frames)] float32 x \(rows): write \(rate(writing)) MB/s, read \(rate(reading)) MB/s")
    }
}
