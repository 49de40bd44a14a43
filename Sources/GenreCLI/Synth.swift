import ArgumentParser
import Foundation
import SyntheticCorpus

extension Genre {
    struct Synth: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the built-in synthetic GTZAN-style corpus (ten genre folders of .au and .wav clips).")

        @Argument(help: "Folder to write the corpus into (created).")
        var output: String

        @Option(help: "Clips per genre.")
        var clipsPerGenre: Int = 10

        @Option(help: "Length of each clip in seconds.")
        var seconds: Double = 30

        @Option(help: "Seed: the same seed writes the same corpus.")
        var seed: UInt64 = 0

        @Option(help: "File formats: mixed (.au 22050 Hz mono and .wav 44.1 kHz stereo), au22050, wav44100.")
        var formats: SyntheticCorpus.FormatMix = .mixed

        func validate() throws {
            guard clipsPerGenre > 0, seconds > 0 else {
                throw ValidationError("--clips-per-genre and --seconds must be positive")
            }
        }

        func run() throws {
            let options = SyntheticCorpus.Options(clipsPerGenre: clipsPerGenre, seconds: seconds, seed: seed, formats: formats)
            let start = Date()
            let written = try SyntheticCorpus.write(to: output, options: options)
            print(String(format: "wrote %d clips (%d genres x %d, %.0f s each) to %@ in %.1f s",
                         written.count, SyntheticCorpus.genres.count, clipsPerGenre, seconds, output,
                         Date().timeIntervalSince(start)))
        }
    }
}
