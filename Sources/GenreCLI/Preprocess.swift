import ConfigurationDecoding
import GenreCore
import ArgumentParser
import Foundation
import Pipeline

extension Genre {
    struct Preprocess: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Scan, resample, STFT, mel, dB, normalise (train-fitted) and write HDF5 shards.")

        @Option(help: "Corpus root: <root>/<class>/<clip>.<ext>.")
        var corpus: String?

        @Option(help: "Dataset name looked up in the datasets file (instead of --corpus).")
        var dataset: String?

        @Option(help: "Datasets file (name = path lines).")
        var datasets: String = "datasets"

        @Option(help: "Pipeline configuration (TOML).")
        var pipeline: String

        @Option(help: "Output folder for the shards, split.tsv and report.json.")
        var out: String

        @Option(help: "Worker threads (default: one per core).")
        var jobs: Int?

        @Flag(help: "Exit with status 3 when any file had to be skipped.")
        var strict = false

        @Flag(help: "Recompute every clip's features (the feature cache is neither read nor changed).")
        var noCache = false

        @Option(help: "Feature cache folder (default: <out>/.cache), keyed by file content and feature parameters.")
        var cache: String?

        @Option(help: ArgumentHelp(
            "Process part K of N only (1 <= K <= N), into <out>/parts/part-K-of-N; then run genre merge <out>.",
            discussion: "Without it, Slurm's SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT or Kubernetes' "
                + "JOB_COMPLETION_INDEX/JOB_COMPLETIONS choose the part when set; 'none' ignores them.",
            valueName: "K/N"))
        var part: String?

        func validate() throws {
            if (corpus == nil) == (dataset == nil) { throw ValidationError("give exactly one of --corpus and --dataset") }
            if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
        }

        func run() throws {
            let root = try dataset.map { name throws(ConfigurationError) in
                try DatasetRegistry.load(path: datasets).path(of: name, file: datasets)
            } ?? corpus!
            let config = try PipelineConfiguration.load(path: pipeline)
            let partition = try Partition.resolve(option: part, environment: ProcessInfo.processInfo.environment)
            if partition != nil && cache != nil {
                throw CommandFailure(
                    "--cache does not go with a partitioned run: each part keeps its own in <out>/parts/part-K-of-N/cache")
            }
            let cancellation = CancellationFlag()
            Signals.trap(cancellation)
            let options = PreprocessOptions(
                corpus: root, output: out, jobs: jobs, strict: strict, cache: cache, useCache: !noCache,
                cancellation: cancellation)
            let preprocessor = Preprocessor(configuration: config, options: options, progress: ConsoleProgress())
            if let partition {
                let record = try preprocessor.runPart(partition)
                print(record.summary(output: out))
                if strict && record.skippedCount > 0 {
                    throw CommandFailure.strict(skipped: record.skippedCount, "in part \(partition)")
                }
            } else {
                let report = try preprocessor.run()
                print(report.summary)
                if strict && !report.skipped.isEmpty {
                    throw CommandFailure.strict(skipped: report.skipped.count, "(see \(out)/report.json)")
                }
            }
        }
    }
}
