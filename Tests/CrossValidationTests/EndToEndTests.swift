import Foundation
import Pipeline
import SyntheticCorpus
import Testing
import TestSupport
import Training

@testable import CrossValidation

/// A whole cross-validation on a tiny synthetic corpus: 3 folds, 1 epoch of a small CNN on 1 s clips.
@Suite struct EndToEndTests {
    static func configurations() throws -> (PipelineConfiguration, TrainingConfiguration) {
        let pipeline = try PipelineConfiguration.parse(toml: """
            [audio]
            clip_seconds = 1.0
            [mel]
            n_mels = 32
            [split]
            method = "kfold"
            folds = 5
            seed = 7
            """)
        let training = try TrainingConfiguration.parse(toml: """
            [model]
            channels = [4, 8]
            crop_frames = 32
            [train]
            epochs = 1
            batch_size = 8
            """)
        return (pipeline, training)
    }

    @Test func threeFoldsLayoutSummaryAndRerun() throws {
        let temporary = try TemporaryDirectory("crossval")
        let corpus = temporary.file("corpus")
        try SyntheticCorpus.write(to: corpus, options: .init(clipsPerGenre: 3, seconds: 1, seed: 11))
        let (pipeline, training) = try Self.configurations()
        let out = temporary.file("cv")
        let crossValidation = try CrossValidation(
            corpus: corpus, pipeline: pipeline, training: training, output: out, folds: 3, jobs: 2)
        #expect(crossValidation.folds == 3)

        let summary = try crossValidation.run()
        let fm = FileManager.default
        #expect(fm.fileExists(atPath: out + "/cache"))
        for k in 0..<3 {
            for file in ["shards/report.json", "shards/split.tsv", "run/best.h5", "run/log.jsonl", "evaluation/metrics.json",
                         "evaluation/report.html", "fold.json"] {
                #expect(fm.fileExists(atPath: out + "/fold-\(k)/" + file), "fold-\(k)/\(file)")
            }
            #expect(try fm.contentsOfDirectory(atPath: out + "/fold-\(k)").allSatisfy { !$0.hasPrefix(".") })
        }
        #expect(summary.foldCount == 3 && summary.completed == [0, 1, 2] && summary.missing.isEmpty)
        #expect(summary.folds.map(\.clips) == [10, 10, 10])  // 30 clips, each tested once
        #expect(summary.perClass.allSatisfy { $0.support == 3 })
        #expect(summary.confusion.flatMap { $0 }.reduce(0, +) == 30)
        #expect(summary.pipeline.split.method == .kfold && summary.pipeline.split.folds == 3)
        #expect(summary.training == training)

        let decoded = try JSONDecoder().decode(CrossValidationSummary.self, from: Data(contentsOf: URL(fileURLWithPath: out + "/summary.json")))
        #expect(decoded == summary)
        let html = try String(contentsOfFile: out + "/report.html", encoding: .utf8)
        #expect(html.contains("<svg") && html.contains("3 of 3 folds"))

        // A rerun finds every fold complete, and --summarise gives the same summary.
        let again = try crossValidation.run()
        #expect(again == summary)
        #expect(try CrossValidation.summarise(directory: out) == summary)

        // A fold interrupted after training (no evaluation, no record) is finished from its shards and best.h5.
        try fm.removeItem(atPath: out + "/fold-1/fold.json")
        try fm.removeItem(atPath: out + "/fold-1/evaluation")
        var redone = try crossValidation.runFold(1).result
        redone.seconds = summary.folds[1].seconds
        #expect(redone == summary.folds[1])
        #expect(fm.fileExists(atPath: out + "/fold-1/evaluation/metrics.json"))

        // Another number of folds into the same folder is refused, naming the fold record.
        let other = try CrossValidation(corpus: corpus, pipeline: pipeline, training: training, output: out, folds: 4)
        #expect { _ = try other.runFold(0) } throws: { error in
            "\(error)".contains("fold-0/fold.json") && "\(error)".contains("split.folds 3")
        }
        #expect(throws: CrossValidationError.self) { _ = try crossValidation.runFold(3) }
    }

    @Test func anotherSplitMethodIsUsedAsKFold() throws {
        var pipeline = try PipelineConfiguration.parse(toml: "")
        pipeline.split.seed = 99
        let cv = try CrossValidation(corpus: "/c", pipeline: pipeline, training: .init(), output: "/tmp/x/", folds: 4)
        #expect(cv.pipeline.split.method == .kfold && cv.pipeline.split.folds == 4 && cv.pipeline.split.seed == 99)
        #expect(cv.pipeline(forFold: 2).split.fold == 2)
        #expect(cv.layout.shards(2) == "/tmp/x/fold-2/shards")
        #expect(throws: (any Error).self) {
            _ = try CrossValidation(corpus: "/c", pipeline: pipeline, training: .init(), output: "/tmp/x", folds: 2)
        }
    }

    @Test func summariseWithoutFoldsIsAClearError() throws {
        let temporary = try TemporaryDirectory("crossval-empty")
        #expect { _ = try CrossValidation.summarise(directory: temporary.path) } throws: { error in
            "\(error)".hasPrefix(temporary.path + ": no completed fold")
        }
    }
}
