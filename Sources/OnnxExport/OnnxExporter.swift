import Foundation
import Net
import Pipeline
public import Training
import SwiftProtobuf

/// Exports a GenreKit checkpoint's network as an ONNX model (opset 17, default domain, IR version 8) that
/// computes exactly what GenreKit computes in evaluation mode (batch norm with running statistics, no dropout).
///
/// The graph:
/// - input `"spectrogram"`: float32 `[batch, 1, n_mels, frames]`, NCHW, the pipeline's log-mel features already
///   **normalised** per mel band, `(x - norm_mean[band]) / norm_std[band]` (the metadata's `genrekit.norm_mean`,
///   `genrekit.norm_std`; GenreKit's shards hold them normalised). `batch` is always dynamic; `frames` is dynamic
///   when the network pools globally before its classifier (the genre CNNs: any `frames >= genrekit.minimum_frames`)
///   and fixed to the training window otherwise (networks that flatten their feature map, such as musicnn's);
/// - outputs `"logits"` float32 `[batch, classes]` and `"probabilities"` `[batch, classes]`: Softmax over the last
///   axis, or Sigmoid for a tagging network (``OutputActivation/sigmoid``).
///
/// Batch norm is folded into the convolution it directly follows; any other batch norm becomes a per-channel
/// Mul and Add (the metadata's `genrekit.batch_norm` lists which). `metadata_props` (keys `genrekit.*`) carry the
/// class names, the whole pipeline configuration, the normalisation, the model spec, the window length and hop
/// and how clip predictions are formed; `producer_name` is `"GenreKit"`.
public enum OnnxExporter {
    /// The ONNX operator set the graphs use (default domain).
    public static let opset = 17
    /// The ONNX IR version written (the one that introduced opset 17).
    public static let irVersion = 8
    /// The name of the graph's input, `[batch, 1, n_mels, frames]`.
    public static let inputName = "spectrogram"
    /// The name of the logits output, `[batch, classes]`.
    public static let logitsName = "logits"
    /// The name of the probabilities output, `[batch, classes]`.
    public static let probabilitiesName = "probabilities"

    /// The ONNX model (serialised `ModelProto`) of `checkpoint`. `source` names the checkpoint in error messages
    /// and in the metadata (`genrekit.source_checkpoint`).
    public static func export(checkpoint: Checkpoint, source: String = "") throws(OnnxExportError) -> Data {
        try serialise(try build(checkpoint: checkpoint, source: source).model, path: source)
    }

    /// Reads the checkpoint at `checkpointPath` and writes its ONNX model to `onnxPath` and a pretty JSON
    /// description beside it (`OUT.json` for `OUT.onnx`: the same metadata, decoded, with the input and output
    /// names and shapes). Each file is written under a temporary name in its folder and renamed when complete.
    @discardableResult
    public static func exportFile(checkpointPath: String, onnxPath: String) throws(OnnxExportError) -> OnnxExportSummary {
        let checkpoint: Checkpoint
        do {
            checkpoint = try Checkpoint.read(from: checkpointPath)
        } catch {
            throw .checkpoint(error)
        }
        let built = try build(checkpoint: checkpoint, source: checkpointPath)
        let bytes = try serialise(built.model, path: checkpointPath)
        let jsonPath = Self.jsonPath(forOnnxPath: onnxPath)
        let document = built.jsonDocument(onnxFile: URL(fileURLWithPath: onnxPath).lastPathComponent)
        try AtomicFile.write(bytes, to: onnxPath)
        try AtomicFile.write(document, to: jsonPath)
        return OnnxExportSummary(
            onnxPath: onnxPath, jsonPath: jsonPath, bytes: bytes.count, classes: checkpoint.classes.count,
            nMels: built.shape.nMels, windowFrames: built.shape.windowFrames, dynamicFrames: built.shape.dynamicFrames,
            minimumFrames: built.shape.minimumFrames, foldedBatchNorms: built.folded, affineBatchNorms: built.affine)
    }

    /// `OUT.json` for `OUT.onnx`; `OUT.json` appended for a name without the `.onnx` extension.
    public static func jsonPath(forOnnxPath onnxPath: String) -> String {
        onnxPath.hasSuffix(".onnx") ? String(onnxPath.dropLast(5)) + ".json" : onnxPath + ".json"
    }

    private static func serialise(_ model: Onnx_ModelProto, path: String) throws(OnnxExportError) -> Data {
        do {
            return try model.serializedData()
        } catch {
            throw .model(path: path, reason: "cannot serialise the ONNX model: \(error)")
        }
    }

