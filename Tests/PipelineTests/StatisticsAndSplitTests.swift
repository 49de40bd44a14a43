import GenreCore
import Foundation
import Testing

@testable import Pipeline

@Suite struct BandStatisticsTests {
    /// Statistics merged from parts in any grouping equal one pass over all frames.
    @Test func mergeEqualsOnePass() {
        var rng = SplitMix64(seed: 7)
        let bands = 4
        let clips: [[Float]] = (0..<9).map { k in
            let frames = 10 + k * 7
            return (0..<(bands * frames)).map { _ in Float(rng.unit() * 80 - 60 + Double(k)) }
        }
        func stats(_ c: [Float]) -> BandStatistics {
            c.withUnsafeBufferPointer { BandStatistics(spectrogram: $0, bands: bands, frames: c.count / bands) }
        }
        var sequential = BandStatistics(bands: bands)
        for c in clips { sequential.merge(stats(c)) }
        // Two partitions, merged afterwards (as two cluster nodes would).
        var a = BandStatistics(bands: bands), b = BandStatistics(bands: bands)
        for (i, c) in clips.enumerated() { if i % 2 == 0 { a.merge(stats(c)) } else { b.merge(stats(c)) } }
        a.merge(b)
        // Direct two-pass reference in Double.
        for band in 0..<bands {
            var values: [Double] = []
            for c in clips {
                let frames = c.count / bands
                values += c[(band * frames)..<((band + 1) * frames)].map(Double.init)
            }
            let mean = values.reduce(0, +) / Double(values.count)
            let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)
            #expect(abs(sequential.mean[band] - mean) < 1e-9)
            #expect(abs(a.mean[band] - mean) < 1e-9)
            #expect(abs(sequential.variance[band] - variance) < 1e-7 * variance)
            #expect(abs(a.variance[band] - variance) < 1e-7 * variance)
            #expect(sequential.count == values.count)
        }
    }

    @Test func constantBandGetsUnitDeviation() {
        let c = [Float](repeating: -100, count: 20)
        let s = c.withUnsafeBufferPointer { BandStatistics(spectrogram: $0, bands: 2, frames: 10) }
        #expect(s.standardDeviation == [1, 1])
        #expect(s.mean == [-100, -100])
    }
}

@Suite struct SplitterTests {
    @Test func stratifiedCountsPerClass() {
        let labels = (0..<3).flatMap { c in [Int](repeating: c, count: 100) }
        let splits = Splitter.stratified(labels: labels, classCount: 3, train: 0.7, valid: 0.15, test: 0.15, seed: 1)
        for c in 0..<3 {
            let mine = labels.indices.filter { labels[$0] == c }.map { splits[$0] }
            #expect(mine.filter { $0 == .train }.count == 70)
            #expect(mine.filter { $0 == .valid }.count == 15)
            #expect(mine.filter { $0 == .test }.count == 15)
        }
    }

    @Test func seedDecidesTheSplit() {
        let labels = (0..<50).map { $0 % 5 }
        let a = Splitter.stratified(labels: labels, classCount: 5, train: 0.6, valid: 0.2, test: 0.2, seed: 42)
        let b = Splitter.stratified(labels: labels, classCount: 5, train: 0.6, valid: 0.2, test: 0.2, seed: 42)
        let c = Splitter.stratified(labels: labels, classCount: 5, train: 0.6, valid: 0.2, test: 0.2, seed: 43)
        #expect(a == b)
        #expect(a != c)
    }

    @Test func smallClassesKeepEverySplitNonEmpty() {
        let labels = [0, 0, 0, 1, 1, 1, 1]
        let s = Splitter.stratified(labels: labels, classCount: 2, train: 0.7, valid: 0.15, test: 0.15, seed: 0)
        for c in 0..<2 {
            let mine = labels.indices.filter { labels[$0] == c }.map { s[$0] }
            #expect(Set(mine) == [.train, .valid, .test])
        }
    }

    @Test func listsMatchWithoutExtension() {
        let paths = ["blues/blues.00000.au", "blues/blues.00001.au", "jazz/jazz.00000.wav", "jazz/extra.wav"]
        let lists: [DataSplit: [String]] = [
            .train: ["blues/blues.00000.wav", "jazz/jazz.00000.wav"],
            .test: ["blues/blues.00001.wav", "jazz/jazz.00000.au", "rock/rock.00009.wav"],
        ]
        let r = Splitter.fromLists(paths: paths, lists: lists)
        #expect(r.splits == [.train, .test, .train, nil])
        #expect(r.conflicts == ["jazz/jazz.00000.au"])
        #expect(r.unmatched[.test] == ["rock/rock.00009.wav"])
    }

    @Test func parseListSkipsCommentsAndTSVHeaders() {
        let text = "# comment\n\nblues/a.wav\nsplit\tlabel\tgenre\trelpath\ntrain\t0\tblues\tblues/b.wav\n"
        #expect(Splitter.parseList(text) == ["blues/a.wav", "blues/b.wav"])
    }

    @Test func shippedFaultFilteredListsHaveTheirPublishedSizes() throws {
        let base = pipelinesFolder + "/splits/gtzan-fault-filtered/"
        let sizes = try ["train", "valid", "test"].map {
            Splitter.parseList(try String(contentsOfFile: base + $0 + ".txt", encoding: .utf8)).count
        }
        #expect(sizes == [443, 197, 290])
    }

    @Test func generatorIsStable() {
        var g = SplitMix64(seed: 0)
        // SplitMix64's published first outputs for seed 0.
        #expect(g.next() == 0xE220_A839_7B1D_CDAF)
        #expect(g.next() == 0x6E78_9E6A_A1B9_65F4)
        var h = SplitMix64(seed: 5)
        for bound in [1, 2, 3, 10, 1000] { for _ in 0..<100 { #expect((0..<bound).contains(h.below(bound))) } }
    }
}
