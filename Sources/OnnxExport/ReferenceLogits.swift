import Dispatch
import Foundation
import Net
import Training

/// What ``OnnxExporter/writeReferenceLogits(checkpointPath:windowsPath:logitsPath:batch:threads:)`` ran.
public struct ReferenceRun: Sendable, Equatable {
    /// Windows read and classified.
    public var windows: Int
    /// Windows per forward pass, and the threads each pass was split across (``Parallelism/batch(threads:)``).
    public var batch: Int
    public var threads: Int
    /// Seconds spent in the forward passes (after one untimed warm-up pass of the first batch), and
    /// `windows / seconds`.
    public var seconds: Double
    public var windowsPerSecond: Double { seconds > 0 ? Double(windows) / seconds : 0 }
}

extension OnnxExporter {
    /// GenreKit's own logits for given windows, to compare an exported model with (`scripts/check_onnx.py`,
    /// `scripts/bench_onnx.py`): reads `windowsPath`, raw little-endian float32 windows `[N, 1, n_mels,
    /// window_frames]` (row-major, normalised like the ONNX input), runs the checkpoint's network on them in
    /// evaluation mode, `batch` windows at a time split across `threads` threads, and writes the logits
    /// `[N, classes]` to `logitsPath` as raw little-endian float32. Times the forward passes (not the files).
    @discardableResult
    public static func writeReferenceLogits(
        checkpointPath: String, windowsPath: String, logitsPath: String, batch: Int = 32,
        threads: Int = ProcessInfo.processInfo.activeProcessorCount
    ) throws(OnnxExportError) -> ReferenceRun {
        let checkpoint: Checkpoint
        let model: Sequential
        do {
            checkpoint = try Checkpoint.read(from: checkpointPath)
            model = try checkpoint.makeModel(path: checkpointPath)
        } catch {
            throw .checkpoint(error)
        }
        model.parallelism = .batch(threads: max(1, threads))
        let shape = checkpoint.modelSpec.inputShape
        let perWindow = shape.reduce(1, *)
        guard let data = FileManager.default.contents(atPath: windowsPath) else {
            throw .model(path: windowsPath, reason: "cannot read the windows file")
        }
        guard !data.isEmpty, data.count % (4 * perWindow) == 0 else {
            throw .model(
                path: windowsPath,
                reason: "holds \(data.count) bytes, not a whole number of float32 windows \(shape) (\(4 * perWindow) bytes each)")
        }
        let count = data.count / (4 * perWindow)
        let values = data.withUnsafeBytes { raw in
            (0..<(count * perWindow)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
        }
        let step = max(1, batch)
        func forward(_ start: Int) -> Tensor {
            let end = min(count, start + step)
            let input = Tensor(shape: [end - start] + shape, scalars: Array(values[(start * perWindow)..<(end * perWindow)]))
            return model.forward(input, training: false)
        }
        _ = forward(0)  // warm-up: buffers, thread pool
        var logits = [Float]()
        logits.reserveCapacity(count * checkpoint.modelSpec.classes)
        let startTime = DispatchTime.now().uptimeNanoseconds
        for start in stride(from: 0, to: count, by: step) { logits += forward(start).scalars }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - startTime) / 1e9
        var bytes = Data(capacity: logits.count * 4)
        for value in logits { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        try AtomicFile.write(bytes, to: logitsPath)
        return ReferenceRun(windows: count, batch: step, threads: max(1, threads), seconds: seconds)
    }
}
