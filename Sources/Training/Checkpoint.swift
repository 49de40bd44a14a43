import Foundation
import HDF5Store
public import Net
import Pipeline
import Shards

/// A trained model and everything prediction needs, in one HDF5 file (`best.h5`, `last.h5`):
///
/// - `/model/<name>`: every weight and batch-norm statistic (`Sequential.stateDictionary()`, PyTorch layouts:
///   conv weight `[out, in, k, k]`, linear weight `[out, in]`), float32;
/// - `/optimizer/<name>`: the optimizer's moments (for `--resume`), float32;
/// - `/norm/mean`, `/norm/std`: float32 `[n_mels]`, the normalisation the shards carried;
/// - root attributes: `schema` (`genrekit-checkpoint/1`), `classes`, `model_spec`, `training_configuration` and
///   `pipeline_configuration` (JSON), `epoch` (last completed, from 1), `best_valid_accuracy`, `best_epoch`,
///   `epochs_without_improvement`, `optimizer_steps`, `shard_parameters` (JSON), `genrekit_version`, and, when
///   known, `provenance` (JSON object of strings: where the weights came from, e.g. an imported pre-trained network
///   and its licence, or the checkpoint a probe or fine-tuning started from).
///
/// Written under a temporary name in the same folder and renamed when complete.
public struct Checkpoint: Sendable {
    public static let schema = "genrekit-checkpoint/1"

    public var classes: [String]
    public var modelSpec: ModelSpec
    public var training: TrainingConfiguration
    /// The preprocessing configuration the shards were made with (JSON text, as stored in the shards).
    public var pipelineConfiguration: String
    /// Shard parameters (sample rate, n_fft, …) as JSON: evaluation refuses shards made with others.
    public var shardParameters: String
    public var normMean: [Float]
    public var normStd: [Float]
    public var modelState: [String: Tensor]
    public var optimizerState: [String: Tensor]
    public var epoch: Int
    public var bestValidAccuracy: Double
    public var bestEpoch: Int
    public var epochsWithoutImprovement: Int
    public var optimizerSteps: Int
    /// Where the weights came from (`source`, `licence`, `init`, `mode`, ...); empty for a run from scratch.
    public var provenance: [String: String]

    /// The evaluation windows' length in frames: the network's input width.
    public var windowFrames: Int { modelSpec.inputShape[2] }

    /// Frames between evaluation window starts: `[evaluate] window_hop`, or the window length (non-overlapping
    /// windows) when not set. Prediction, `genre tags` and the ONNX export's metadata all read it here.
    public var evaluationWindowHop: Int { training.evaluate.windowHop ?? windowFrames }

    public init(
        classes: [String], modelSpec: ModelSpec, training: TrainingConfiguration, pipelineConfiguration: String,
        shardParameters: String, normMean: [Float], normStd: [Float], modelState: [String: Tensor],
        optimizerState: [String: Tensor], epoch: Int, bestValidAccuracy: Double, bestEpoch: Int,
        epochsWithoutImprovement: Int, optimizerSteps: Int, provenance: [String: String] = [:]
    ) {
        self.provenance = provenance
        self.classes = classes
        self.modelSpec = modelSpec
        self.training = training
        self.pipelineConfiguration = pipelineConfiguration
        self.shardParameters = shardParameters
        self.normMean = normMean
        self.normStd = normStd
        self.modelState = modelState
        self.optimizerState = optimizerState
        self.epoch = epoch
        self.bestValidAccuracy = bestValidAccuracy
        self.bestEpoch = bestEpoch
        self.epochsWithoutImprovement = epochsWithoutImprovement
        self.optimizerSteps = optimizerSteps
    }

    /// The pipeline configuration, decoded (for prediction).
    public func pipeline() throws(TrainingError) -> PipelineConfiguration {
        do {
            return try PipelineConfiguration.fromJSON(pipelineConfiguration)
        } catch {
            throw .checkpoint(path: "", reason: "stored pipeline configuration: \(error.reason)")
        }
    }

