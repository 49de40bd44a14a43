import ArgumentParser
import Foundation
import Pipeline
import Training

extension Genre {
    struct Evaluate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Evaluate a checkpoint on a split: accuracy, macro-F1, per-class table, confusion matrix, report.html.")

        @Option(help: "Checkpoint (best.h5 or last.h5 of a run).")
        var checkpoint: String

        @Option(help: "Folder of shards made with the same pipeline.")
        var shards: String

        @Option(help: "Split to evaluate.")
        var split: DataSplit = .test

        @Option(help: "Folder for metrics.json, confusion.csv, per_class.csv and report.html (default: next to the checkpoint, evaluation-<split>).")
        var out: String?

        @Option(help: "Frames between evaluation window starts, 1...window length (default: the checkpoint's [evaluate] window_hop).")
        var windowHop: Int?

        func validate() throws {
            if let windowHop, windowHop < 1 { throw ValidationError("--window-hop must be at least 1") }
        }

        func run() throws {
            let output = out ?? Evaluator.defaultOutput(checkpointPath: checkpoint, split: split.rawValue)
            let outcome = try Evaluator.run(checkpointPath: checkpoint, shards: shards, split: split.rawValue, output: output,
                                            windowHop: windowHop)
            print(outcome.result.table)
            print("wrote " + outcome.files.joined(separator: ", "))
            print("report: \(output)/report.html")
        }
    }
}
