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
        var onnx: String

        func run() throws {
            let summary = try OnnxExporter.exportFile(checkpointPath: checkpoint, onnxPath: onnx)
            print(summary.line)
        }
    }
}
