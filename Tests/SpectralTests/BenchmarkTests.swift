import Foundation
import Testing
import Spectral

/// Off by default (it takes seconds and only means something in release builds). Run with
/// `GENREKIT_BENCH=1 swift test -c release -Xswiftc -enable-testing --filter BenchmarkTests`.
@Suite struct BenchmarkTests {
    @Test(.enabled(if: ProcessInfo.processInfo.environment["GENREKIT_BENCH"] != nil))
    func logMelAgainstFFTWFloor() {
        let result = SpectralBenchmark.run()
        print(result)
    }
}
