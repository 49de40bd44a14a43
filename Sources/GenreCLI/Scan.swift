import ConfigurationDecoding
import ArgumentParser
import Foundation
import Pipeline

extension Genre {
    struct Scan: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List a corpus: classes, files, formats, rates and durations; undecodable files and exact duplicates.")

        @Argument(help: "Corpus root: <root>/<class>/<clip>.<ext>.")
        var root: String

        @Option(help: "Pipeline file whose [audio] extensions to use.")
        var pipeline: String?

        @Option(help: "Worker threads (default: one per core).")
        var jobs: Int?

        @Flag(help: "Only read headers (skip decoding every file and looking for duplicates).")
        var headersOnly = false

        @Option(help: "Also write the manifest as JSON to this file.")
        var json: String?

        func validate() throws {
            if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
        }

        func run() throws {
            let config = try pipeline.map { path throws(ConfigurationError) in try PipelineConfiguration.load(path: path) }
                ?? PipelineConfiguration()
            let summary = try CorpusSurvey.run(
                root: root, extensions: config.audio.extensions, jobs: jobs ?? ProcessInfo.processInfo.activeProcessorCount,
                decode: !headersOnly)
            print(summary.text)
            if let json { try summary.writeJSON(to: json) }
        }
    }
}
