import ConfigurationDecoding
import GenreCore
import ArgumentParser
import Foundation
import Pipeline
import Training

extension Genre {
    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train the genre CNN on the train split of a shard folder, validating on the valid split.",
            discussion: "With --init and --probe or --finetune (or [model] init and [train] mode in --config), start "
                + "from a pre-trained network: a linear probe on its frozen embeddings, or fine-tuning with a new head.")

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

        @Option(name: .customLong("init"),
                help: "Pre-trained checkpoint to start from (overrides [model] init), e.g. models/musicnn-msd-vgg.h5.")
        var initCheckpoint: String?

        @Flag(help: "Linear probe on the frozen --init network (sets [train] mode = \"probe\").")
        var probe = false

        @Flag(help: "Fine-tune the --init network with a new head (sets [train] mode = \"finetune\").")
        var finetune = false

        @Option(help: "Continue the interrupted run in this folder from its last.h5.")
        var resume: String?

        func validate() throws {
            if resume == nil && (shards == nil || out == nil) {
                throw ValidationError("give --shards and --out, or --resume RUN")
            }
            if let epochs, epochs < 1 { throw ValidationError("--epochs must be at least 1") }
            if probe && finetune { throw ValidationError("give --probe or --finetune, not both") }
            if resume != nil && (probe || finetune || initCheckpoint != nil) {
                throw ValidationError("--resume continues the recorded run: --init, --probe and --finetune do not apply")
            }
        }

        func run() throws {
            let run: TrainingRun
            if let resume {
                run = try TrainingRun.resuming(directory: resume)
            } else {
                let mode: TrainingConfiguration.TrainingMode? = probe ? .probe : finetune ? .finetune : nil
                let configuration = try TrainingConfiguration.load(path: config, epochs: epochs, seed: seed,
                                                                   initCheckpoint: initCheckpoint, mode: mode)
                run = TrainingRun(shards: shards!, directory: out!, configuration: configuration)
            }
            let summary = try Trainer(run: run, progress: ConsoleProgress()).train(resume: resume != nil)
            print(summary.text)
        }
    }
}
