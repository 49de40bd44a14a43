import Foundation
import Net
import Pipeline
import Training

/// The `metadata_props` of an exported model: everything needed to rebuild its input from audio and read its
/// output, as `genrekit.`-prefixed keys with text values (JSON where the value is structured). ``entries`` is the
/// order they are written in.
struct ExportMetadata {
    private(set) var entries: [(key: String, value: String)] = []

    /// Keys whose values are JSON text (decoded into OUT.json); the others are plain text.
    static let jsonKeys: Set<String> = [
        "genrekit.classes", "genrekit.pipeline", "genrekit.norm_mean", "genrekit.norm_std", "genrekit.model_spec",
        "genrekit.window_frames", "genrekit.window_hop", "genrekit.minimum_frames", "genrekit.batch_norm",
        "genrekit.provenance", "genrekit.checkpoint_epoch",
    ]

    init(checkpoint: Checkpoint, source: String, shape: InputShape, folded: [String], affine: [String]) {
        let spec = checkpoint.modelSpec
        add("classes", Self.json(checkpoint.classes))
        add("pipeline", Self.compact(json: checkpoint.pipelineConfiguration))
        add("norm_mean", Self.json(checkpoint.normMean))
        add("norm_std", Self.json(checkpoint.normStd))
        add(
            "normalisation",
            "The input is normalised: per mel band b, (x[b, t] - norm_mean[b]) / norm_std[b], where x is the "
                + "pipeline's compressed log-mel spectrogram (genrekit.pipeline: rate, STFT, mel, compression) and "
                + "norm_mean, norm_std are JSON arrays of n_mels numbers. GenreKit's shards (/mel) already hold "
                + "normalised features.")
        add("model_spec", Self.json(spec))
        add("window_frames", String(checkpoint.windowFrames))
        add("window_hop", String(checkpoint.evaluationWindowHop))
        add(
            "frames",
            shape.dynamicFrames
                ? "dynamic: the network pools globally before its classifier, so any number of frames >= "
                    + "genrekit.minimum_frames works; the model was trained on windows of genrekit.window_frames"
                : "fixed: the network flattens its feature map, so the input has exactly genrekit.window_frames frames")
        add("minimum_frames", String(shape.minimumFrames))
        add("output", spec.output.rawValue)
        switch spec.output {
        case .softmax:
            add(
                "clip_prediction",
                "Cut a clip into windows of window_frames frames every window_hop frames (plus one ending at the "
                    + "last frame); the clip's probabilities are the softmax of the mean of its windows' logits.")
        case .sigmoid:
            add(
                "clip_prediction",
                "Cut a clip into windows of window_frames frames every window_hop frames (plus one ending at the "
                    + "last frame); the clip's tag probabilities are the mean of its windows' probabilities.")
        }
        add("batch_norm", Self.batchNormNote(folded: folded, affine: affine))
        add("source_checkpoint", source)
        add("checkpoint_epoch", String(checkpoint.epoch))
        if !checkpoint.provenance.isEmpty { add("provenance", Self.json(checkpoint.provenance)) }
        add("producer", "GenreKit")
        add("version", GenreKitVersion.current)
    }

    private mutating func add(_ key: String, _ value: String) {
        entries.append(("genrekit." + key, value))
    }

    /// `{"folded": [...], "affine": [...], "note": ...}`.
    static func batchNormNote(folded: [String], affine: [String]) -> String {
        struct Note: Encodable {
            var folded: [String]
            var affine: [String]
            var note: String
        }
        return json(
            Note(
                folded: folded, affine: affine,
                note: "Evaluation mode (running statistics). Each batch norm that directly follows a convolution is "
                    + "folded into it (weights and bias scaled per output channel: \"<bn> into <conv>\"); the others "
                    + "(after a ReLU, or before a padded convolution, where folding would not be exact) are a "
                    + "per-channel Mul and Add with scale = gamma / sqrt(running_var + eps) and shift = beta - "
                    + "running_mean * scale."))
    }

    /// JSON text on one line with sorted keys (`text` itself when it is not JSON).
    static func compact(json text: String) -> String {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)),
            let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        else { return text }
        return String(decoding: data, as: UTF8.self)
    }

    /// Compact JSON with sorted keys.
    static func json<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try! encoder.encode(value), as: UTF8.self)
    }
}

/// The input's shape: `[batch, 1, n_mels, frames]`, frames dynamic or fixed.
struct InputShape {
    var channels: Int
    var nMels: Int
    var windowFrames: Int
    /// Whether any number of frames `>= minimumFrames` gives a valid network (global pooling before the
    /// classifier); otherwise exactly `windowFrames`.
    var dynamicFrames: Bool
    var minimumFrames: Int

    init(spec: ModelSpec) {
        channels = spec.inputShape[0]
        nMels = spec.inputShape[1]
        windowFrames = spec.inputShape[2]
        dynamicFrames = Self.poolsGlobally(spec)
        minimumFrames = dynamicFrames ? Self.minimumFrames(spec) : windowFrames
    }

    /// True when a global pooling layer comes before the first flatten or dense layer: the only place the number
    /// of frames could matter is then reduced away.
    static func poolsGlobally(_ spec: ModelSpec) -> Bool {
        for layer in spec.layers {
            switch layer {
            case .globalAveragePool, .globalMaxPool, .globalAverageMaxPool: return true
            case .flatten, .linear, .linearSigmoidAppended: return false
            default: continue
            }
        }
        return false
    }

    /// The fewest frames the network accepts: the smallest width in `1...windowFrames` for which Net builds the
    /// model (every kernel and pooling window fits). Widths above it fit too (each layer's output grows with its
    /// input).
    static func minimumFrames(_ spec: ModelSpec) -> Int {
        let width = spec.inputShape[2]
        var low = 1, high = width
        while low < high {
            let mid = (low + high) / 2
            var narrow = spec
            narrow.inputShape[2] = mid
            if (try? Sequential(spec: narrow, seed: 0)) != nil { high = mid } else { low = mid + 1 }
        }
        return low
    }

    /// The ONNX dimensions of the input.
    var dimensions: [GraphBuilder.Dimension] {
        [.dynamic("batch"), .fixed(channels), .fixed(nMels), dynamicFrames ? .dynamic("frames") : .fixed(windowFrames)]
    }

    /// The same as JSON values (`"batch"`, numbers, `"frames"`).
    var jsonDimensions: [Any] {
        dimensions.map { dimension -> Any in
            switch dimension {
            case .fixed(let extent): extent
            case .dynamic(let name): name
            }
        }
    }
}