    /// The graph, the model and its metadata.
    static func build(checkpoint: Checkpoint, source: String) throws(OnnxExportError) -> BuiltModel {
        let spec = checkpoint.modelSpec
        // The same validation as prediction: the spec builds and the weights fit it.
        do {
            _ = try checkpoint.makeModel(path: source)
        } catch {
            throw .checkpoint(error)
        }
        guard spec.inputShape.count == 3 else {
            throw .model(path: source, reason: "the model input is \(spec.inputShape), expected [1, n_mels, frames]")
        }
        let shape = InputShape(spec: spec)
        var lowering = NetworkLowering(spec: spec, state: checkpoint.modelState, path: source)
        let logits = try lowering.lower(input: inputName)
        var graph = lowering.graph
        guard logits != inputName else { throw .model(path: source, reason: "the network computes nothing") }
        graph.rename(logits, to: logitsName)
        let probabilities = spec.output == .softmax ? "Softmax" : "Sigmoid"
        var attributes: [Onnx_AttributeProto] = []
        if spec.output == .softmax { attributes.append(GraphBuilder.attribute("axis", int: -1)) }
        graph.node(probabilities, name: probabilitiesName, inputs: [logitsName], attributes: attributes)

        var proto = Onnx_GraphProto()
        proto.name = "genrekit"
        proto.node = graph.nodes
        proto.initializer = graph.initializers
        proto.input = [GraphBuilder.floatValue(inputName, shape.dimensions)]
        let outputDimensions: [GraphBuilder.Dimension] = [.dynamic("batch"), .fixed(spec.classes)]
        proto.output = [
            GraphBuilder.floatValue(logitsName, outputDimensions), GraphBuilder.floatValue(probabilitiesName, outputDimensions),
        ]
        let metadata = ExportMetadata(
            checkpoint: checkpoint, source: source, shape: shape, folded: lowering.folded, affine: lowering.affine)
        var model = Onnx_ModelProto()
        model.irVersion = Int64(irVersion)
        var opsetImport = Onnx_OperatorSetIdProto()
        opsetImport.domain = ""
        opsetImport.version = Int64(opset)
        model.opsetImport = [opsetImport]
        model.producerName = "GenreKit"
        model.producerVersion = GenreKitVersion.current
        model.docString = "GenreKit genre network; input and output documented in metadata_props (genrekit.*)."
        model.graph = proto
        model.metadataProps = metadata.entries.map { entry in
            var property = Onnx_StringStringEntryProto()
            property.key = entry.key
            property.value = entry.value
            return property
        }
        return BuiltModel(
            model: model, shape: shape, classes: spec.classes, output: spec.output, metadata: metadata,
            folded: lowering.folded, affine: lowering.affine)
    }
}

/// What ``OnnxExporter/exportFile(checkpointPath:onnxPath:)`` wrote.
public struct OnnxExportSummary: Sendable, Equatable {
    /// The ONNX file and the JSON description beside it.
    public var onnxPath: String
    public var jsonPath: String
    /// Size of the ONNX file in bytes.
    public var bytes: Int
    /// Outputs per sample.
    public var classes: Int
    /// The input's mel bands and the training window in frames.
    public var nMels: Int
    public var windowFrames: Int
    /// Whether the frames dimension is dynamic (any count `>= minimumFrames`) or fixed to `windowFrames`.
    public var dynamicFrames: Bool
    public var minimumFrames: Int
    /// Batch norms folded into their convolution (`"<bn> into <conv>"`) and those exported as Mul + Add.
    public var foldedBatchNorms: [String]
    public var affineBatchNorms: [String]

    /// One line for the command line.
    public var line: String {
        let frames = dynamicFrames ? "frames dynamic (>= \(minimumFrames), trained on \(windowFrames))" : "frames fixed at \(windowFrames)"
        return "wrote \(onnxPath) (\(bytes) bytes, opset \(OnnxExporter.opset), input [batch, 1, \(nMels), frames], "
            + "\(frames), \(classes) classes) and \(jsonPath); batch norm: \(foldedBatchNorms.count) folded into "
            + "convolutions, \(affineBatchNorms.count) per-channel affine"
    }
}

/// An exported model before serialisation.
struct BuiltModel {
    var model: Onnx_ModelProto
    var shape: InputShape
    var classes: Int
    var output: OutputActivation
    var metadata: ExportMetadata
    var folded: [String]
    var affine: [String]

    /// OUT.json: pretty, sorted keys; the metadata with JSON values decoded, the input and outputs.
    func jsonDocument(onnxFile: String) -> Data {
        var metadataObject: [String: Any] = [:]
        for (key, value) in metadata.entries {
            if ExportMetadata.jsonKeys.contains(key),
                let decoded = try? JSONSerialization.jsonObject(with: Data(value.utf8), options: [.fragmentsAllowed])
            {
                metadataObject[key] = decoded
            } else {
                metadataObject[key] = value
            }
        }
        let probabilities = output == .softmax ? "softmax over the classes (axis -1)" : "sigmoid per class"
        let document: [String: Any] = [
            "onnx_file": onnxFile,
            "producer_name": "GenreKit",
            "producer_version": GenreKitVersion.current,
            "opset": OnnxExporter.opset,
            "ir_version": OnnxExporter.irVersion,
            "inputs": [
                [
                    "name": OnnxExporter.inputName, "type": "float32", "shape": shape.jsonDimensions,
                    "meaning": "normalised log-mel spectrogram windows, NCHW (see genrekit.normalisation)",
                ] as [String: Any]
            ],
            "outputs": [
                ["name": OnnxExporter.logitsName, "type": "float32", "shape": ["batch", classes], "meaning": "logits"]
                    as [String: Any],
                ["name": OnnxExporter.probabilitiesName, "type": "float32", "shape": ["batch", classes], "meaning": probabilities],
            ],
            "metadata_props": metadataObject,
        ]
        let options: JSONSerialization.WritingOptions = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return (try! JSONSerialization.data(withJSONObject: document, options: options)) + Data("\n".utf8)
    }
}

/// Writes a file under a temporary name in its folder and renames it into place (Pipeline's
/// ``FileSystem/writeAtomically(_:to:)``), with the export's one-line error.
enum AtomicFile {
    static func write(_ data: Data, to path: String) throws(OnnxExportError) {
        do {
            try FileSystem.writeAtomically(data, to: path)
        } catch {
            throw .output(path: path, reason: "cannot write: \(error)")
        }
    }
}
