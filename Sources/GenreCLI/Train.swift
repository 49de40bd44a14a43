import ConfigurationDecoding
import GenreCore
import ArgumentParser
import Foundation
import Pipeline
import Training

extension Genre {
    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train the genre CNN on the train split of a shard folder, validating on the valid split.")

        @Option(help: "Folder of shards written by `genre preprocess`.")
        var shards: String?

        @Option(help: "Run folder: best.h5, last.h5, log.jsonl, run.json.")
        var out: String?

        @Option(help: "Training configuration (TOML; defaults: the reference CNN, Adam 1e-3, batch 32).")
        var config: String?

        @Option(help: "Epochs (overrides [train] epochs).")
        var epochs: Int?

        @Option(help: "Seed (overrides [train] seed).")
        var seed: UInt64?

        @Option(help: "Continue the interrupted run in this folder from its last.h5.")
        var resume: String?

        func validate() throws {
            if resume == nil && (shards == nil || out == nil) {
                throw ValidationError("give --shards and --out, or --resume RUN")
            }
        }

        func run() throws {
            do {
                let run: TrainingRun
                if let resume {
                    run = try TrainingRun.resuming(directory: resume)
                } else {
                    var configuration = try config.map { p throws(ConfigurationError) in try TrainingConfiguration.load(path: p) }
                        ?? TrainingConfiguration()
                    if let epochs { configuration.train.epochs = epochs }
                    if let seed { configuration.train.seed = seed }
                    try configuration.validate(file: config)
                    run = TrainingRun(shards: shards!, directory: out!, configuration: configuration)
                }
                let summary = try Trainer(run: run, progress: ConsoleProgress()).train(resume: resume != nil)
                print(String(format: "best valid accuracy %.3f at epoch %d of %d%@; best model: %@",
                             summary.bestValidAccuracy, summary.bestEpoch, summary.epochs.count,
                             summary.stoppedEarly ? " (stopped early)" : "", summary.bestCheckpoint))
            } catch let error as ConfigurationError {
                fail("\(error)")
            } catch {
                fail("\(error)")
            }
        }
    }

    struct Evaluate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Evaluate a checkpoint on a split: accuracy, macro-F1, per-class table, confusion matrix, report.html.")

        @Option(help: "Checkpoint (best.h5 or last.h5 of a run).")
        var checkpoint: String

        @Option(help: "Folder of shards made with the same pipeline.")
        var shards: String

        @Option(help: "Split to evaluate.")
        var split: String = "test"

        @Option(help: "Folder for metrics.json, confusion.csv, per_class.csv and report.html (default: next to the checkpoint, evaluation-<split>).")
        var out: String?

        func run() throws {
            let output = out ?? (URL(fileURLWithPath: checkpoint).deletingLastPathComponent().path + "/evaluation-\(split)")
            do {
                let outcome = try Evaluator.run(checkpointPath: checkpoint, shards: shards, split: split, output: output)
                print(outcome.result.table)
                print("wrote " + outcome.files.joined(separator: ", "))
                print("report: \(output)/report.html")
            } catch {
                fail("\(error)")
            }
        }
    }

    struct Predict: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Predict the genre of audio files with a checkpoint (features made exactly as in training).")

        @Option(help: "Checkpoint (best.h5 of a run).")
        var checkpoint: String

        @Flag(help: "Print JSON with per-window probabilities over time.")
        var json = false

        @Argument(help: "Audio files.")
        var audio: [String]

        func run() throws {
            let predictor: Predictor
            do {
                predictor = try Predictor(checkpointPath: checkpoint)
            } catch {
                fail("\(error)")
            }
            let classes = predictor.checkpoint.classes
            var failures = 0
            var results: [Predictor.Prediction] = []
            for path in audio {
                do {
                    let p = try predictor.predict(path: path)
                    results.append(p)
                    if !json {
                        let top = p.top(3, classes: classes).map { String(format: "%@ %.1f%%", $0.0, $0.1 * 100) }
                        print("\(path): " + top.joined(separator: ", "))
                    }
                } catch {
                    failures += 1
                    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                }
            }
            if json {
                struct Output: Encodable { var classes: [String]; var predictions: [Predictor.Prediction] }
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(Output(classes: classes, predictions: results)), as: UTF8.self))
            }
            if failures > 0 { throw ExitCode(failures == audio.count ? 1 : 2) }
        }
    }
}
