import ArgumentParser
import ConfigurationDecoding
import CrossValidation
import Foundation
import GenreCore
import Pipeline
import Training

extension Genre {
    struct CrossValidate: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "crossval",
            abstract: "K-fold cross-validation: per fold preprocess, train and evaluate; then summary.json and report.html.",
            discussion: """
                Folds are stratified by class ([split] method = "kfold"; a pipeline with another method is used as \
                kfold with its seed). Layout: OUT/cache (shared feature cache), OUT/fold-K/{shards,run,evaluation,\
                fold.json}, OUT/summary.json, OUT/report.html. A rerun skips completed folds and continues an \
                interrupted one. On a cluster run one fold per task (--fold), then --summarise.
                """)

        @Option(help: "Corpus root: <root>/<class>/<clip>.<ext>.")
        var corpus: String?

        @Option(help: "Dataset name looked up in the datasets file (instead of --corpus).")
        var dataset: String?

        @Option(help: "Datasets file (name = path lines).")
        var datasets: String = "datasets"

        @Option(help: "Pipeline configuration (TOML); its [split] seed (and folds) are used.")
        var pipeline: String?

        @Option(help: "Training configuration (TOML; default: the built-in recipe pipelines/train.toml shows).")
        var config: String?

        @Option(help: "Number of folds K, at least 3 (overrides [split] folds).")
        var folds: Int?

        @Option(help: "Output folder of the cross-validation.")
        var out: String

        @Option(help: "Preprocessing worker threads (default: one per core).")
        var jobs: Int?

        @Option(help: "Run only this fold (0 ..< K), e.g. one Slurm array task each; no summary is written.")
        var fold: Int?

        @Flag(help: "Only summarise the completed folds in --out into summary.json and report.html.")
        var summarise = false

        func validate() throws {
            if summarise {
                if corpus != nil || dataset != nil || pipeline != nil || config != nil || folds != nil || fold != nil {
                    throw ValidationError("--summarise takes only --out (the completed folds record their configurations)")
                }
                return
            }
            if (corpus == nil) == (dataset == nil) { throw ValidationError("give exactly one of --corpus and --dataset") }
            if pipeline == nil { throw ValidationError("give --pipeline (a pipeline TOML file)") }
            if let folds, folds < 3 { throw ValidationError("--folds must be at least 3") }
            if let fold, fold < 0 { throw ValidationError("--fold must be at least 0") }
            if let fold, let folds, fold >= folds { throw ValidationError("--fold must be less than --folds (\(folds))") }
            if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
        }

        func run() throws {
            let progress = ConsoleProgress()
            if summarise {
                print(try CrossValidation.summarise(directory: out, progress: progress).table)
                return
            }
            let root = try dataset.map { name throws(ConfigurationError) in
                try DatasetRegistry.load(path: datasets).path(of: name, file: datasets)
            } ?? corpus!
            let crossValidation = try CrossValidation(
                corpus: root, pipeline: try PipelineConfiguration.load(path: pipeline!),
                training: try TrainingConfiguration.load(path: config, epochs: nil, seed: nil), output: out,
                folds: folds, jobs: jobs, progress: progress)
            if let fold {
                let record = try crossValidation.runFold(fold)
                print("fold \(fold) of \(crossValidation.folds): accuracy " + String(format: "%.4f", record.result.accuracy)
                      + ", macro-F1 " + String(format: "%.4f", record.result.macroF1) + "; when every fold is done: "
                      + "genre crossval --summarise --out \(out)")
            } else {
                print(try crossValidation.run().table)
                print("summary: \(crossValidation.layout.summary), report: \(crossValidation.layout.report)")
            }
        }
    }
}
