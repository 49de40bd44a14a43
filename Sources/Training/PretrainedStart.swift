import Foundation
public import Net
import Pipeline

/// A pre-trained network to start from (`[model] init`), e.g. musicnn's MSD-VGG imported by
/// `genre pretrained import`: a GenreKit checkpoint whose last layer is a linear layer (its tag outputs). The layers
/// before it are the **body** (for musicnn: input batch norm, five conv blocks, flatten, dropout: `[1, 96, 187]` ->
/// `[256]`); the last layer maps the body's `bodyFeatures` to `tags` logits.
///
/// The models built from it keep the body's layer indices, so their parameter names match the pre-trained ones:
/// - probe: body, ``LayerSpec/linearSigmoidAppended(outFeatures:)`` (the tags, `[F]` -> `[F + tags]`), then a
///   linear layer to the genre classes;
/// - fine-tune: the same model, trained further: every layer but the new head is pre-trained.
public struct PretrainedStart: Sendable {
    public let path: String
    public let checkpoint: Checkpoint
    /// Every layer but the last.
    public let bodyLayers: [LayerSpec]
    /// Features the body produces (inputs of the tag layer).
    public let bodyFeatures: Int
    /// Outputs of the tag layer.
    public let tags: Int

    /// Reads the checkpoint at `path`; it must end in a linear layer.
    public init(path: String) throws(TrainingError) {
        self.path = path
        checkpoint = try Checkpoint.read(from: path)
        let layers = checkpoint.modelSpec.layers
        guard case .linear(let outputs)? = layers.last, layers.count >= 2 else {
            throw .checkpoint(path: path, reason: "cannot start from this network: its last layer is not a linear layer "
                              + "(a probe or fine-tuning replaces the last layer)")
        }
        let name = "\(layers.count - 1).linear.weight"
        guard let weight = checkpoint.modelState[name], weight.shape.count == 2, weight.shape[0] == outputs else {
            throw .checkpoint(path: path, reason: "the weight \(name) of the last layer is missing or has the wrong shape")
        }
        bodyLayers = Array(layers.dropLast())
        bodyFeatures = weight.shape[1]
        tags = outputs
    }

    /// The per-sample input `[1, mel bands, frames]` of the network.
    public var inputShape: [Int] { checkpoint.modelSpec.inputShape }

    /// The front end the network was trained on.
    public func pipeline() throws(TrainingError) -> PipelineConfiguration {
        do {
            return try PipelineConfiguration.fromJSON(checkpoint.pipelineConfiguration)
        } catch {
            throw .checkpoint(path: path, reason: "stored pipeline configuration: \(error.reason)")
        }
    }

    /// Refuses shards whose features differ from the network's front end (sample rate, STFT, mel filterbank,
    /// compression, normalisation) and a crop length other than the network's input width.
    public func checkCompatible(dataset: ShardDataset, cropFrames: Int) throws(TrainingError) {
        let mine = try pipeline()
        let theirs: PipelineConfiguration
        do {
            theirs = try PipelineConfiguration.fromJSON(dataset.configuration)
        } catch {
            throw .incompatible(path: dataset.directory, reason: "the shards' pipeline configuration: \(error.reason)")
        }
        var differences: [String] = []
        if mine.audio.sampleRate != theirs.audio.sampleRate {
            differences.append("sample_rate \(theirs.audio.sampleRate) (the network's: \(mine.audio.sampleRate))")
        }
        if mine.stft != theirs.stft { differences.append("[stft] (the network's: n_fft \(mine.stft.nFFT), hop_length \(mine.stft.hopLength))") }
        if mine.mel != theirs.mel { differences.append("[mel] (the network's: \(mine.mel.nMels) bands)") }
        if mine.db != theirs.db { differences.append("[db]") }
        if mine.normalise != theirs.normalise { differences.append("[normalise] (the network's: \(mine.normalise.kind.rawValue))") }
        if !differences.isEmpty {
            throw .incompatible(path: dataset.directory, reason: "the features differ from those \(path) was trained on: "
                                + differences.joined(separator: ", ") + "; preprocess with the network's pipeline "
                                + "(pipelines/musicnn.toml for musicnn)")
        }
        guard dataset.nMels == inputShape[1] else {
            throw .incompatible(path: dataset.directory, reason: "\(dataset.nMels) mel bands, the network takes \(inputShape[1])")
        }
        guard cropFrames == inputShape[2] else {
            throw .invalidOptions(directory: dataset.directory, reason: "model.crop_frames is \(cropFrames); the network "
                                  + "of \(path) takes \(inputShape[2])-frame windows (set crop_frames = \(inputShape[2]))")
        }
    }

    /// Body, tag layer with its sigmoid outputs appended, and a linear layer to `classes`.
    public func probeSpec(classes: Int) -> ModelSpec {
        ModelSpec(inputShape: inputShape,
                  layers: bodyLayers + [.linearSigmoidAppended(outFeatures: tags), .linear(outFeatures: classes)],
                  classes: classes)
    }

    /// Body and tag layer with its sigmoid outputs appended: `[N] + inputShape` -> `[N, bodyFeatures + tags]`, the
    /// probe's embedding of a window.
    public func embeddingSpec() -> ModelSpec {
        ModelSpec(inputShape: inputShape, layers: bodyLayers + [.linearSigmoidAppended(outFeatures: tags)],
                  classes: bodyFeatures + tags)
    }

    /// The fine-tuned model: the probe's (``probeSpec(classes:)``), whose layers but the last are the pre-trained
    /// network (body and tag layer) and whose last is the new linear head on `[pool5, tags]`.
    /// With `bodyDropout` false, the pre-trained layers' dropouts are set to 0 (no parameter names change).
    public func finetuneSpec(classes: Int, bodyDropout: Bool = true) -> ModelSpec {
        var spec = probeSpec(classes: classes)
        if !bodyDropout {
            spec.layers = spec.layers.map { if case .dropout = $0 { .dropout(0) } else { $0 } }
        }
        return spec
    }

    /// The index of the layer a state name belongs to (`"21.conv.weight"` -> 21).
    static func layerIndex(ofStateName name: String) -> Int? {
        name.split(separator: ".", maxSplits: 1).first.flatMap { Int($0) }
    }

    /// The pre-trained weights of the body, and with `includingTags` of the tag layer (same names in every model
    /// built from this start).
    public func state(includingTags: Bool) -> [String: Tensor] {
        let limit = includingTags ? bodyLayers.count : bodyLayers.count - 1
        return checkpoint.modelState.filter { (layerIndex(ofStateName: $0.key) ?? .max) <= limit }
    }

    private func layerIndex(ofStateName name: String) -> Int? { Self.layerIndex(ofStateName: name) }

    /// A model of `spec` initialised from `seed`, with the pre-trained weights loaded over it.
    public func model(spec: ModelSpec, seed: UInt64, includingTags: Bool) throws(TrainingError) -> Sequential {
        do {
            let model = try Sequential(spec: spec, seed: seed)
            var state = model.stateDictionary()
            for (name, tensor) in self.state(includingTags: includingTags) { state[name] = tensor }
            try model.load(stateDictionary: state)
            return model
        } catch {
            throw .checkpoint(path: path, reason: "the pre-trained weights do not fit the model built on them: \(error)")
        }
    }

    /// What the run's checkpoints record about where they started.
    public func provenance(mode: TrainingConfiguration.TrainingMode) -> [String: String] {
        var p = checkpoint.provenance
        p["init"] = path
        p["mode"] = mode.rawValue
        return p
    }
}
