import ArgumentParser
import Foundation
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

        @OptionGroup var arguments: PredictionArguments

        func validate() throws {
            if top < 1 { throw ValidationError("--top must be at least 1") }
        }

        func run() throws {
            try arguments.run(checkpoint: checkpoint, network: .tagger, top: top)
        }
    }
}
