import Foundation
import Net
import Pipeline
import Testing

@testable import Training

/// A small "pre-trained" tagging network of musicnn's architecture (8 filters, 6 tags, input [1, 64, 96]) with
/// seeded weights and non-trivial batch-norm statistics, written as a GenreKit checkpoint whose front end is the
/// learnable fixture's, as `genre pretrained import` writes the real one.
func writeTinyPretrained(to path: String, shards: String) throws -> Checkpoint {
    let dataset = try ShardDataset(directory: shards, requiredSplits: ["train"])
    let spec = ModelSpec.musicnnVGG(tags: 6, filters: 8, inputShape: [1, dataset.nMels, 96])
    let model = try Sequential(spec: spec, seed: 42)
    var state = model.stateDictionary()
    for (name, tensor) in state where name.hasSuffix("running_mean") || name.hasSuffix("running_var") {
        let base: Float = name.hasSuffix("running_mean") ? 0.05 : 1.5
        state[name] = Tensor(shape: tensor.shape, scalars: tensor.scalars.indices.map { base + 0.01 * Float($0 % 7) })
    }
    let checkpoint = Checkpoint(
        classes: (0..<6).map { "tag\($0)" }, modelSpec: spec, training: TrainingConfiguration(),
        pipelineConfiguration: dataset.configuration, shardParameters: "{}",
        normMean: [Float](repeating: 0, count: dataset.nMels), normStd: [Float](repeating: 1, count: dataset.nMels),
        modelState: state, optimizerState: [:], epoch: 0, bestValidAccuracy: 0, bestEpoch: 0,
        epochsWithoutImprovement: 0, optimizerSteps: 0, provenance: ["source": "test network", "licence": "none"])
    try checkpoint.write(to: path)
    return checkpoint
}

@Suite(.serialized) struct TransferTests {
    static func configuration(mode: TrainingConfiguration.TrainingMode, initPath: String) throws -> TrainingConfiguration {
        var c = try TrainingConfiguration.parse(toml: "")
        c.model.initCheckpoint = initPath
        c.model.cropFrames = 96
        c.train.mode = mode
        c.train.batchSize = 16
        c.train.epochs = 3
        c.probe.cGrid = [0.01, 0.1, 1]
        c.probe.maxIterations = 300
        c.finetune.headEpochs = 1
        c.finetune.headInit = .probe
        c.schedule.warmupEpochs = 0
        return c
    }

