import ArgumentParser
import GenreCore
import Pipeline
import Training

/// The arguments `genre predict` and `genre tags` share: the paths, the outputs, the workers and the window hop;
/// and the one way both run (SIGINT/SIGTERM stop after the files in progress) and exit.
struct PredictionArguments: ParsableArguments {
    @Flag(help: "Print one JSON document with per-window probabilities over time, and the failures.")
    var json = false

    @Option(help: ArgumentHelp("Write one CSV row per file to this file.", valueName: "OUT.csv"))
    var csv: String?

    @Option(help: "Files predicted at once (default: one per core).")
    var jobs: Int?

    @Option(help: "Frames between window starts, 1...window length (default: the checkpoint's [evaluate] window_hop, else the window length).")
    var windowHop: Int?

    @Argument(help: ArgumentHelp("Audio files or folders (searched recursively).", valueName: "PATH"))
    var paths: [String]

    func validate() throws {
        if let windowHop, windowHop < 1 { throw ValidationError("--window-hop must be at least 1") }
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
        if paths.isEmpty { throw ValidationError("give one or more audio files or folders") }
    }

    /// Runs `network` from `checkpoint` over the paths, printing `top` likeliest classes per file when neither
    /// `--csv` nor `--json` is given; then exits as ``exitStatus(_:)`` says.
    func run(checkpoint: String, network: PredictionRun.Network, top: Int) throws {
        let run = try PredictionRun(checkpoint: checkpoint, network: network)
        let cancellation = CancellationFlag()
        Signals.trap(cancellation)
        let lines: PredictionRun.Outputs.Lines = json || csv != nil ? .none : .top(top)
        let tally = try run.perform(
            arguments: paths, options: .init(windowHop: windowHop, jobs: jobs, cancellation: cancellation),
            outputs: .init(lines: lines, csvPath: csv, json: json),
            progress: PredictionConsole.standard(printsLines: lines != .none), write: { print($0) })
        try exitStatus(tally)
    }

    /// Returns (exit status 0) when every file was predicted; throws exit status 2 when some were, 1 when none
    /// was, 130 or 143 when SIGINT or SIGTERM stopped the run (after saying what the outputs hold).
    func exitStatus(_ tally: PredictionTally) throws {
        if let why = tally.interrupted {
            let kept = csv.map { "; \($0) holds their rows" } ?? ""
            writeStandardError("\(why): stopped after the first \(tally.total) inputs\(kept)\n")
            throw ExitCode(Signals.exitCode(why))
        }
        switch tally.verdict {
        case .allPredicted: return
        case .somePredicted: throw ExitCode(2)
        case .nonePredicted: throw ExitCode(1)
        }
    }
}
