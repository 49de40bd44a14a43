import ArgumentParser
import Foundation

/// `genre`: the GenreKit command-line tool. Each subcommand parses its arguments and calls one library function.
@main
struct Genre: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "genre",
        abstract: "Turn a folder of music clips into log-mel HDF5 shards, a trained genre classifier and its evaluation.",
        subcommands: [Synth.self, Scan.self, Preprocess.self, Merge.self, Inspect.self, Verify.self, Train.self, Evaluate.self, Predict.self, BenchTrain.self])
}

/// Prints a one-line error on standard error and exits with `code`.
func fail(_ message: String, code: Int32 = 1) -> Never {
    FileHandle.standardError.write(Data(("error: " + message + "\n").utf8))
    exit(code)
}
