import ArgumentParser
import Foundation
import Pipeline

extension Genre {
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a shard folder before training: structure, consistency, values, checksums, leakage.",
            discussion: "Lists every problem, one line each naming the file; exits 0 when there is none, 1 otherwise.")

        @Argument(help: "Folder of shards written by `genre preprocess`.")
        var directory: String

        @Flag(help: "Skip reading the features (no checksum, no NaN scan): structure and per-clip arrays only.")
        var quick = false

        func run() throws {
            let result = try ShardVerifier.verify(directory: directory, checksums: !quick)
            print(result.text)
            if !result.isClean { throw ExitCode.failure }
        }
    }
}
