import ConfigurationDecoding
import Foundation
import GenreCore
import Shards
import Testing

@testable import Pipeline

/// `[split] method = "kfold"`: the assignment rule, the splits of each fold, duplicates, split lists as filters,
/// report.json and the configuration keys.
@Suite struct KFoldTests {
    /// Class sizes that do not divide by K, an empty class and a class smaller than K.
    static let labels: [Int] = {
        var labels: [Int] = []
        for (c, n) in [7, 10, 3, 12, 0, 1, 9].enumerated() { labels += Array(repeating: c, count: n) }
        // Interleave the classes so the order given is not sorted by class.
        var rng = SplitMix64(seed: 9)
        rng.shuffle(&labels)
        return labels
    }()

    @Test func eachClassIsSpreadOverTheFoldsWithinOne() {
        for folds in [3, 4, 5, 10] {
            let assigned = Splitter.kfold(labels: Self.labels, classCount: 7, folds: folds, seed: 1234)
            #expect(assigned.allSatisfy { (0..<folds).contains($0) })
            for c in 0..<7 {
                var perFold = [Int](repeating: 0, count: folds)
                for (i, label) in Self.labels.enumerated() where label == c { perFold[assigned[i]] += 1 }
                #expect(perFold.max()! - perFold.min()! <= 1, "class \(c), \(folds) folds: \(perFold)")
            }
            var sizes = [Int](repeating: 0, count: folds)
            for f in assigned { sizes[f] += 1 }
            #expect(sizes.max()! - sizes.min()! <= 1, "\(folds) folds: \(sizes)")
        }
    }

    /// The rule in the documentation: class c starts at (clips of the classes before it) mod K.
    @Test func eachClassStartsWhereThePreviousStopped() {
        let labels = [0, 0, 1, 1, 1, 2, 2]  // 2 + 3 + 2 clips, K = 3: class 1 starts at fold 2, class 2 at fold 2
        let assigned = Splitter.kfold(labels: labels, classCount: 3, folds: 3, seed: 5)
        #expect(Set(assigned[0..<2]) == [0, 1])
        #expect(Set(assigned[2..<5]) == [2, 0, 1])
        #expect(Set(assigned[5..<7]) == [2, 0])
    }

    @Test func everyClipIsTestedOnceAndValidIsTheNextFold() {
        let folds = 5
        let assigned = Splitter.kfold(labels: Self.labels, classCount: 7, folds: folds, seed: 77)
        var tested = [Int](repeating: 0, count: assigned.count)
        for k in 0..<folds {
            let splits = assigned.map { Splitter.split(ofFold: $0, testFold: k, folds: folds) }
            for (i, split) in splits.enumerated() {
                if split == .test { tested[i] += 1 }
                #expect((split == .test) == (assigned[i] == k))
                #expect((split == .valid) == (assigned[i] == (k + 1) % folds))
            }
            #expect(splits.contains(.train))
        }
        #expect(tested.allSatisfy { $0 == 1 })
    }

    @Test func assignmentIsDeterministicAndFollowsTheSeed() {
        let a = Splitter.kfold(labels: Self.labels, classCount: 7, folds: 5, seed: 42)
        let b = Splitter.kfold(labels: Self.labels, classCount: 7, folds: 5, seed: 42)
        let c = Splitter.kfold(labels: Self.labels, classCount: 7, folds: 5, seed: 43)
        #expect(a == b)
        #expect(a != c)
    }

