import ArgumentParser
import Foundation
import OnnxExport

extension Genre {
    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Export a checkpoint's network as an ONNX model (opset 17) with a JSON description beside it.",
            discussion: "Input \"spectrogram\" float32 [batch, 1, n_mels, frames], normalised per band; outputs "
                + "\"logits\" and \"probabilities\". The class names, the pipeline configuration, the normalisation "
                + "and the model spec are in the model's metadata (genrekit.*) and in OUT.json.")

        @Option(help: "Checkpoint (best.h5 of a run).")
        var checkpoint: String

        @Option(help: "The ONNX file to write (OUT.onnx; OUT.json is written beside it).")
        var onnx: String?

        /// For scripts/check_onnx.py: GenreKit's own logits on given windows (raw float32 in and out).
        @Option(help: .hidden)
        var referenceWindows: String?

        @Option(help: .hidden)
        var referenceLogits: String?

        @Option(help: .hidden)
        var referenceBatch: Int = 32

        @Option(help: .hidden)
        var referenceThreads: Int = ProcessInfo.processInfo.activeProcessorCount

        func validate() throws {
            guard (referenceWindows == nil) == (referenceLogits == nil) else {
                throw ValidationError("--reference-windows and --reference-logits go together")
            }
            guard referenceBatch >= 1, referenceThreads >= 1 else {
                throw ValidationError("--reference-batch and --reference-threads must be >= 1")
            }
            guard onnx != nil || referenceWindows != nil else { throw ValidationError("Missing expected argument '--onnx <onnx>'") }
        }

        func run() throws {
            if let onnx {
                print(try OnnxExporter.exportFile(checkpointPath: checkpoint, onnxPath: onnx).line)
            }
            if let referenceWindows, let referenceLogits {
                let run = try OnnxExporter.writeReferenceLogits(
                    checkpointPath: checkpoint, windowsPath: referenceWindows, logitsPath: referenceLogits,
                    batch: referenceBatch, threads: referenceThreads)
                print(String(
                    format: "wrote GenreKit's logits for %d windows to %@ (%.1f windows/s: batch %d, %d threads)",
                    run.windows, referenceLogits, run.windowsPerSecond, run.batch, run.threads))
            }
        }
    }
}
