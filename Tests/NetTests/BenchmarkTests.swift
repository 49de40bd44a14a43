import Foundation
import Testing
import Net

/// The throughput benchmark: a quick smoke run always (2 steps, batch 4: it must run and report positive
/// rates), and the full measurement only on request (meaningful in release builds):
/// `GENREKIT_BENCH=1 swift test -c release -Xswiftc -enable-testing --filter NetTests.BenchmarkTests`.
@Suite struct BenchmarkTests {
    @Test func quickThroughputSmokeRun() {
        let result = NetBenchmark.trainingThroughput(batch: 4, steps: 1, parallelism: .batch(threads: 2), warmUpSteps: 1)
        #expect(result.trainSamplesPerSecond > 0)
        #expect(result.evalSamplesPerSecond > 0)
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["GENREKIT_BENCH"] != nil))
    func genreCNNThroughput() {
        let steps = Int(ProcessInfo.processInfo.environment["GENREKIT_BENCH_STEPS"] ?? "") ?? 20
        for parallelism in [Parallelism.batch(threads: 2), .blas(threads: 2)] {
            let result = NetBenchmark.trainingThroughput(batch: 32, steps: steps, parallelism: parallelism)
            print("Net genreCNN batch 32, \(parallelism), OpenBLAS \(BLAS.coreName): train \(String(format: "%.1f", result.trainSamplesPerSecond)) samples/s, eval \(String(format: "%.1f", result.evalSamplesPerSecond)) samples/s")
            #expect(result.trainSamplesPerSecond > 0)
        }
    }
}
