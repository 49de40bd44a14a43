import ArgumentParser
import Foundation
import Training

extension Genre {
    struct Predict: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Predict the genre of audio files with a checkpoint (features made exactly as in training).",
            discussion: "A file that cannot be read gets one error line; the others are still predicted. "
                + "Exits 0 when every file was predicted, 2 when some were not, 1 when none was.")

        @Option(help: "Checkpoint (best.h5 of a run).")
        var checkpoint: String

        @Flag(help: "Print JSON with per-window probabilities over time.")
        var json = false

        @Option(help: "Frames between window starts, 1...window length (default: the checkpoint's [evaluate] window_hop).")
        var windowHop: Int?

        @Argument(help: "Audio files.")
        var audio: [String]

        func validate() throws {
            if let windowHop, windowHop < 1 { throw ValidationError("--window-hop must be at least 1") }
        }

        func run() throws {
            let predictor = try Predictor(checkpointPath: checkpoint)
            let classes = predictor.checkpoint.classes
            var failures = 0
            var predictions: [Predictor.Prediction] = []
            for path in audio {
                do {
                    let prediction = try predictor.predict(path: path, windowHop: windowHop)
                    predictions.append(prediction)
                    if !json { print(PredictionReport.line(for: prediction, classes: classes)) }
                } catch {
                    failures += 1
                    _ = CommandFailure(error).report()
                }
            }
            if json { print(try PredictionReport(classes: classes, predictions: predictions).jsonText()) }
            if failures > 0 { throw ExitCode(failures == audio.count ? 1 : 2) }
        }
    }
}
