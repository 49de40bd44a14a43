import Dispatch
import Foundation
import Pipeline

/// SIGINT and SIGTERM ask a long command to stop at its next safe point (the library checks the flag); a second
/// signal stops the process at once. SIGXFSZ (a file-size limit reached) is ignored so that the write fails with an
/// error the command reports, instead of killing the process.
enum Signals {
    /// Keeps the dispatch sources alive for the life of the process.
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []

    static func trap(_ flag: CancellationFlag) {
        signal(SIGXFSZ, SIG_IGN)
        for (number, name) in [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                if flag.cancelled != nil {
                    FileHandle.standardError.write(Data("\n\(name) again: stopping at once\n".utf8))
                    signal(number, SIG_DFL)
                    kill(getpid(), number)
                }
                flag.cancel(name)
            }
            source.resume()
            sources.append(source)
        }
    }

    /// The conventional exit status of a process stopped by `name` (128 + signal number).
    static func exitCode(_ name: String) -> Int32 { name == "SIGTERM" ? 128 + SIGTERM : 128 + SIGINT }
}
