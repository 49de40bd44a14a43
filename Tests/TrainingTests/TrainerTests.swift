import Foundation
import HDF5Store
import Net
import Pipeline
import Shards
import SyntheticCorpus
import Testing

@testable import Training

/// A learnable shard folder: the synthetic corpus, 10 genres x 12 clips of 3 s (8 train, 2 valid, 2 test per
/// genre), 64 mel bands so that the test trains in seconds. Built once per test process.
enum LearnableFixture {
    static let shardFolder: Result<String, any Error> = Result {
        let root = pipelineFixtureRoot + "-learnable"
        atexit { try? FileManager.default.removeItem(atPath: pipelineFixtureRoot + "-learnable") }
        let corpus = root + "/corpus", shards = root + "/shards"
        _ = try SyntheticCorpus.write(to: corpus, options: .init(clipsPerGenre: 12, seconds: 3, seed: 11))
        var configuration = try PipelineConfiguration.parse(toml: "[mel]\nn_mels = 64\n")
        configuration.audio.clipSeconds = 3
        _ = try Preprocessor(configuration: configuration, options: .init(corpus: corpus, output: shards, jobs: 2)).run()
        return shards
    }

    /// A small, fast configuration of the same architecture.
    static func configuration(epochs: Int = 30, seed: UInt64 = 3) throws -> TrainingConfiguration {
        var c = try TrainingConfiguration.parse(toml: "")
        c.model.channels = [16, 32, 64, 64]
        c.model.cropFrames = 64
        c.model.dropout = 0.2
        c.train.epochs = epochs
        c.train.batchSize = 16
        c.train.seed = seed
        c.train.patience = 0
        c.optimizer.kind = .adamw
        c.optimizer.learningRate = 3e-3
        c.optimizer.weightDecay = 1e-4
        c.schedule.kind = .cosine
        return c
    }
}

