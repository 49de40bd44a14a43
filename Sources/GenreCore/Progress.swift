import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes text to standard error, unbuffered.
public func writeStandardError(_ text: String) {
    FileHandle.standardError.write(Data(text.utf8))
}

/// Receives a long job's progress. Called from the thread that runs the job (not from workers).
public protocol ProgressObserver: Sendable {
    /// `done` of `total` units of `phase` (e.g. "clips") after `elapsed` seconds.
    func progress(phase: String, done: Int, total: Int, elapsed: Double)
    /// A finished phase.
    func finish(phase: String, done: Int, elapsed: Double)
    /// A one-line message (a warning about a file, a summary line).
    func message(_ line: String)
}

/// Prints nothing: for tests and library use.
public struct SilentProgress: ProgressObserver {
    public init() {}
    public func progress(phase: String, done: Int, total: Int, elapsed: Double) {}
    public func finish(phase: String, done: Int, elapsed: Double) {}
    public func message(_ line: String) {}
}

/// Progress on standard error: a redrawn bar (done, rate, time left) on a terminal; plain lines every few seconds
/// otherwise (logs, CI).
public final class ConsoleProgress: ProgressObserver {
    /// What the observer remembers between calls.
    private struct State {
        /// `elapsed` (seconds) of the last plain progress line.
        var lastPlain = -1.0
        /// A terminal bar is on screen (to be cleared before the next line).
        var barVisible = false
        /// Seconds between plain progress lines when not on a terminal.
        var plainInterval = 5.0
    }

    private let isTerminal: Bool
    private let state = LockedValueBox(State())

    /// Seconds between plain progress lines when not on a terminal.
    public var plainInterval: Double {
        get { state.withLockedValue { $0.plainInterval } }
        set { state.withLockedValue { $0.plainInterval = newValue } }
    }

    public init(forceTerminal: Bool? = nil) {
        isTerminal = forceTerminal ?? (isatty(STDERR_FILENO) != 0)
    }

    public func progress(phase: String, done: Int, total: Int, elapsed: Double) {
        let isTerminal = isTerminal
        state.withLockedValue { state in
            let rate = elapsed > 0 ? Double(done) / elapsed : 0
            let left = rate > 0 ? Double(total - done) / rate : 0
            if isTerminal {
                let width = 28
                let filled = total > 0 ? min(width, width * done / total) : 0
                let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
                let line = String(format: "\r%@ %@ %d/%d  %.1f/s  %@ left ", phase, bar, done, total, rate, Self.clock(left))
                writeStandardError(line + "\u{1B}[K")
                state.barVisible = true
            } else if elapsed - state.lastPlain >= state.plainInterval || done == total {
                state.lastPlain = elapsed
                writeStandardError(String(format: "%@: %d/%d (%.1f/s, %@ left)\n", phase, done, total, rate, Self.clock(left)))
            }
        }
    }

    public func finish(phase: String, done: Int, elapsed: Double) {
        state.withLockedValue { state in
            Self.clearBar(&state)
            let rate = elapsed > 0 ? Double(done) / elapsed : 0
            writeStandardError(String(format: "%@: %d done in %.2f s (%.1f/s)\n", phase, done, elapsed, rate))
        }
    }

    public func message(_ line: String) {
        state.withLockedValue { state in
            Self.clearBar(&state)
            writeStandardError(line + "\n")
        }
    }

    private static func clearBar(_ state: inout State) {
        if state.barVisible {
            writeStandardError("\r\u{1B}[K")
            state.barVisible = false
        }
    }

    /// `m:ss` or `h:mm:ss` for a number of seconds; `--:--` when unknown.
    package static func clock(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "--:--" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
