public import Training

/// Why a checkpoint could not be exported to ONNX. Every case prints as one line naming the file (and the layer,
/// when one is at fault) and the reason.
public enum OnnxExportError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The checkpoint could not be read or its weights do not fit its model (the training error names the file).
    case checkpoint(TrainingError)
    /// Layer `index` of the checkpoint's model spec (`layer` is its spec) cannot be expressed in ONNX as GenreKit
    /// computes it, or its weights are missing or malformed. `path` is the checkpoint (empty when exported from
    /// memory without a name).
    case layer(path: String, index: Int, layer: String, reason: String)
    /// The model as a whole cannot be exported (e.g. no layer produces the logits). `path` is the checkpoint.
    case model(path: String, reason: String)
    /// An output file (`.onnx` or `.json`) could not be written.
    case output(path: String, reason: String)

    public var description: String {
        switch self {
        case .checkpoint(let error):
            error.description
        case .layer(let path, let index, let layer, let reason):
            (path.isEmpty ? "" : "\(path): ") + "layer \(index) (\(layer)): \(reason)"
        case .model(let path, let reason):
            (path.isEmpty ? "" : "\(path): ") + reason
        case .output(let path, let reason):
            "\(path): \(reason)"
        }
    }
}
