import GenreCore
import AudioIO
import Foundation
import Shards
import SyntheticCorpus
import Testing

@testable import Pipeline

@Suite struct FeatureCacheTests {
    /// A rerun takes every clip from the cache and writes the same shards; changed, added and removed files are
    /// recomputed, dropped and pruned; the result equals a run without the cache.
    @Test func rerunsAndIncrementalChanges() throws {
        let f = TemporaryFolder()
        let root = try makeCorpus(f, clipsPerGenre: 2, seconds: 1)
        let config = try smallConfiguration(seconds: 1)
        let out = f.file("s")
        let first = try Preprocessor(configuration: config, options: .init(corpus: root, output: out)).run()
        #expect(first.counts.cached == 0)
        let firstShards = try ShardContents(directory: out)
        let second = try Preprocessor(configuration: config, options: .init(corpus: root, output: out)).run()
        #expect(second.counts.cached == 20)
        #expect(try ShardContents(directory: out) == firstShards)

        // Change one file, add one, remove one.
        f.writeTone("corpus/jazz/jazz.00000.au", frequency: 880, seconds: 1, format: .auPCM16)
        f.writeTone("corpus/rock/new.wav", frequency: 220, seconds: 1)
        try FileManager.default.removeItem(atPath: root + "/pop/pop.00001.wav")
        let third = try Preprocessor(configuration: config, options: .init(corpus: root, output: out)).run()
        #expect(third.counts.cached == 18)
        #expect(third.counts.cachePruned == 2)  // the old jazz.00000 and pop.00001 entries
        let fresh = f.file("fresh")
        let uncached = try Preprocessor(configuration: config, options: .init(corpus: root, output: fresh, useCache: false)).run()
        #expect(uncached.counts.cached == 0)
        #expect(try ShardContents(directory: out) == ShardContents(directory: fresh))
        // --no-cache leaves no cache or scratch folder behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: fresh).filter { $0.hasPrefix(".scratch") || $0 == ".cache" }.isEmpty)

        // Parameters that shape the features invalidate the cache; others (shard size) keep it.
        var other = config
        other.shards.clipsPerShard = 2
        #expect(try Preprocessor(configuration: other, options: .init(corpus: root, output: out)).run().counts.cached == 20)
        other.mel.nMels = 64
        #expect(try Preprocessor(configuration: other, options: .init(corpus: root, output: out)).run().counts.cached == 0)
    }

    /// Interrupted mid-extraction (cancelled from the clip-finished hook after exactly 5 of 20 clips, one worker):
    /// a clear error saying how far it got and how to continue, those 5 clips' features in the cache and nothing
    /// partial; no shard, no report. The rerun takes the 5 from the cache and equals an uninterrupted run.
    @Test func interruptedRunResumes() throws {
        let f = TemporaryFolder()
        let root = try makeCorpus(f, clipsPerGenre: 2, seconds: 1)
        let config = try smallConfiguration(seconds: 1)
        let out = f.file("s")
        let flag = CancellationFlag()
        let stopAfter = 5
        let options = PreprocessOptions(
            corpus: root, output: out, jobs: 1, cancellation: flag,
            clipFinished: { finished in if finished == stopAfter { flag.cancel("SIGINT") } })
        #expect {
            _ = try Preprocessor(configuration: config, options: options).run()
        } throws: { error in
            guard let e = error as? PipelineError else { return false }
            return e.interruption == "SIGINT" && e.reason.contains("after \(stopAfter) of 20 clips")
                && e.reason.contains("run the same command again")
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: out)
        #expect(!names.contains { $0.hasSuffix(".h5") || $0 == "report.json" || $0 == "split.tsv" })
        let cached = try FileManager.default.contentsOfDirectory(atPath: out + "/.cache")
        #expect(!cached.contains { $0.contains(".partial") })
        #expect(cached.count == stopAfter)

        let resumed = try Preprocessor(configuration: config, options: .init(corpus: root, output: out)).run()
        #expect(resumed.counts.cached == stopAfter)
        let reference = f.file("reference")
        _ = try Preprocessor(configuration: config, options: .init(corpus: root, output: reference, useCache: false)).run()
        #expect(try ShardContents(directory: out) == ShardContents(directory: reference))
        #expect(try String(contentsOfFile: out + "/split.tsv", encoding: .utf8)
                == String(contentsOfFile: reference + "/split.tsv", encoding: .utf8))
    }

    @Test func secondRunOnTheSameFolderIsRefused() throws {
        let f = TemporaryFolder()
        let lock = try OutputLock(directory: f.path)
        #expect(throws: PipelineError.self) { _ = try OutputLock(directory: f.path) }
        lock.release()
        _ = try OutputLock(directory: f.path)
    }

    @Test func damagedCacheEntriesCountAsMissing() throws {
        let f = TemporaryFolder()
        let cache = try FeatureCache(directory: f.file("c"), configuration: try smallConfiguration(), reuse: true)
        let outcome = ClipOutcome(
            contentHash: ContentHash(value: 7), sourceSeconds: 1, padded: false, shorterThanFrame: false,
            timings: StageTimings(), statistics: BandStatistics(bands: 2))
        let values: [Float] = [1, 2, 3, 4]
        try values.withUnsafeBufferPointer { try cache.store("k", outcome: outcome, values: $0) }
        var back = [Float](repeating: 0, count: 4)
        #expect(back.withUnsafeMutableBufferPointer { cache.load("k", into: $0) }?.contentHash == ContentHash(value: 7))
        #expect(back == values)
        let data = try Data(contentsOf: URL(fileURLWithPath: f.file("c/k.clip")))
        try data.prefix(data.count - 3).write(to: URL(fileURLWithPath: f.file("c/k.clip")))
        #expect(back.withUnsafeMutableBufferPointer { cache.load("k", into: $0) } == nil)
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: f.file("c/k.clip")))
        #expect(cache.load("k", into: nil) == nil)
    }

    /// Processes sharing a cache (cross-validation array tasks) keep each other's entries in progress: only a
    /// temporary entry whose writer is gone (a dead process of this host) is removed when a cache is opened.
    @Test func sharedCacheRemovesOnlyAbandonedTemporaryEntries() throws {
        let f = TemporaryFolder()
        let directory = f.file("cache")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let host = ProcessInfo.processInfo.hostName.replacingOccurrences(of: "-", with: "_")
        // A pid above Linux's pid_max (4194304) names a process that cannot exist.
        let dead = "a.clip.partial-\(host)-4194305"
        let live = "b.clip.partial-\(host)-\(getppid())"
        let otherHost = "c.clip.partial-elsewhere_node-1"
        for name in [dead, live, otherHost] {
            _ = FileManager.default.createFile(atPath: directory + "/" + name, contents: Data([1]))
        }
        _ = try FeatureCache(directory: directory, configuration: try smallConfiguration(seconds: 1), reuse: true)
        let left = Set(try FileManager.default.contentsOfDirectory(atPath: directory))
        #expect(!left.contains(dead))
        #expect(left.contains(live))
        #expect(left.contains(otherHost))
    }
}
