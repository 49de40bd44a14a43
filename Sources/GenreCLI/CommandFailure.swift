import ArgumentParser
import Foundation
import Pipeline

/// A command that could not finish: what the user reads (one line, `error: <description>`, on standard error,
/// naming the file and the reason) and the exit status. Every error a command's `run()` throws becomes one of these
/// in `init(_:)`, the one place exit statuses are decided:
///
/// | status | when |
/// | --- | --- |
/// | 0 | done |
/// | 1 | an error: bad or missing input, a malformed configuration (naming the key), an I/O failure; `verify` found problems; `predict` could read none of its files |
/// | 2 | `predict`: some of its files could not be read |
/// | 3 | `--strict` (`preprocess`, `merge`): files were skipped |
/// | 64 | a usage error (ArgumentParser: an unknown option, a value out of range, options that do not go together) |
/// | 130, 143 | interrupted by SIGINT, SIGTERM (128 + the signal's number): the rerun continues where it stopped |
struct CommandFailure: Error, CustomStringConvertible {
    /// The line printed after `error: `.
    var description: String
    var exitCode: ExitCode = .failure

    init(_ description: String, exitCode: ExitCode = .failure) {
        self.description = description
        self.exitCode = exitCode
    }

    /// `--strict` and `count` files were skipped: exit status 3.
    static func strict(skipped count: Int, _ detail: String) -> CommandFailure {
        CommandFailure("--strict: \(count) files were skipped \(detail)", exitCode: ExitCode(3))
    }

    /// What `error`, thrown by a command's `run()`, means for the user.
    init(_ error: any Error) {
        switch error {
        case let failure as CommandFailure:
            self = failure
        case let error as PipelineError where error.interruption != nil:
            // The reason says how far the run got and how to go on; the path is not the point.
            self.init(error.reason, exitCode: ExitCode(Signals.exitCode(error.interruption!)))
        default:
            self.init("\(error)")
        }
    }

    /// Prints the line on standard error and returns the exit status.
    func report() -> ExitCode {
        FileHandle.standardError.write(Data(("error: " + description + "\n").utf8))
        return exitCode
    }
}
