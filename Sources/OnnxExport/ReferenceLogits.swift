import Foundation
import Net
import Training

extension OnnxExporter {
    /// GenreKit's own logits for given windows, to compare an exported model with (`scripts/check_onnx.py`):
    /// reads `windowsPath`, raw little-endian float32 windows `[N, 1, n_mels, window_frames]` (row-major, normalised
    /// like the ONNX input), runs the checkpoint's network on them in evaluation mode, and writes the logits
    /// `[N, classes]` to `logitsPath` as raw little-endian float32. Returns `N`.
    @discardableResult
    public static func writeReferenceLogits(checkpointPath: String, windowsPath: String, logitsPath: String)
        throws(OnnxExportError) -> Int
    {
        let checkpoint: Checkpoint
        let model: Sequential
        do {
            checkpoint = try Checkpoint.read(from: checkpointPath)
            model = try checkpoint.makeModel(path: checkpointPath)
        } catch {
            throw .checkpoint(error)
        }
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
        let logits = model.forward(Tensor(shape: [count] + shape, scalars: values), training: false)
        var bytes = Data(capacity: logits.count * 4)
        for value in logits.scalars { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        try AtomicFile.write(bytes, to: logitsPath)
        return count
    }
}