    /// Writes the checkpoint atomically: a temporary file in the same folder, renamed over `path` when complete.
    public func write(to path: String) throws(TrainingError) {
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).partial-\(getpid())").path
        do {
            let file = try HDF5File.create(path: temporary)
            try file.setAttribute("schema", to: .string(Self.schema))
            try file.setAttribute("classes", to: .strings(classes))
            try file.setAttribute("model_spec", to: .string(Self.json(modelSpec)))
            try file.setAttribute("training_configuration", to: .string(training.jsonText()))
            try file.setAttribute("pipeline_configuration", to: .string(pipelineConfiguration))
            try file.setAttribute("shard_parameters", to: .string(shardParameters))
            try file.setAttribute("epoch", to: .int(epoch))
            try file.setAttribute("best_valid_accuracy", to: .double(bestValidAccuracy))
            try file.setAttribute("best_epoch", to: .int(bestEpoch))
            try file.setAttribute("epochs_without_improvement", to: .int(epochsWithoutImprovement))
            try file.setAttribute("optimizer_steps", to: .int(optimizerSteps))
            try file.setAttribute("genrekit_version", to: .string(GenreKitVersion.current))
            if !provenance.isEmpty { try file.setAttribute("provenance", to: .string(Self.json(provenance))) }
            try file.createGroup("norm")
            try file.write(normMean, to: "norm/mean")
            try file.write(normStd, to: "norm/std")
            for (group, state) in [("model", modelState), ("optimizer", optimizerState)] {
                try file.createGroup(group)
                for name in state.keys.sorted() {
                    let t = state[name]!
                    try file.write(t.scalars, shape: t.shape.isEmpty ? [1] : t.shape, to: "\(group)/\(name)")
                }
            }
            try file.flush()
            try file.close()
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw .checkpoint(path: path, reason: "cannot write: \(error)")
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: temporary)
            throw .checkpoint(path: path, reason: "cannot rename the finished file into place: \(reason)")
        }
    }

    /// Reads and validates a checkpoint: schema, every attribute, shapes of the normalisation against the model
    /// input; a truncated or foreign file gives one clear line.
    public static func read(from path: String) throws(TrainingError) -> Checkpoint {
        func bad(_ reason: String) -> TrainingError { .checkpoint(path: path, reason: reason) }
        guard FileManager.default.fileExists(atPath: path) else { throw bad("no such checkpoint file") }
        do {
            // A damaged global heap would crash HDF5 1.10 while reading the string attributes (see HDF5Integrity).
            try HDF5Integrity.checkGlobalHeaps(path: path)
            let file = try HDF5File(openingForReading: path)
            let attributes = try file.attributes()
            guard let schema = attributes["schema"]?.stringValue else { throw bad("not a GenreKit checkpoint (no schema attribute)") }
            guard schema == Self.schema else { throw bad("checkpoint schema \(schema), this GenreKit reads \(Self.schema)") }
            func string(_ key: String) throws(TrainingError) -> String {
                guard let v = attributes[key]?.stringValue else { throw bad("attribute \(key) is missing or not text") }
                return v
            }
            func int(_ key: String) throws(TrainingError) -> Int {
                guard let v = attributes[key]?.intValue else { throw bad("attribute \(key) is missing or not an integer") }
                return v
            }
            guard let classes = attributes["classes"]?.stringsValue, !classes.isEmpty else {
                throw bad("attribute classes is missing")
            }
            let spec: ModelSpec
            do {
                spec = try JSONDecoder().decode(ModelSpec.self, from: Data(try string("model_spec").utf8))
            } catch let e as TrainingError {
                throw e
            } catch {
                throw bad("model_spec is not a valid model description: \(error)")
            }
            guard spec.classes == classes.count else {
                throw bad("model_spec has \(spec.classes) classes but the checkpoint names \(classes.count)")
            }
            let training: TrainingConfiguration
            do {
                training = try TrainingConfiguration.fromJSON(try string("training_configuration"))
            } catch let e as TrainingError {
                throw e
            } catch {
                throw bad("\(error)")
            }
            let mean = try file.readFloats("norm/mean").values, std = try file.readFloats("norm/std").values
            guard mean.count == spec.inputShape[1], std.count == mean.count else {
                throw bad("normalisation has \(mean.count) bands, the model takes \(spec.inputShape[1])")
            }
            // The state's names follow from the stored model and optimizer settings: each is read by name. Listing
            // the groups instead (H5Literate) crashes HDF5 1.10 on some damaged link tables (found by the reader
            // fuzz test), and a name lookup fails cleanly on the same damage.
            let expectedModel: Sequential
            do {
                expectedModel = try Sequential(spec: spec, seed: 0)
            } catch {
                throw bad("model_spec does not describe a buildable network: \(error)")
            }
            let modelNames = expectedModel.stateDictionary().keys.sorted()
            let optimizerNames = Trainer.makeOptimizer(training.optimizer, parameters: expectedModel.parameters)
                .stateDictionary().keys.sorted()
            var model: [String: Tensor] = [:], optimizer: [String: Tensor] = [:]
            for name in modelNames {
                guard try file.contains("model/\(name)") else { throw bad("model weight \(name) is missing") }
                let (values, shape) = try file.readFloats("model/\(name)")
                model[name] = Tensor(shape: shape, scalars: values)
            }
            if try file.contains("optimizer") {
                for name in optimizerNames where try file.contains("optimizer/\(name)") {
                    let (values, shape) = try file.readFloats("optimizer/\(name)")
                    optimizer[name] = Tensor(shape: shape, scalars: values)
                }
            }
            guard !model.isEmpty else { throw bad("holds no model weights") }
            let best = attributes["best_valid_accuracy"]?.doubleValue ?? 0
            var provenance: [String: String] = [:]
            if let text = attributes["provenance"]?.stringValue {
                guard let decoded = try? JSONDecoder().decode([String: String].self, from: Data(text.utf8)) else {
                    throw bad("attribute provenance is not a JSON object of strings")
                }
                provenance = decoded
            }
            return Checkpoint(
                classes: classes, modelSpec: spec, training: training,
                pipelineConfiguration: try string("pipeline_configuration"),
                shardParameters: try string("shard_parameters"), normMean: mean, normStd: std, modelState: model,
                optimizerState: optimizer, epoch: try int("epoch"), bestValidAccuracy: best,
                bestEpoch: try int("best_epoch"), epochsWithoutImprovement: try int("epochs_without_improvement"),
                optimizerSteps: try int("optimizer_steps"), provenance: provenance)
        } catch let error as TrainingError {
            throw error
        } catch {
            throw bad("cannot read (truncated or not HDF5?): \(error)")
        }
    }

    /// Builds the network and loads the weights; a state that does not fit the spec is an error naming the file.
    public func makeModel(path: String) throws(TrainingError) -> Sequential {
        do {
            let model = try Sequential(spec: modelSpec, seed: training.train.seed)
            try model.load(stateDictionary: modelState)
            return model
        } catch {
            throw .checkpoint(path: path, reason: "weights do not fit the stored model: \(error)")
        }
    }

    static func json<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try! encoder.encode(value), as: UTF8.self)
    }
}

/// The shard parameters as canonical JSON, compared between a checkpoint and the shards it is evaluated on.
func shardParametersJSON(_ parameters: [String: ShardParameter]) -> String {
    let text = parameters.keys.sorted().map { "\"\($0)\": \"\(ShardInspection.show(parameters[$0]!))\"" }
    return "{" + text.joined(separator: ", ") + "}"
}
