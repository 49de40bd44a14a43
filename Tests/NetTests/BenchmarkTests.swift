import Foundation
import Testing
import Net

/// The throughput benchmark: a quick smoke run always (1 step, batch 4: the benchmark code must run; nothing about
/// time is asserted), and the full measurement, printed, only on request (meaningful in release builds):
/// `GENREKIT_BENCH=1 swift test -c release -Xswiftc -enable-testing --filter NetTests.BenchmarkTests` (serialized, so
/// that the measurements do not share the cores).
@Suite(.serialized) struct BenchmarkTests {
    @Test func quickThroughputSmokeRun() {
        let result = NetBenchmark.trainingThroughput(batch: 4, steps: 1, parallelism: .batch(threads: 2), warmUpSteps: 1)
        // Samples over elapsed time: NaN only if the benchmark counted no samples (0 / 0), whatever the clock says.
        #expect(!result.trainSamplesPerSecond.isNaN && !result.evalSamplesPerSecond.isNaN)
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["GENREKIT_BENCH"] != nil))
    func genreCNNThroughput() {
        let steps = Int(ProcessInfo.processInfo.environment["GENREKIT_BENCH_STEPS"] ?? "") ?? 20
        for parallelism in [Parallelism.batch(threads: 2), .blas(threads: 2)] {
            let result = NetBenchmark.trainingThroughput(batch: 32, steps: steps, parallelism: parallelism)
            print("Net genreCNN batch 32, \(parallelism), OpenBLAS \(BLAS.coreName): train \(String(format: "%.1f", result.trainSamplesPerSecond)) samples/s, eval \(String(format: "%.1f", result.evalSamplesPerSecond)) samples/s")
        }
    }

    /// The residual variant (`genreCNN(classes: 10, block: .residual, pool: .averageMax)`), on request as above.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["GENREKIT_BENCH"] != nil))
    func residualGenreCNNThroughput() throws {
        let steps = Int(ProcessInfo.processInfo.environment["GENREKIT_BENCH_STEPS"] ?? "") ?? 10
        let spec = ModelSpec.genreCNN(classes: 10, block: .residual, pool: .averageMax)
        let result = try NetBenchmark.trainingThroughput(spec: spec, batch: 32, steps: steps, parallelism: .batch(threads: 2))
        print("Net genreCNN residual average+max batch 32, batch(threads: 2), OpenBLAS \(BLAS.coreName): train \(String(format: "%.1f", result.trainSamplesPerSecond)) samples/s, eval \(String(format: "%.1f", result.evalSamplesPerSecond)) samples/s")
    }
}
