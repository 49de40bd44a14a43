import ArgumentParser
import Foundation
import Pipeline

extension Genre {
    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Describe a shard folder: schema, parameters, classes, clips per class and split.")

        @Argument(help: "Folder of shards written by `genre preprocess`.")
        var directory: String

        func run() throws {
            print(try ShardInspection.inspect(directory: directory).text)
        }
    }
}