@Suite(.serialized) struct TrainerTests {
    /// End to end: train on the synthetic corpus, evaluate on its held-out test clips: at least 90 % clip accuracy.
    /// Fails when backpropagation is broken (the model would stay at chance, 10 %).
    @Test func learnsTheSyntheticGenresToNinetyPercent() throws {
        let shards = try LearnableFixture.shardFolder.get()
        let run = try TemporaryDirectory("learn")
        let summary = try Trainer(run: TrainingRun(shards: shards, directory: run.path,
                                                   configuration: try LearnableFixture.configuration())).train()
        #expect(summary.epochs.count == 30)
        #expect(summary.epochs.last!.trainLoss! < summary.epochs.first!.trainLoss!)
        let outcome = try Evaluator.run(checkpointPath: run.file("best.h5"), shards: shards, split: "test",
                                        output: run.file("evaluation"))
        #expect(outcome.result.clips == 20)
        #expect(outcome.result.accuracy >= 0.9, "clip accuracy \(outcome.result.accuracy)")
        for file in outcome.files { #expect(FileManager.default.fileExists(atPath: file)) }
        let log = try TrainingLog.read(path: run.file("log.jsonl"))
        #expect(log.map(\.epoch) == Array(1...30))
        #expect(log.allSatisfy { $0.samplesPerSecond != nil && $0.validAccuracy != nil })  // recorded; never timed here
    }

    /// Same seed, same model; an interrupted run resumed from `last.h5` ends where an uninterrupted one does.
    @Test func deterministicAndResumable() throws {
        let shards = try LearnableFixture.shardFolder.get()
        let config = try LearnableFixture.configuration(epochs: 3, seed: 5)
        let a = try TemporaryDirectory("a"), b = try TemporaryDirectory("b"), c = try TemporaryDirectory("c")
        _ = try Trainer(run: TrainingRun(shards: shards, directory: a.path, configuration: config)).train()
        _ = try Trainer(run: TrainingRun(shards: shards, directory: b.path, configuration: config)).train()
        // Interrupted after epoch 2, then resumed from last.h5 as `genre train --resume` does.
        _ = try Trainer(run: TrainingRun(shards: shards, directory: c.path, configuration: config)).train(stopAfterEpoch: 2)
        #expect(try Checkpoint.read(from: c.file("last.h5")).epoch == 2)
        _ = try Trainer(run: try TrainingRun.resuming(directory: c.path)).train(resume: true)
        let ca = try Checkpoint.read(from: a.file("last.h5")), cb = try Checkpoint.read(from: b.file("last.h5"))
        let cc = try Checkpoint.read(from: c.file("last.h5"))
        #expect(ca.modelState == cb.modelState)
        #expect(ca.epoch == 3 && cc.epoch == 3)
        var worst: Float = 0
        for (name, t) in ca.modelState {
            let u = cc.modelState[name]!
            #expect(t.shape == u.shape)
            for i in 0..<t.count { worst = max(worst, abs(t.scalars[i] - u.scalars[i])) }
        }
        // The same operations in the same order on the same machine: bit for bit (as scripts/resilience.sh checks
        // with h5diff for `genre train --resume`).
        #expect(worst == 0, "resumed weights differ from uninterrupted ones by up to \(worst)")
        #expect(try TrainingLog.read(path: c.file("log.jsonl")).map(\.epoch) == [1, 2, 3])
    }

    @Test func checkpointRoundTripAndCorruption() throws {
        let shards = try LearnableFixture.shardFolder.get()
        let run = try TemporaryDirectory("ckpt")
        _ = try Trainer(run: TrainingRun(shards: shards, directory: run.path,
                                         configuration: try LearnableFixture.configuration(epochs: 1))).train()
        let checkpoint = try Checkpoint.read(from: run.file("best.h5"))
        #expect(checkpoint.classes == SyntheticCorpus.genres)
        #expect(checkpoint.normMean.count == 64)
        #expect(try checkpoint.pipeline().mel.nMels == 64)
        let model = try checkpoint.makeModel(path: run.file("best.h5"))
        #expect(model.stateDictionary() == checkpoint.modelState)

        // Truncated: a clear error naming the file, never a crash.
        let data = try Data(contentsOf: URL(fileURLWithPath: run.file("best.h5")))
        for fraction in [0.01, 0.5, 0.95] {
            let cut = run.file("cut.h5")
            try data.prefix(Int(Double(data.count) * fraction)).write(to: URL(fileURLWithPath: cut))
            #expect { _ = try Checkpoint.read(from: cut) } throws: { "\($0)".contains("cut.h5") }
        }
        // Another schema.
        let other = run.file("other.h5")
        try FileManager.default.copyItem(atPath: run.file("best.h5"), toPath: other)
        let file = try HDF5File(openingForWriting: other)
        try file.setAttribute("schema", to: .string("genrekit-checkpoint/99"))
        try file.close()
        #expect { _ = try Checkpoint.read(from: other) } throws: { "\($0)".contains("genrekit-checkpoint/99") }
        // Weights of another model spec.
        var wrong = checkpoint
        wrong.modelSpec = TrainingConfiguration().modelSpec(classes: 10, nMels: 64)
        #expect(throws: TrainingError.self) { _ = try wrong.makeModel(path: "x.h5") }
    }

    @Test func predictReadsAnyAudioWithTheCheckpointAlone() throws {
        let shards = try LearnableFixture.shardFolder.get()
        let run = try TemporaryDirectory("predict")
        _ = try Trainer(run: TrainingRun(shards: shards, directory: run.path,
                                         configuration: try LearnableFixture.configuration(epochs: 1))).train()
        let predictor = try Predictor(checkpointPath: run.file("best.h5"))
        let corpus = pipelineFixtureRoot + "-learnable/corpus"
        let p = try predictor.predict(path: corpus + "/jazz/jazz.00001.wav")
        #expect(p.probabilities.count == 10)
        #expect(abs(p.probabilities.reduce(0, +) - 1) < 1e-9)
        // 3 s at 22050 Hz, hop 512, centred: 1 + 66150 / 512 = 130 frames; 64-frame windows at 0 and 64, then one
        // at 66 ending at the last frame.
        #expect(p.windows.map(\.start) == [0, 64, 66].map { Double($0) * 512 / 22050 })
        let everyTenth = try predictor.predict(path: corpus + "/jazz/jazz.00001.wav", windowHop: 10)
        #expect(everyTenth.windows.map(\.start) == [0, 10, 20, 30, 40, 50, 60, 66].map { Double($0) * 512 / 22050 })
        #expect { _ = try predictor.predict(path: corpus + "/jazz/jazz.00001.wav", windowHop: 65) } throws: { _ in true }
        #expect(p.top(3, classes: predictor.checkpoint.classes).count == 3)
        let bad = run.file("bad.wav")
        try "not audio".write(toFile: bad, atomically: true, encoding: .utf8)
        #expect { _ = try predictor.predict(path: bad) } throws: { "\($0)".contains("bad.wav") }
    }

    @Test func evaluationRefusesShardsOfAnotherPipeline() throws {
        let shards = try LearnableFixture.shardFolder.get()
        let run = try TemporaryDirectory("refuse")
        _ = try Trainer(run: TrainingRun(shards: shards, directory: run.path,
                                         configuration: try LearnableFixture.configuration(epochs: 1))).train()
        // The 128-band fixture of the other tests was made with other parameters.
        let other = try PipelineFixture.folder()
        #expect { _ = try Evaluator.run(checkpointPath: run.file("best.h5"), shards: other, split: "test",
                                        output: run.file("e")) } throws: { error in
            guard case .incompatible = error as? TrainingError else { return false }
            return true
        }
    }

    @Test func trainingConfigurationNamesBadKeys() {
        #expect { _ = try TrainingConfiguration.parse(toml: "[train]\nepochz = 3\n", file: "t.toml") } throws: {
            "\($0)".contains("train.epochz")
        }
        #expect { _ = try TrainingConfiguration.parse(toml: "[optimizer]\nkind = \"lbfgs\"\n") } throws: {
            "\($0)".contains("optimizer.kind")
        }
        #expect { _ = try TrainingConfiguration.parse(toml: "[model]\ndropout = 1.5\n") } throws: {
            "\($0)".contains("model.dropout")
        }
    }

    @Test func shippedTrainingConfigurationsLoad() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("pipelines").path
        let reference = try TrainingConfiguration.load(path: folder + "/train.toml")
        #expect(reference == TrainingConfiguration())
        #expect(reference.modelSpec(classes: 10, nMels: 128) == ModelSpec.genreCNN(classes: 10))
        _ = try TrainingConfiguration.load(path: folder + "/demo-train.toml")
    }
}
