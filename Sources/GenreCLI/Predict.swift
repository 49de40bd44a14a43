import ArgumentParser
import Foundation
import Training

extension Genre {
    struct Predict: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Predict the genre of audio files and folders with a checkpoint (features made exactly as in training).",
            discussion: """
                PATH is a file (read whatever its extension) or a folder, searched recursively for files with the \
                audio extensions of the checkpoint's pipeline ([audio] extensions: au, wav, aiff, aif, flac, ogg, \
                opus, mp3 by default); a folder's files are sorted, hidden files skipped, and a file reached twice \
                is predicted once. Results keep that order whatever finishes first.

                Output: one line per file on standard output (`path: genre p%, genre p%, genre p%`) as files \
                finish, unless --csv or --json is given. --csv OUT.csv writes the header \
                `path,top1,p1,top2,p2,top3,p3,seconds,error` and one row per input (probabilities with 6 decimals; \
                a file that cannot be predicted has empty genre cells and its reason in `error`), streamed in \
                input order into a temporary file renamed to OUT.csv at the end. --json prints one JSON document \
                at the end: `classes`, `predictions` (per file: probabilities, seconds, and every window's start \
                and probabilities) and `failures` (path and error).

                Files are predicted --jobs at a time (default: one per core), each network single-threaded; with \
                --jobs 1 one file at a time, its windows spread over the cores. The results are the same whatever \
                --jobs. On a terminal a progress bar (files done, files/s, failures) shows on standard error.

                A file that cannot be read (missing, not audio, truncated) gets one line `error: <path>: <reason>` \
                on standard error and the others are still predicted. Exits 0 when every file was predicted, 2 \
                when some were not, 1 when none was. SIGINT or SIGTERM stops the run after the files in progress: \
                the outputs then hold every input up to there (exit 130 or 143).
                """)

        @Option(help: "Checkpoint (best.h5 of a run).")
        var checkpoint: String

        @OptionGroup var arguments: PredictionArguments

        func run() throws {
            try arguments.run(checkpoint: checkpoint, network: .classifier, top: 3)
        }
    }
}
