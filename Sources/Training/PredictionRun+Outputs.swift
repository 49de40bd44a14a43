import Foundation
public import GenreCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension PredictionRun {
    /// Where the results of a run go.
    public struct Outputs: Sendable, Equatable {
        /// Result lines on standard output.
        public enum Lines: Sendable, Equatable {
            /// No lines.
            case none
            /// One line per predicted file, as it finishes (in input order): its `count` likeliest classes
            /// (``PredictionReport/line(for:classes:count:)``) or tags (``PredictionReport/tagLine(for:tags:count:)``).
            case top(Int)
        }

        public var lines: Lines
        /// `--csv`: the CSV file (``PredictionCSV``), rows written as files finish, in input order, under a
        /// temporary name renamed into place at the end; nil: none.
        public var csvPath: String?
        /// `--json`: one ``PredictionReport`` (every window's probabilities, failures with their reason) on
        /// standard output at the end.
        public var json: Bool

        public init(lines: Lines = .top(3), csvPath: String? = nil, json: Bool = false) {
            self.lines = lines
            self.csvPath = csvPath
            self.json = json
        }
    }

    /// The whole command: expands `arguments` (``inputs(_:)``), predicts them (``run(_:options:progress:deliver:)``)
    /// and sends the results to `outputs`; text meant for standard output goes to `write` (one call per line, or
    /// one for the JSON document). Per-window probabilities are kept only for JSON.
    ///
    /// - Throws: a bad window hop, a CSV file that cannot be created, written or renamed into place (it is then
    ///   removed), a JSON encoding failure. Files that cannot be predicted do not throw: see the tally.
    public func perform(
        arguments: [String], options: Options = Options(), outputs: Outputs,
        progress: any ProgressObserver = SilentProgress(), write: (String) -> Void
    ) throws(TrainingError) -> PredictionTally {
        let csv = try outputs.csvPath.map { path throws(TrainingError) in try AtomicTextFile(path: path) }
        try csv?.write(line: PredictionCSV.header)
        var options = options
        options.keepWindows = outputs.json
        var report = PredictionReport(classes: classes, predictions: [])
        let classes = classes, tagger = network == .tagger
        let tally = try run(inputs(arguments), options: options, progress: progress) { _, outcome throws(TrainingError) in
            try csv?.write(line: PredictionCSV.row(for: outcome, classes: classes))
            if outputs.json { report.append(outcome) }
            if case .top(let count) = outputs.lines, case .predicted(let prediction) = outcome {
                write(tagger ? PredictionReport.tagLine(for: prediction, tags: classes, count: count)
                             : PredictionReport.line(for: prediction, classes: classes, count: count))
            }
        }
        try csv?.commit()
        if outputs.json {
            do {
                write(try report.jsonText())
            } catch {
                throw .io(path: checkpointPath, reason: "cannot write the JSON report: \(error)")
            }
        }
        return tally
    }
}

/// What `genre predict` and `genre tags` show on standard error: every failure line (`error: <path>: <reason>`),
/// and a progress bar (files done of total, files/s, failures, time left) only when ``ConsoleProgress`` would draw
/// one on a terminal.
public struct PredictionConsole: ProgressObserver {
    private let bar: ConsoleProgress?

    /// `showsBar` false: failure lines only.
    public init(showsBar: Bool) {
        bar = showsBar ? ConsoleProgress(forceTerminal: true) : nil
    }

    /// The bar when standard error is a terminal, except when result lines go to the same terminal on standard
    /// output (they would break the bar; they show the progress themselves).
    public static func standard(printsLines: Bool) -> PredictionConsole {
        PredictionConsole(showsBar: isatty(STDERR_FILENO) != 0 && !(printsLines && isatty(STDOUT_FILENO) != 0))
    }

    public func progress(phase: String, done: Int, total: Int, elapsed: Double) {
        bar?.progress(phase: phase, done: done, total: total, elapsed: elapsed)
    }

    public func finish(phase: String, done: Int, elapsed: Double) {
        bar?.finish(phase: phase, done: done, elapsed: elapsed)
    }

    public func message(_ line: String) {
        if let bar { bar.message(line) } else { writeStandardError(line + "\n") }
    }
}
