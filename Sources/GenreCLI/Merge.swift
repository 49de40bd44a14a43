import GenreCore
import ArgumentParser
import Foundation
import Pipeline

extension Genre {
    struct Merge: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Combine the parts of a partitioned preprocess (--part K/N) into the shards a single run writes.",
            discussion: "Reads <out>/parts/part-K-of-N/ for K = 1…N, merges the train clips' partial statistics "
                + "exactly, assigns splits, normalises and writes the shards, split.tsv and report.json into <out>. "
                + "Refuses when a part is missing or was made with other parameters; safe to run again.")

        @Argument(help: "The output folder the parts were written to (--out of genre preprocess --part).")
        var out: String

        @Option(help: "Number of parts N (default: the one N found under <out>/parts).")
        var parts: Int?

        @Option(help: "Worker threads (default: one per core).")
        var jobs: Int?

        @Flag(help: "Exit with status 3 when any file had to be skipped.")
        var strict = false

        func validate() throws {
            if let parts, parts < 1 { throw ValidationError("--parts must be at least 1") }
            if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
        }

        func run() throws {
            let cancellation = CancellationFlag()
            Signals.trap(cancellation)
            let report = try Preprocessor.merge(
                output: out, count: parts, jobs: jobs, progress: ConsoleProgress(), cancellation: cancellation)
            print(report.summary)
            if strict && !report.skipped.isEmpty {
                throw CommandFailure.strict(skipped: report.skipped.count, "(see \(out)/report.json)")
            }
        }
    }
}
