import Foundation
import Testing
import SyntheticCorpus

#if !DEBUG
/// Rendering speed (meaningful in release builds only: `swift test -c release -Xswiftc -enable-testing`).
@Suite struct SpeedTests {
    /// CPU time of the calling thread in milliseconds (not disturbed by other tests running in parallel).
    static func threadMilliseconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Double(time.tv_sec) * 1_000 + Double(time.tv_nsec) / 1e6
    }

    @Test func thirtySecondStereoClipRendersWellUnderAHundredMilliseconds() {
        let options = SyntheticCorpus.Options(clipsPerGenre: 2, seconds: 30, seed: 0)
        let stereo = SyntheticCorpus.plan(options).filter { $0.channels == 2 }
        var worst = 0.0, total = 0.0
        for plan in stereo {
            var best = Double.infinity
            for _ in 0..<2 {
                let start = Self.threadMilliseconds()
                _ = SyntheticCorpus.render(plan, options: options)
                best = min(best, Self.threadMilliseconds() - start)
            }
            worst = max(worst, best)
            total += best
        }
        print("SyntheticCorpus speed: 30 s 44.1 kHz stereo clip: mean \(total / Double(stereo.count)) ms, slowest genre \(worst) ms")
        #expect(worst < 100)
    }
}
#endif
