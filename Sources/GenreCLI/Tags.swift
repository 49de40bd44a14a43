import ArgumentParser
import Foundation
import Pipeline
import Training

extension Genre {
    struct Tags: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Tag audio files with a tagging network: by default musicnn's MSD-VGG (50 Million Song Dataset tags) "
                + "as `make pretrained` imports it.",
            discussion: "Each tag's probability is the mean over the file's 3 s windows; --json prints the taggram (every "
                + "window's tag probabilities over time). PATH is a file or a folder, searched recursively, as for "
                + "`genre predict` (so are --jobs and --csv, whose top1..top3 are the three likeliest tags). A file that "
                + "cannot be read gets one error line; the others are still tagged. Files of any length are read in "
                + "blocks, in bounded memory. Exits 0 when every file was tagged, 2 when some were not, 1 when none was.")

        @Option(help: "Tagging checkpoint (sigmoid outputs), e.g. written by `genre pretrained import`.")
        var checkpoint = "models/musicnn-msd-vgg.h5"

        @Option(help: "Tags shown per file.")
        var top = 5

        @Flag(help: "Print JSON: every tag's probability for the file and per window (the taggram).")
        var json = false

        @Option(help: ArgumentHelp("Write one CSV row per file to this file.", valueName: "OUT.csv"))
        var csv: String?

        @Option(help: "Files tagged at once (default: one per core).")
        var jobs: Int?

        @Option(help: "Frames between window starts, 1...window length (default: the window length: windows do not overlap).")
        var windowHop: Int?

        @Argument(help: ArgumentHelp("Audio files or folders (searched recursively).", valueName: "PATH"))
        var audio: [String]

        func validate() throws {
            if top < 1 { throw ValidationError("--top must be at least 1") }
            if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
            if let windowHop, windowHop < 1 { throw ValidationError("--window-hop must be at least 1") }
            if audio.isEmpty { throw ValidationError("give one or more audio files or folders") }
        }

        func run() throws {
            let tagger = try PredictionRun(checkpoint: checkpoint, network: .tagger)
            let cancellation = CancellationFlag()
            Signals.trap(cancellation)
            let lines: PredictionRun.Outputs.Lines = json || csv != nil ? .none : .top(top)
            let tally = try tagger.perform(
                arguments: audio, options: .init(windowHop: windowHop, jobs: jobs, cancellation: cancellation), outputs: .init(lines: lines, csvPath: csv, json: json),
                progress: PredictionConsole.standard(printsLines: lines != .none), write: { print($0) })
            try Predict.exitStatus(tally, csv: csv)
        }
    }
}
