import Foundation
import Net
@testable import OnnxExport
import Pipeline
import SwiftProtobuf
import Testing
import TestSupport
import Training

/// The exported bytes, read back with SwiftProtobuf: opset, names, shapes, metadata; batch-norm folding against Net.
@Suite struct ExportTests {
    @Test func genreCNNParsesBackWithDynamicBatchAndFrames() throws {
        let model = try Fixtures.model(Fixtures.genreCNN(), seed: 1)
        let checkpoint = Fixtures.checkpoint(model)
        let proto = try Fixtures.parse(try OnnxExporter.export(checkpoint: checkpoint, source: "run/best.h5"))
        #expect(proto.irVersion == 8)
        #expect(proto.opsetImport.map(\.domain) == [""] && proto.opsetImport.map(\.version) == [17])
        #expect(proto.producerName == "GenreKit")
        #expect(proto.graph.input.map(\.name) == ["spectrogram"])
        #expect(Fixtures.dimensions(proto.graph.input[0]) == ["batch", "1", "16", "frames"])
        #expect(proto.graph.output.map(\.name) == ["logits", "probabilities"])
        for output in proto.graph.output { #expect(Fixtures.dimensions(output) == ["batch", "4"]) }
        #expect(proto.graph.node.last?.opType == "Softmax")
        #expect(proto.graph.node.last?.attribute.first { $0.name == "axis" }?.i == -1)
        // conv -> bn pairs are folded: no batch-norm arithmetic is left in the graph.
        let ops = proto.graph.node.map(\.opType)
        #expect(ops.filter { $0 == "Conv" }.count == 2)
        #expect(!ops.contains("Mul") && !ops.contains("BatchNormalization") && !ops.contains("Dropout"))

        let metadata = Fixtures.metadata(proto)
        let keys = [
            "classes", "pipeline", "norm_mean", "norm_std", "normalisation", "model_spec", "window_frames", "window_hop",
            "frames", "minimum_frames", "output", "clip_prediction", "batch_norm", "source_checkpoint", "producer", "version",
        ]
        for key in keys { #expect(metadata["genrekit." + key] != nil, "genrekit.\(key)") }
        #expect(metadata.keys.allSatisfy { $0.hasPrefix("genrekit.") })
        func decode<T: Decodable>(_ type: T.Type, _ key: String) throws -> T {
            try JSONDecoder().decode(T.self, from: Data(metadata["genrekit." + key]!.utf8))
        }
        #expect(try decode([String].self, "classes") == ["c0", "c1", "c2", "c3"])
        #expect(try decode([Float].self, "norm_mean") == checkpoint.normMean)
        #expect(try decode([Float].self, "norm_std") == checkpoint.normStd)
        #expect(try decode(ModelSpec.self, "model_spec") == checkpoint.modelSpec)
        #expect(try PipelineConfiguration.fromJSON(metadata["genrekit.pipeline"]!) == checkpoint.pipeline())
        #expect(try decode(Int.self, "window_frames") == 32 && decode(Int.self, "window_hop") == 16)
        #expect(try decode(Int.self, "minimum_frames") == 4)  // two 2x2 pools
        #expect(metadata["genrekit.output"] == "softmax" && metadata["genrekit.source_checkpoint"] == "run/best.h5")
        struct Note: Decodable { var folded: [String]; var affine: [String] }
        let note = try decode(Note.self, "batch_norm")
        #expect(note.folded == ["1.bn into 0.conv", "5.bn into 4.conv"] && note.affine.isEmpty)
    }

    @Test func flattenModelsHaveFixedFramesAndAffineBatchNorms() throws {
        let model = try Fixtures.model(Fixtures.musicnnLike(), seed: 2)
        let proto = try Fixtures.parse(try OnnxExporter.export(checkpoint: Fixtures.checkpoint(model)))
        #expect(Fixtures.dimensions(proto.graph.input[0]) == ["batch", "1", "128", "160"])
        #expect(proto.graph.node.last?.opType == "Sigmoid")
        let metadata = Fixtures.metadata(proto)
        #expect(metadata["genrekit.output"] == "sigmoid" && metadata["genrekit.minimum_frames"] == "160")
        struct Note: Decodable { var folded: [String]; var affine: [String] }
        let note = try JSONDecoder().decode(Note.self, from: Data(metadata["genrekit.batch_norm"]!.utf8))
        // The input batch norm (before a padded conv) and every bn after a ReLU stay per-channel affine maps.
        #expect(note.folded.isEmpty)
        #expect(note.affine == ["0.bn", "3.bn", "8.bn", "13.bn", "18.bn", "23.bn"])
        #expect(proto.graph.node.filter { $0.opType == "Mul" }.count == 6)

        // An imported network's training configuration keeps the default crop (128 frames) and no window hop: the
        // metadata's hop is the one prediction uses, the network's own width (160), not the configuration's crop.
        var imported = Fixtures.checkpoint(model)
        imported.training = TrainingConfiguration()
        let importedMetadata = Fixtures.metadata(try Fixtures.parse(try OnnxExporter.export(checkpoint: imported)))
        #expect(importedMetadata["genrekit.window_hop"] == "160" && imported.evaluationWindowHop == 160)
    }

    @Test func residualBlocksFoldEveryBatchNorm() throws {
        let model = try Fixtures.model(Fixtures.residual(), seed: 3)
        let proto = try Fixtures.parse(try OnnxExporter.export(checkpoint: Fixtures.checkpoint(model)))
        let metadata = Fixtures.metadata(proto)
        struct Note: Decodable { var folded: [String]; var affine: [String] }
        let note = try JSONDecoder().decode(Note.self, from: Data(metadata["genrekit.batch_norm"]!.utf8))
        #expect(note.folded == [
            "0.residual.bn1 into 0.residual.conv1", "0.residual.bn2 into 0.residual.conv2",
            "0.residual.shortcut_bn into 0.residual.shortcut_conv", "2.residual.bn1 into 2.residual.conv1",
            "2.residual.bn2 into 2.residual.conv2",
        ])
        #expect(note.affine.isEmpty)
        #expect(Fixtures.dimensions(proto.graph.input[0]).last == "frames")
    }