    /// The probe: embeddings cached, the logistic regression folded into an ordinary checkpoint that evaluates to
    /// the accuracy the probe recorded, and well above chance on the synthetic genres even with a random network.
    @Test func probeWritesAnOrdinaryCheckpoint() throws {
        let shards = try LearnableFixture.shardFolder.get()
        let dir = try TemporaryDirectory("probe")
        let pretrained = try writeTinyPretrained(to: dir.file("tiny.h5"), shards: shards)
        let config = try Self.configuration(mode: .probe, initPath: dir.file("tiny.h5"))
        let summary = try Trainer(run: TrainingRun(shards: shards, directory: dir.file("run"), configuration: config)).train()
        let best = try Checkpoint.read(from: dir.file("run/best.h5"))
        #expect(best.modelSpec.layers.count == 29 && best.modelSpec.classes == 10)
        #expect(best.provenance["mode"] == "probe" && best.provenance["source"] == "test network")
        // The body and the tags are the pre-trained ones, untouched.
        for (name, tensor) in pretrained.modelState { #expect(best.modelState[name] == tensor, "\(name)") }
        let record = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir.file("run/probe.json")))) as! [String: Any]
        let grid = record["grid"] as! [[String: Any]]
        let chosen = grid.first { ($0["C"] as! Double) == (record["chosen_C"] as! Double) }!
        // The folded network's clip-level valid accuracy, evaluated, is the regression's (mean of window logits =
        // logits of the mean embedding, the map being affine).
        #expect(summary.bestValidAccuracy == chosen["valid_accuracy"] as! Double)
        let valid = try Evaluator.run(checkpointPath: dir.file("run/best.h5"), shards: shards, split: "valid",
                                      output: dir.file("evaluation-valid"))
        #expect(abs(valid.result.accuracy - (chosen["valid_accuracy"] as! Double)) < 1e-9)
        #expect(record["features"] as! Int == 8 * 1 * 1 + 6)
        #expect(record["embedded_splits"] as! [String] == ["train", "valid"])
        let outcome = try Evaluator.run(checkpointPath: dir.file("run/best.h5"), shards: shards, split: "test",
                                        output: dir.file("evaluation"))
        #expect(outcome.result.accuracy >= 0.3, "probe accuracy \(outcome.result.accuracy) (chance 0.1)")
        let html = try String(contentsOfFile: dir.file("evaluation/report.html"), encoding: .utf8)
        #expect(html.contains("linear probe") && html.contains("test network"))

        // A second run reads the embeddings from the cache and writes the same probe.
        _ = try Trainer(run: TrainingRun(shards: shards, directory: dir.file("run"), configuration: config)).train()
        let again = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir.file("run/probe.json")))) as! [String: Any]
        #expect((again["embedded_splits"] as! [String]).isEmpty)
        #expect(try Checkpoint.read(from: dir.file("run/best.h5")).modelState == best.modelState)
    }

    /// Fine-tuning: the head alone first (the body bit-identical after the head epoch), then the whole network; the
    /// frozen batch norms keep the pre-trained statistics; the checkpoint evaluates like any other.
    @Test func finetuneTrainsTheHeadThenTheBody() throws {
        let shards = try LearnableFixture.shardFolder.get()
        let dir = try TemporaryDirectory("finetune")
        let pretrained = try writeTinyPretrained(to: dir.file("tiny.h5"), shards: shards)
        let config = try Self.configuration(mode: .finetune, initPath: dir.file("tiny.h5"))
        let trainer = Trainer(run: TrainingRun(shards: shards, directory: dir.file("run"), configuration: config))
        _ = try trainer.train(stopAfterEpoch: 1)
        let afterHead = try Checkpoint.read(from: dir.file("run/last.h5"))
        // Every pre-trained layer (the body and the tag layer, 0...27) is frozen in the head epoch.
        let body = pretrained.modelState
        for (name, tensor) in body { #expect(afterHead.modelState[name] == tensor, "\(name) moved in the head epoch") }
        #expect(afterHead.modelState["28.linear.weight"]?.shape == [10, 8 + 6])
        // The head started as the linear probe on the clips' embeddings (cached beside the run).
        #expect(FileManager.default.fileExists(atPath: dir.file("run/embeddings.h5")))
        _ = try trainer.train(resume: true)
        let last = try Checkpoint.read(from: dir.file("run/last.h5"))
        #expect(last.epoch == 3 && last.provenance["mode"] == "finetune")
        let moved = body.keys.filter { $0.hasSuffix("conv.weight") && last.modelState[$0] != body[$0] }
        #expect(moved.count == 5, "conv weights that trained after the head epoch: \(moved.sorted())")
        for name in body.keys where name.contains("running_") {
            #expect(last.modelState[name] == body[name], "\(name): frozen batch norm statistics changed")
        }
        let outcome = try Evaluator.run(checkpointPath: dir.file("run/best.h5"), shards: shards, split: "test",
                                        output: dir.file("evaluation"))
        #expect(outcome.result.clips == 20)
    }

    /// The fine-tuned model is the probe's; without body dropout its dropouts are 0 and its parameter names unchanged.
    @Test func finetuneSpecKeepsTheProbesNames() throws {
        let shards = try LearnableFixture.shardFolder.get()
        let dir = try TemporaryDirectory("spec")
        _ = try writeTinyPretrained(to: dir.file("tiny.h5"), shards: shards)
        let start = try PretrainedStart(path: dir.file("tiny.h5"))
        #expect(start.finetuneSpec(classes: 10) == start.probeSpec(classes: 10))
        let quiet = start.finetuneSpec(classes: 10, bodyDropout: false)
        #expect(quiet.layers.filter { if case .dropout(let p) = $0 { p != 0 } else { false } }.isEmpty)
        #expect(quiet.layers.count == 29)
        let names = try Sequential(spec: quiet, seed: 1).stateDictionary().keys.sorted()
        #expect(names == (try Sequential(spec: start.probeSpec(classes: 10), seed: 1).stateDictionary().keys.sorted()))
    }

    /// Shards made with another front end, or a crop other than the network's input, are refused with one line.
    @Test func refusesFeaturesTheNetworkWasNotTrainedOn() throws {
        let shards = try LearnableFixture.shardFolder.get()
        let dir = try TemporaryDirectory("mismatch")
        var pretrained = try writeTinyPretrained(to: dir.file("tiny.h5"), shards: shards)
        var config = try Self.configuration(mode: .probe, initPath: dir.file("tiny.h5"))
        config.model.cropFrames = 64
        #expect { try Trainer(run: TrainingRun(shards: shards, directory: dir.file("a"), configuration: config)).train() }
            throws: { "\($0)".contains("crop_frames = 96") && !"\($0)".contains("\n") }
        var other = try PipelineConfiguration.fromJSON(pretrained.pipelineConfiguration)
        other.audio.sampleRate = 16000
        pretrained.pipelineConfiguration = other.jsonText()
        try pretrained.write(to: dir.file("tiny.h5"))
        config.model.cropFrames = 96
        #expect { try Trainer(run: TrainingRun(shards: shards, directory: dir.file("b"), configuration: config)).train() }
            throws: { "\($0)".contains("sample_rate") && "\($0)".contains("16000") && !"\($0)".contains("\n") }
    }
}
