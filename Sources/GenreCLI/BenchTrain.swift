import ArgumentParser
import Foundation
import Net
import Training

extension Genre {
    struct BenchTrain: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "bench-train",
            abstract: "Training and evaluation throughput of a CNN on random input (samples/s): the reference CNN, or the "
                + "model a training configuration names.")

        @Option(help: "Batch size.")
        var batch: Int = 32

        @Option(help: "Timed steps (after 3 warm-up steps).")
        var steps: Int = 20

        @Option(help: "Training configuration whose [model] to time (default: the reference CNN, 1x128x128).")
        var config: String?

        @Option(help: ArgumentHelp("Pre-trained checkpoint (e.g. models/musicnn-msd-vgg.h5): time its embedding, "
                                   + "fine-tuning and head-only training instead."))
        var pretrained: String?

        @Option(help: "Threads.")
        var threads: Int = ProcessInfo.processInfo.activeProcessorCount

        func validate() throws {
            guard batch >= 2, steps >= 1, threads >= 1 else {
                throw ValidationError("--batch must be >= 2, --steps and --threads >= 1")
            }
        }

        func run() throws {
            if let pretrained {
                let start = try PretrainedStart(path: pretrained)
                let r = try TransferBenchmark.run(pretrained: start, batch: batch, steps: steps, threads: threads)
                print(String(format: "genrekit: embed %.1f windows/s, fine-tune %.1f samples/s, head only %.1f samples/s "
                             + "(input %@, batch %d, %d threads, %d steps)", r.embeddingWindowsPerSecond,
                             r.finetuneSamplesPerSecond, r.headOnlySamplesPerSecond,
                             start.inputShape.map(String.init).joined(separator: "x"), batch, threads, steps))
                return
            }
            var spec = ModelSpec.genreCNN(classes: 10)
            if let config {
                spec = try TrainingConfiguration.load(path: config).modelSpec(classes: 10, nMels: 128)
            }
            let r = try NetBenchmark.trainingThroughput(
                spec: spec, batch: batch, steps: steps, parallelism: .batch(threads: threads))
            print(String(format: "genrekit: train %.1f samples/s, eval %.1f windows/s (batch %d, %d threads, %d steps)",
                         r.trainSamplesPerSecond, r.evalSamplesPerSecond, batch, threads, steps))
        }
    }
}
