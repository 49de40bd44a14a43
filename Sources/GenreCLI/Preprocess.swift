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
            let options = PreprocessOptions(corpus: root, output: out, jobs: jobs, strict: strict)
            let report: RunReport
            do {
                report = try Preprocessor(configuration: config, options: options, progress: ConsoleProgress()).run()
            } catch {
                fail("\(error)")
            }
            print(report.summary)
            if strict && !report.skipped.isEmpty {
                fail("--strict: \(report.skipped.count) files were skipped (see \(out)/report.json)", code: 3)
            }
        }
    }
}