    /// Net's conv -> batch norm (evaluation) against a direct convolution with the folded weights.
    @Test(arguments: [(1, 1), (0, 2)])
    func foldingEqualsConvolutionThenBatchNorm(padding: Int, stride: Int) throws {
        let (cIn, h, w, cOut, k) = (2, 5, 7, 3, 3)
        let oh = (h + 2 * padding - k) / stride + 1, ow = (w + 2 * padding - k) / stride + 1
        let spec = ModelSpec(
            inputShape: [cIn, h, w],
            layers: [.conv2d(outChannels: cOut, kernel: k, padding: padding, stride: stride), .batchNorm2dEpsilon(0.01), .flatten],
            classes: cOut * oh * ow)
        let model = try Fixtures.model(spec, seed: 4)
        let state = model.stateDictionary()
        let input = Fixtures.windows([cIn, h, w], count: 2, seed: 5)
        let expected = model.forward(input, training: false).scalars

        let bn = BatchNormFolding.Statistics(
            gamma: state["1.bn.weight"]!.scalars, beta: state["1.bn.bias"]!.scalars,
            mean: state["1.bn.running_mean"]!.scalars, variance: state["1.bn.running_var"]!.scalars, epsilon: 0.01)
        #expect(bn.gamma.contains { $0 < 0 })  // the fixture's gammas have both signs
        let (weight, bias) = BatchNormFolding.fold(weight: state["0.conv.weight"]!.scalars, bias: state["0.conv.bias"]!.scalars, into: bn)
        var actual = [Float](), bounds = [Double]()
        let x = input.scalars
        for n in 0..<2 {
            for o in 0..<cOut {
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        var sum = Double(bias[o]), magnitude = abs(Double(bias[o]))
                        for c in 0..<cIn {
                            for ky in 0..<k {
                                for kx in 0..<k {
                                    let y = oy * stride + ky - padding, xx = ox * stride + kx - padding
                                    guard (0..<h).contains(y), (0..<w).contains(xx) else { continue }
                                    let term = Double(weight[((o * cIn + c) * k + ky) * k + kx]) * Double(x[((n * cIn + c) * h + y) * w + xx])
                                    sum += term
                                    magnitude += abs(term)
                                }
                            }
                        }
                        actual.append(Float(sum))
                        // Both sides round the products and sums in float32, and the folded weights once more.
                        bounds.append(ErrorBound.sum(count: 2 * cIn * k * k + 8, absoluteSum: 2 * magnitude) + 1e-6)
                    }
                }
            }
        }
        expectClose(actual, expected, bound: bounds, "folded convolution")
    }

    @Test func exportFileWritesTheModelAndItsDescription() throws {
        let directory = try TemporaryDirectory("onnx-export-file")
        let model = try Fixtures.model(Fixtures.tagger(), seed: 6)
        try Fixtures.checkpoint(model).write(to: directory.file("best.h5"))
        let summary = try OnnxExporter.exportFile(checkpointPath: directory.file("best.h5"), onnxPath: directory.file("out.onnx"))
        #expect(summary.jsonPath == directory.file("out.json") && summary.dynamicFrames && summary.minimumFrames >= 1)
        #expect(!summary.line.contains("\n") && summary.line.contains("out.onnx"))
        let bytes = try Data(contentsOf: URL(fileURLWithPath: directory.file("out.onnx")))
        #expect(bytes.count == summary.bytes)
        let proto = try Fixtures.parse(bytes)
        #expect(Fixtures.metadata(proto)["genrekit.source_checkpoint"] == directory.file("best.h5"))
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: summary.jsonPath))) as? [String: Any]
        let inputs = json?["inputs"] as? [[String: Any]]
        #expect(inputs?.first?["name"] as? String == "spectrogram")
        #expect((inputs?.first?["shape"] as? [Any])?.count == 4)
        let metadata = json?["metadata_props"] as? [String: Any]
        #expect(metadata?["genrekit.classes"] as? [String] == (0..<6).map { "c\($0)" })
        #expect(metadata?["genrekit.output"] as? String == "sigmoid")
        #expect((metadata?["genrekit.norm_std"] as? [Double])?.count == 12)
        // No temporary file is left behind.
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(names == ["best.h5", "out.json", "out.onnx"])
    }

    @Test func aMissingCheckpointIsOneLineNamingIt() throws {
        let directory = try TemporaryDirectory("onnx-missing")
        let path = directory.file("nothing.h5")
        #expect {
            try OnnxExporter.exportFile(checkpointPath: path, onnxPath: directory.file("out.onnx"))
        } throws: { error in
            let text = "\(error)"
            return text.contains(path) && text.contains("no such checkpoint") && !text.contains("\n")
        }
    }

    @Test func anUnwritableOutputIsOneLineNamingIt() throws {
        let directory = try TemporaryDirectory("onnx-unwritable")
        try Fixtures.checkpoint(try Fixtures.model(Fixtures.genreCNN(), seed: 7)).write(to: directory.file("best.h5"))
        let out = directory.file("no/such/folder/out.onnx")
        #expect {
            try OnnxExporter.exportFile(checkpointPath: directory.file("best.h5"), onnxPath: out)
        } throws: { error in
            let text = "\(error)"
            return text.hasPrefix(out + ": cannot write") && !text.contains("\n")
        }
    }

    @Test func weightsThatDoNotFitNameTheCheckpoint() throws {
        var checkpoint = Fixtures.checkpoint(try Fixtures.model(Fixtures.genreCNN(), seed: 8))
        checkpoint.modelState["0.conv.weight"] = Tensor(shape: [1], scalars: [0])
        #expect {
            try OnnxExporter.export(checkpoint: checkpoint, source: "runs/x/best.h5")
        } throws: { error in
            let text = "\(error)"
            return text.hasPrefix("runs/x/best.h5: ") && text.contains("0.conv.weight") && !text.contains("\n")
        }
    }
}
