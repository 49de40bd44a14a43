import Foundation
import Testing
import SyntheticCorpus

@Suite struct RenderTests {
    static let options = SyntheticCorpus.Options(clipsPerGenre: 2, seconds: 1.5, seed: 42)
    /// One mono (.au) and one stereo (.wav) clip of every genre.
    static let plans = SyntheticCorpus.plan(options)

    @Test(arguments: plans)
    func clipHasTheRightLengthRangeAndLevel(_ plan: SyntheticCorpus.ClipPlan) {
        let samples = SyntheticCorpus.render(plan, options: Self.options)
        #expect(samples.count == Int((1.5 * Double(plan.sampleRate)).rounded()) * plan.channels)
        let peak = samples.reduce(Float(0)) { max($0, abs($1)) }
        #expect(samples.allSatisfy { $0.isFinite && $0 >= -1 && $0 <= 1 })
        // Peak normalised to somewhere in 0.5...0.9 (varies by clip), with real content, not a few spikes.
        #expect(peak >= 0.5 - 1e-4 && peak <= 0.9 + 1e-4, "\(plan.relativePath) peak \(peak)")
        #expect(rootMeanSquare(samples) > 0.02, "\(plan.relativePath) is nearly silent")
    }

    @Test func stereoChannelsDiffer() {
        let plan = Self.plans.first { $0.channels == 2 && $0.genre == 7 }!
        let samples = SyntheticCorpus.render(plan, options: Self.options)
        let left = stride(from: 0, to: samples.count, by: 2).map { samples[$0] }
        let right = stride(from: 1, to: samples.count, by: 2).map { samples[$0] }
        #expect(left != right)
        #expect(rootMeanSquare(left) > 0.02 && rootMeanSquare(right) > 0.02)
    }

    @Test func sameSeedGivesBitIdenticalClips() {
        for plan in [Self.plans[0], Self.plans[13]] {
            let first = SyntheticCorpus.render(plan, options: Self.options)
            let second = SyntheticCorpus.render(plan, options: Self.options)
            #expect(first == second)
        }
    }

    @Test func clipsDependOnSeedGenreAndIndex() {
        let plan = Self.plans[2]  // classical 0
        let base = SyntheticCorpus.render(plan, options: Self.options)
        var reseeded = Self.options
        reseeded.seed = 43
        #expect(SyntheticCorpus.render(plan, options: reseeded) != base)
        let nextIndex = SyntheticCorpus.plan(SyntheticCorpus.Options(clipsPerGenre: 3)).first { $0.genre == 1 && $0.index == 2 }!
        #expect(SyntheticCorpus.render(nextIndex, options: Self.options) != base)
    }

    @Test func renderingIsIndependentOfOrderAndThreads() async {
        let chosen = Array(Self.plans.prefix(6))
        let sequential = chosen.map { SyntheticCorpus.render($0, options: Self.options) }
        let reversed = chosen.reversed().map { SyntheticCorpus.render($0, options: Self.options) }.reversed()
        #expect(Array(reversed) == sequential)
        let concurrent = await withTaskGroup(of: (Int, [Float]).self) { group in
            for (position, plan) in chosen.enumerated() {
                group.addTask { (position, SyntheticCorpus.render(plan, options: Self.options)) }
            }
            var results = [[Float]](repeating: [], count: chosen.count)
            for await (position, samples) in group { results[position] = samples }
            return results
        }
        #expect(concurrent == sequential)
    }

    @Test(arguments: [0.001, 0.02, 0.3])
    func veryShortClipsRenderEveryGenre(seconds: Double) {
        let options = SyntheticCorpus.Options(clipsPerGenre: 2, seconds: seconds, seed: 9)
        for plan in SyntheticCorpus.plan(options) {
            let samples = SyntheticCorpus.render(plan, options: options)
            #expect(samples.count == Int((seconds * Double(plan.sampleRate)).rounded()) * plan.channels)
            #expect(samples.allSatisfy { $0.isFinite && abs($0) <= 0.9 + 1e-4 })
        }
    }

    @Test func zeroSecondsGivesAnEmptyClip() {
        #expect(SyntheticCorpus.render(Self.plans[1], options: SyntheticCorpus.Options(seconds: 0)).isEmpty)
    }
}
