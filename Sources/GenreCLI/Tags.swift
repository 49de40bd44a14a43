import ArgumentParser
import Foundation
import Training

extension Genre {
    struct Tags: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Tag audio files with a tagging network: by default musicnn's MSD-VGG (50 Million Song Dataset tags) "
                + "as `make pretrained` imports it.",
            discussion: "Each tag's probability is the mean over the file's 3 s windows; --json prints the taggram (every "
                + "window's tag probabilities over time). A file that cannot be read gets one error line; the others "
                + "are still tagged. Exits 0 when every file was tagged, 2 when some were not, 1 when none was.")

        @Option(help: "Tagging checkpoint (sigmoid outputs), e.g. written by `genre pretrained import`.")
        var checkpoint = "models/musicnn-msd-vgg.h5"

        @Option(help: "Tags shown per file.")
        var top = 5

        @Flag(help: "Print JSON: every tag's probability for the file and per window (the taggram).")
        var json = false

        @Argument(help: "Audio files.")
        var audio: [String]

        func validate() throws {
            if top < 1 { throw ValidationError("--top must be at least 1") }
            if audio.isEmpty { throw ValidationError("give one or more audio files") }
        }

        func run() throws {
            let tagger = try Predictor(tagger: checkpoint)
            let tags = tagger.checkpoint.classes
            var failures = 0
            var predictions: [Predictor.Prediction] = []
            for path in audio {
                do {
                    let prediction = try tagger.predict(path: path)
                    predictions.append(prediction)
                    if !json { print(PredictionReport.tagLine(for: prediction, tags: tags, count: top)) }
                } catch {
                    failures += 1
                    _ = CommandFailure(error).report()
                }
            }
            if json { print(try PredictionReport(classes: tags, predictions: predictions).jsonText()) }
            if failures > 0 { throw ExitCode(failures == audio.count ? 1 : 2) }
        }
    }
}