    /// Three folds of a small corpus with two duplicates (one within a class, one across classes), through the whole
    /// preprocessing run: the same partition for every fold, each clip tested once, valid the next fold, no copy of
    /// a recording written, and the folds in report.json.
    @Test func foldsThroughThePipelineWithDuplicates() throws {
        let f = TemporaryFolder()
        let root = try makeCorpus(f, clipsPerGenre: 3, seconds: 1)
        try FileManager.default.copyItem(atPath: root + "/rock/rock.00000.au", toPath: root + "/rock/rock.copy.au")
        try FileManager.default.copyItem(atPath: root + "/blues/blues.00001.wav", toPath: root + "/jazz/jazz.copy.wav")
        var config = try smallConfiguration(seconds: 1, clipsPerShard: 8)
        config.split.method = .kfold
        config.split.folds = 3
        let cache = f.file("cache")

        var clipFolds: [String: Int]? = nil
        var testedIn: [String: [Int]] = [:]
        for k in 0..<3 {
            config.split.fold = k
            let out = f.file("fold-\(k)")
            let report = try Preprocessor(
                configuration: config, options: .init(corpus: root, output: out, jobs: 2, cache: cache)).run()
            #expect(Set(report.duplicates.map(\.path)) == ["rock/rock.copy.au", "jazz/jazz.copy.wav"])
            let kfold = try #require(report.kfold)
            #expect(kfold.folds == 3 && kfold.fold == k)
            #expect(kfold.clipFolds.count == 30 && kfold.clipsPerFold == [10, 10, 10])
            #expect(kfold.clipFolds["rock/rock.copy.au"] == nil && kfold.clipFolds["jazz/jazz.copy.wav"] == nil)
            if let clipFolds { #expect(kfold.clipFolds == clipFolds) } else { clipFolds = kfold.clipFolds }

            let contents = try ShardContents(directory: out)
            #expect(contents.rows.count == 30)
            #expect(!contents.rows.contains { $0.path.contains("copy") })
            for row in contents.rows {
                let fold = kfold.clipFolds[row.path]!
                let expected = fold == k ? "test" : (fold == (k + 1) % 3 ? "valid" : "train")
                #expect(row.split == expected, "\(row.path) in fold \(fold)")
                if row.split == "test" { testedIn[row.path, default: []].append(k) }
            }
            // Each of the ten classes has its three clips in three different folds.
            for genre in contents.classes {
                #expect(Set(kfold.clipFolds.filter { $0.key.hasPrefix(genre + "/") }.values) == [0, 1, 2])
            }
            // The fold is in the shard parameters, so a model is not evaluated on another fold's shards by mistake.
            let reader = try ShardReader(path: try ShardDirectory.list(out)["test"]!.first!)
            #expect(reader.metadata.parameters["split_fold"] == .int(k))
            let json = try String(contentsOfFile: out + "/report.json", encoding: .utf8)
            #expect(json.contains("\"clip_folds\""))
        }
        #expect(testedIn.count == 30 && testedIn.values.allSatisfy { $0.count == 1 })
    }

    /// With kfold, split lists only choose the clips: which list names a clip does not matter.
    @Test func splitListsFilterTheClips() throws {
        let f = TemporaryFolder()
        let root = try makeCorpus(f, clipsPerGenre: 3, seconds: 1)
        f.write("lists/some.txt", text: "blues/blues.00000.au\nblues/blues.00001.au\n# a comment\nrock/rock.00002.wav\n")
        f.write("lists/more.txt", text: "jazz/jazz.00000.wav\nmetal/metal.00001.au\nnot/there.au\n")
        let toml = """
            [audio]
            clip_seconds = 1.0
            [split]
            method = "kfold"
            folds = 3
            fold = 2
            train = 0.9
            test_list = "lists/some.txt"
            valid_list = "lists/more.txt"
            """
        f.write("pipeline.toml", text: toml)
        let config = try PipelineConfiguration.load(path: f.file("pipeline.toml"))
        let report = try Preprocessor(configuration: config, options: .init(corpus: root, output: f.file("out"), jobs: 2)).run()
        let kfold = try #require(report.kfold)
        let listed = ["blues/blues.00000", "blues/blues.00001", "rock/rock.00002", "jazz/jazz.00000", "metal/metal.00001"]
        #expect(Set(kfold.clipFolds.keys.map(Splitter.matchKey)) == Set(listed))
        #expect(report.counts.unassigned == 25 && report.counts.written == 5)
        #expect(report.splitListUnmatched["valid"] == ["not/there.au"])
        #expect(kfold.clipsPerFold.reduce(0, +) == 5)
    }

    @Test(arguments: [
        ("[split]\nmethod = \"kfold\"\nfolds = 2\n", "split.folds"),
        ("[split]\nmethod = \"kfold\"\nfolds = 5\nfold = 5\n", "split.fold"),
        ("[split]\nmethod = \"kfold\"\nfold = -1\n", "split.fold"),
        ("[split]\nmethod = \"kfold\"\nfolds = 3.5\n", "split.folds"),
        ("[split]\nmethod = \"kfolds\"\n", "split.method"),
        ("[split]\nmethod = \"kfold\"\nfold_count = 3\n", "split.fold_count"),
    ])
    func badKFoldKeysAreNamed(toml: String, key: String) {
        #expect {
            _ = try PipelineConfiguration.parse(toml: toml, file: "x.toml")
        } throws: { error in
            guard let e = error as? ConfigurationError else { return false }
            return e.key == key && e.description.hasPrefix("x.toml: key '\(key)'")
        }
    }

    @Test func keysHaveDefaultsAndTheFractionsAreIgnored() throws {
        let plain = try PipelineConfiguration.parse(toml: "[split]\nmethod = \"kfold\"\n")
        #expect(plain.split.folds == 5 && plain.split.fold == 0 && plain.split.seed == 1234)
        // Fractions that would be refused for method random are ignored for kfold.
        let fractions = try PipelineConfiguration.parse(toml: "[split]\nmethod = \"kfold\"\ntrain = 0.9\nfolds = 4\nfold = 3\n")
        #expect(fractions.split.folds == 4 && fractions.split.fold == 3)
        #expect(try PipelineConfiguration.fromJSON(fractions.jsonText()) == fractions)
        #expect(fractions.jsonText().contains("\"folds\" : 4"))
        // The stored JSON of the other methods does not change.
        let random = try PipelineConfiguration.parse(toml: "")
        #expect(!random.jsonText().contains("\"fold"))
        #expect(try PipelineConfiguration.fromJSON(random.jsonText()) == random)
    }
}
