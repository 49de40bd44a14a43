import Testing
import Dispatch
@testable import GenreCore

@Suite struct SplitMix64Tests {
    /// Known answers: the reference sequence of SplitMix64 seeded with 1234567 (Vigna's splitmix64.c).
    @Test func matchesTheReferenceSequence() {
        var g = SplitMix64(seed: 1_234_567)
        let expected: [UInt64] = [
            6_457_827_717_110_365_317, 3_203_168_211_198_807_973, 9_817_491_932_198_370_423,
            4_593_380_528_125_082_431, 16_408_922_859_458_223_821,
        ]
        for e in expected { #expect(g.next() == e) }
    }

    @Test func belowIsInRangeAndCoversIt() {
        var g = SplitMix64(seed: 7)
        var seen = Set<Int>()
        for _ in 0..<1000 {
            let v = g.below(10)
            #expect((0..<10).contains(v))
            seen.insert(v)
        }
        #expect(seen.count == 10)
    }

    @Test func shuffleIsAPermutationFixedByTheSeed() {
        var a = Array(0..<50), b = Array(0..<50)
        var g1 = SplitMix64(seed: 42), g2 = SplitMix64(seed: 42)
        g1.shuffle(&a)
        g2.shuffle(&b)
        #expect(a == b)
        #expect(a.sorted() == Array(0..<50))
        #expect(a != Array(0..<50))
    }

    @Test func unitDrawsAreInTheHalfOpenInterval() {
        var g = SplitMix64(seed: 3)
        for _ in 0..<1000 {
            let u = g.unit(), f = g.unitFloat()
            #expect(u >= 0 && u < 1)
            #expect(f >= 0 && f < 1)
        }
    }
}

@Suite struct LockedValueBoxTests {
    @Test func concurrentIncrementsAreAllCounted() {
        let box = LockedValueBox(0)
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0..<1000 { box.withLockedValue { $0 += 1 } }
        }
        #expect(box.value == 8000)
    }
}
