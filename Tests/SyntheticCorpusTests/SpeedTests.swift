import Foundation
import Testing
import SyntheticCorpus

#if !DEBUG
/// Rendering speed, printed, never asserted (a shared 2-core machine makes any time limit flaky). A benchmark:
/// `GENREKIT_BENCH=1 swift test -c release -Xswiftc -enable-testing --filter SpeedTests`.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["GENREKIT_BENCH"] != nil)) struct SpeedTests {
    /// CPU time of the calling thread in milliseconds (not disturbed by other tests running in parallel).
    static func threadMilliseconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Double(time.tv_sec) * 1_000 + Double(time.tv_nsec) / 1e6
    }

    @Test func thirtySecondStereoClipRenderTime() {
        let options = SyntheticCorpus.Options(clipsPerGenre: 2, seconds: 30, seed: 0)
        let stereo = SyntheticCorpus.plan(options).filter { $0.channels == 2 }
        var worst = 0.0, total = 0.0
        for plan in stereo {
            var best = Double.infinity
            for _ in 0..<2 {
                let start = Self.threadMilliseconds()
                let clip = SyntheticCorpus.render(plan, options: options)
                #expect(!clip.isEmpty)
                best = min(best, Self.threadMilliseconds() - start)
            }
            worst = max(worst, best)
            total += best
        }
        print("SyntheticCorpus speed: 30 s 44.1 kHz stereo clip: mean \(total / Double(stereo.count)) ms, slowest genre \(worst) ms")
    }
}
#endif
