import Foundation
import Net
public import Training
import Pipeline
import TensorBundle

/// What an import read and wrote.
public struct ImportSummary: Sendable, Equatable {
    /// Where the weights came from (``MusicnnVGG/provenance``) and their licence.
    public var provenance: String
    public var licence: String
    /// The wheel or folder read.
    public var source: String
    /// The GenreKit checkpoint written (empty when only built in memory).
    public var outputPath: String
    /// Tensors in the TensorFlow checkpoint, and how many of them the network uses.
    public var tensorsInCheckpoint: Int
    public var tensorsImported: Int
    /// Scalars in the imported state (weights and batch-norm statistics), and their bytes as float32.
    public var parameters: Int
    public var bytes: Int
    /// The output names (tags), in order.
    public var tags: [String]

    /// A few lines for the command line.
    public var text: String {
        """
        imported \(provenance) (licence \(licence)) from \(source)
          \(tensorsImported) of \(tensorsInCheckpoint) tensors, \(parameters) parameters (\(bytes) bytes)
          \(tags.count) tags: \(tags.prefix(8).joined(separator: ", "))\(tags.count > 8 ? ", ..." : "")
          wrote \(outputPath)
        """
    }
}

/// Imports pre-trained networks into GenreKit checkpoints.
public enum PretrainedImport {
    /// Reads musicnn 0.1.0's `MSD_vgg` TensorFlow checkpoint from `source` (the wheel, or an unzipped folder),
    /// maps it onto ``MusicnnVGG/modelSpec(filters:tags:)`` (checking every tensor's presence and shape), and writes
    /// a GenreKit checkpoint to `outputPath` (see ``musicnnMSDVGGCheckpoint(from:)``).
    @discardableResult
    public static func importMusicnnMSDVGG(from source: MusicnnSource, to outputPath: String) throws(PretrainedError) -> ImportSummary {
        let (checkpoint, partial) = try musicnnMSDVGGCheckpoint(from: source)
        do {
            try checkpoint.write(to: outputPath)
        } catch {
            if case .checkpoint(_, let reason) = error { throw .output(path: outputPath, reason: reason) }
            throw .output(path: outputPath, reason: "\(error)")
        }
        var summary = partial
        summary.outputPath = outputPath
        return summary
    }

    /// The GenreKit checkpoint of musicnn's MSD_vgg, in memory: classes = the 50 MSD tags, model =
    /// ``MusicnnVGG/modelSpec(filters:tags:)`` (sigmoid outputs), pipeline = ``MusicnnVGG/frontEnd()``,
    /// normalisation mean 0 / std 1 per band (the network's own input batch norm normalises), epoch 0, default
    /// training configuration, no optimizer state. The shard parameters record the provenance (source, licence)
    /// and the front end.
    public static func musicnnMSDVGGCheckpoint(from source: MusicnnSource) throws(PretrainedError) -> (Checkpoint, ImportSummary) {
        let bundle = try source.bundle()
        let state = try MusicnnVGG.stateDictionary(from: bundle)
        let checkpoint = try makeCheckpoint(state: state, filters: MusicnnVGG.msdFilters, tags: MusicnnVGG.msdTags)
        let parameters = state.values.reduce(0) { $0 + $1.count }
        let summary = ImportSummary(
            provenance: MusicnnVGG.provenance, licence: MusicnnVGG.licence, source: source.path, outputPath: "",
            tensorsInCheckpoint: bundle.names.count,
            tensorsImported: MusicnnVGG.neededTensors(filters: MusicnnVGG.msdFilters, tags: MusicnnVGG.msdTags.count).count,
            parameters: parameters, bytes: 4 * parameters, tags: MusicnnVGG.msdTags)
        return (checkpoint, summary)
    }

    /// A checkpoint of the musicnn design holding `state`; the model is built and loaded once to check the state.
    static func makeCheckpoint(state: [String: Tensor], filters: Int, tags: [String]) throws(PretrainedError) -> Checkpoint {
        let spec = MusicnnVGG.modelSpec(filters: filters, tags: tags.count)
        do {
            let model = try Sequential(spec: spec, seed: 0)
            try model.load(stateDictionary: state)
        } catch {
            throw .model(reason: "\(error)")
        }
        let frontEnd = MusicnnVGG.frontEnd()
        let bands = spec.inputShape[1]
        return Checkpoint(
            classes: tags, modelSpec: spec, training: TrainingConfiguration(),
            pipelineConfiguration: frontEnd.jsonText(), shardParameters: frontEndJSON(frontEnd),
            normMean: [Float](repeating: 0, count: bands), normStd: [Float](repeating: 1, count: bands),
            modelState: state, optimizerState: [:], epoch: 0, bestValidAccuracy: 0, bestEpoch: 0,
            epochsWithoutImprovement: 0, optimizerSteps: 0,
            provenance: ["source": MusicnnVGG.provenance, "licence": MusicnnVGG.licence,
                         "reference": "Pons & Serra, musicnn: pre-trained convolutional neural networks for music audio tagging, 2019"])
    }

    /// The checkpoint's `shard_parameters` for an imported network: the front end it expects (its provenance is in
    /// the checkpoint's `provenance`).
    static func frontEndJSON(_ frontEnd: PipelineConfiguration) -> String {
        let fields: [(String, String)] = [
            ("sample_rate", "\(frontEnd.audio.sampleRate)"), ("n_fft", "\(frontEnd.stft.nFFT)"),
            ("hop_length", "\(frontEnd.stft.hopLength)"), ("n_mels", "\(frontEnd.mel.nMels)"),
            ("input", "\"log10(1 + 10000 mel), no normalisation\""),
        ]
        return "{" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}"
    }
}
