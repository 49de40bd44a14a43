import ArgumentParser
import Foundation
import Net

extension Genre {
    struct BenchTrain: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "bench-train",
            abstract: "Training and evaluation throughput of the default CNN on random 1x128x128 input (samples/s).")

        @Option(help: "Batch size.")
        var batch: Int = 32

        @Option(help: "Timed steps (after 3 warm-up steps).")
        var steps: Int = 20

        @Option(help: "Threads.")
        var threads: Int = ProcessInfo.processInfo.activeProcessorCount

        func validate() throws {
            guard batch >= 2, steps >= 1, threads >= 1 else {
                throw ValidationError("--batch must be >= 2, --steps and --threads >= 1")
            }
        }

        func run() throws {
            let r = NetBenchmark.trainingThroughput(batch: batch, steps: steps, threads: threads)
            print(String(format: "genrekit: train %.1f samples/s, eval %.1f windows/s (batch %d, %d threads, %d steps)",
                         r.trainSamplesPerSecond, r.evalSamplesPerSecond, batch, threads, steps))
        }
    }
}
