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

        @Option(help: "Training configuration (TOML; default: the built-in recipe pipelines/train.toml shows).")
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
            if let epochs, epochs < 1 { throw ValidationError("--epochs must be at least 1") }
        }

        func run() throws {
            let run: TrainingRun
            if let resume {
                run = try TrainingRun.resuming(directory: resume)
            } else {
                let configuration = try TrainingConfiguration.load(path: config, epochs: epochs, seed: seed)
                run = TrainingRun(shards: shards!, directory: out!, configuration: configuration)
            }
            let summary = try Trainer(run: run, progress: ConsoleProgress()).train(resume: resume != nil)
            print(summary.text)
        }
    }
}
