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

        @Flag(help: "Exit non-zero when any file had to be skipped.")
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
            let root: String
            let config: PipelineConfiguration
            do {
                if let dataset {
                    root = try DatasetRegistry.load(path: datasets).path(of: dataset, file: datasets)
                } else {
                    root = corpus!
                }
                config = try PipelineConfiguration.load(path: pipeline)
            } catch {
                fail("\(error)")
            }
            let partition: Partition?
            do {
                partition = try Partition.resolve(option: part, environment: ProcessInfo.processInfo.environment)
            } catch {
                fail("\(error)")
            }
            if partition != nil && cache != nil {
                fail("--cache does not go with a partitioned run: each part keeps its own in <out>/parts/part-K-of-N/cache")
            }
            let cancellation = CancellationFlag()
            Signals.trap(cancellation)
            let options = PreprocessOptions(
                corpus: root, output: out, jobs: jobs, strict: strict, cache: cache, useCache: !noCache,
                cancellation: cancellation)
            let preprocessor = Preprocessor(configuration: config, options: options, progress: ConsoleProgress())
            do {
                if let partition {
                    let record = try preprocessor.runPart(partition)
                    print(record.summary(output: out))
                    if strict && record.skippedCount > 0 {
                        fail("--strict: \(record.skippedCount) files were skipped in part \(partition)", code: 3)
                    }
                } else {
                    let report = try preprocessor.run()
                    print(report.summary)
                    if strict && !report.skipped.isEmpty {
                        fail("--strict: \(report.skipped.count) files were skipped (see \(out)/report.json)", code: 3)
                    }
                }
            } catch {
                if let signal = error.interruption { fail(error.reason, code: Signals.exitCode(signal)) }
                fail("\(error)")
            }
        }
    }
}
