import Foundation
import Shards
import Testing

@testable import Pipeline

@Suite struct PartitionTests {
    @Test func parsesKOfNAndRejectsNonsense() throws {
        let p = try Partition(parsing: "3/4")
        #expect(p.index == 3 && p.count == 4 && p.description == "3/4" && p.folderName == "part-3-of-4")
        for bad in ["0/4", "5/4", "4", "a/b", "1/0", "-1/2", "1/2/3", ""] {
            #expect(throws: PipelineError.self, "\(bad)") { try Partition(parsing: bad) }
        }
    }

    /// The assignment of a path to a part is a pure function of its bytes: pinned, so that a new version never
    /// moves files between the parts of a running job.
    @Test func assignmentIsStableAndBalanced() throws {
        let pinned = (0..<8).map { Partition.part(of: "rock/rock.0000\($0).au", count: 4) }
        // Literal values: a change to the hash or the modulo, which would move files between parts, fails here.
        #expect(pinned == [3, 3, 2, 3, 3, 1, 1, 4])  // xxh64(path) % 4 + 1 (scripts/make_checksum_vectors.py)
        var counts = [Int](repeating: 0, count: 4)
        for i in 0..<4000 { counts[Partition.part(of: "genre\(i % 10)/clip.\(i).wav", count: 4) - 1] += 1 }
        #expect(counts.allSatisfy { (900...1100).contains($0) }, "\(counts)")
        // Every path is in exactly one part.
        let parts = try (1...3).map { try Partition(index: $0, count: 3) }
        for i in 0..<300 { #expect(parts.filter { $0.contains("x/\(i).au") }.count == 1) }
    }

    @Test func environmentOfSlurmAndKubernetes() throws {
        #expect(try Partition.fromEnvironment([:]) == nil)
        let slurm = ["SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "1"]
        #expect(try Partition.resolve(option: nil, environment: slurm) == (try Partition(index: 2, count: 4)))
        #expect(try Partition.resolve(option: "none", environment: slurm) == nil)
        #expect(try Partition.resolve(option: "3/5", environment: slurm) == (try Partition(index: 3, count: 5)))
        let slurm0 = try Partition.fromEnvironment(
            ["SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "0"])
        #expect(slurm0 == (try Partition(index: 1, count: 4)))
        let slurm1 = try Partition.fromEnvironment(
            ["SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_STEP": "1"])
        #expect(slurm1 == (try Partition(index: 4, count: 4)))
        let k8s = try Partition.fromEnvironment(["JOB_COMPLETION_INDEX": "2", "JOB_COMPLETIONS": "3"])
        #expect(k8s == (try Partition(index: 3, count: 3)))
        let bad: [[String: String]] = [
            ["SLURM_ARRAY_TASK_ID": "1"],
            ["SLURM_ARRAY_TASK_ID": "x", "SLURM_ARRAY_TASK_COUNT": "4"],
            ["SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "2", "SLURM_ARRAY_TASK_STEP": "2"],
            ["SLURM_ARRAY_TASK_ID": "7", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "1"],
            // A rerun of some tasks of the array (--array=3-4 or --array=17) must not become parts 1/2, 2/2 or 1/1.
            ["SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_COUNT": "2", "SLURM_ARRAY_TASK_MIN": "3"],
            ["SLURM_ARRAY_TASK_ID": "17", "SLURM_ARRAY_TASK_COUNT": "1", "SLURM_ARRAY_TASK_MIN": "17"],
            ["JOB_COMPLETION_INDEX": "0"],
            ["JOB_COMPLETION_INDEX": "3", "JOB_COMPLETIONS": "3"],
        ]
        for env in bad { #expect(throws: PipelineError.self, "\(env)") { try Partition.fromEnvironment(env) } }
    }

    /// The parts' scans are disjoint and assemble into the manifest of one scan of the whole corpus.
    @Test func partScansAssembleIntoTheWholeManifest() throws {
        let f = TemporaryFolder()
        let root = try makeCorpus(f, clipsPerGenre: 2, seconds: 0.5)
        f.write("corpus/rock/broken.wav", text: "not audio")
        f.write("corpus/stray.wav", text: "at the root")
        f.makeFolder("corpus/emptyclass")
        let scanner = CorpusScanner(root: root, extensions: ["au", "wav"], jobs: 2)
        let whole = try scanner.scan()
        let scans = try (1...4).map { try scanner.scan(part: Partition(index: $0, count: 4)) }
        let merged = try Manifest(assembling: scans)
        #expect(merged.classes == whole.classes)
        #expect(merged.entries == whole.entries)
        #expect(Set(merged.skipped.map(\.path)) == Set(whole.skipped.map(\.path)))
        #expect(merged.skipped.count == whole.skipped.count)
        #expect(scans.map(\.files.count).reduce(0, +) == whole.entries.count)
        #expect(Set(scans.map(\.listingDigest)).count == 1)
    }

    /// Four parts and a merge give the shards of one run, tensor for tensor, with duplicates, bad files and
    /// padded clips in the corpus; the merge can be run again.
    @Test func fourPartsAndAMergeEqualOneRun() throws {
        let f = TemporaryFolder()
        let root = try makeCorpus(f, clipsPerGenre: 3, seconds: 1.5)
        f.write("corpus/rock/broken.wav", text: "not audio")
        let jazz = try FileManager.default.contentsOfDirectory(atPath: "\(root)/jazz").sorted()[0]
        try FileManager.default.copyItem(atPath: "\(root)/jazz/\(jazz)", toPath: "\(root)/blues/copy-of-\(jazz)")
        let config = try smallConfiguration(seconds: 2, clipsPerShard: 4)
        let single = try Preprocessor(configuration: config, options: .init(corpus: root, output: f.file("single"), jobs: 2)).run()
        let out = f.file("parts")
        var clips = 0
        for k in 1...4 {
            let record = try Preprocessor(configuration: config, options: .init(corpus: root, output: out, jobs: 1))
                .runPart(Partition(index: k, count: 4))
            clips += record.clips.count
            #expect(FileManager.default.fileExists(atPath: "\(out)/parts/part-\(k)-of-4/part.json"))
        }
        #expect(clips == single.counts.decoded)
        #expect(try ShardDirectory.list(out).isEmpty, "parts write no shard")
        let merged = try Preprocessor.merge(output: out, jobs: 2)
        #expect(merged.counts.written == single.counts.written)
        #expect(merged.counts.duplicates == 1)
        #expect(merged.normalisation.mean == single.normalisation.mean)
        #expect(merged.normalisation.std == single.normalisation.std)
        #expect(merged.parts?.count == 4)
        let a = try ShardContents(directory: f.file("single")), b = try ShardContents(directory: out)
        #expect(a.rows.count == single.counts.written)
        #expect(a == b)
        #expect(try String(contentsOfFile: f.file("single/split.tsv"), encoding: .utf8)
            == String(contentsOfFile: "\(out)/split.tsv", encoding: .utf8))
        // Again: the same result.
        _ = try Preprocessor.merge(output: out)
        #expect(try ShardContents(directory: out) == a)
    }

    @Test func mergeRefusesMissingPartsOtherParametersAndMixedCounts() throws {
        let f = TemporaryFolder()
        let root = try makeCorpus(f, clipsPerGenre: 1, seconds: 0.5)
        let config = try smallConfiguration(seconds: 0.5)
        let out = f.file("out")
        func part(_ k: Int, _ n: Int, _ c: PipelineConfiguration) throws {
            _ = try Preprocessor(configuration: c, options: .init(corpus: root, output: out, jobs: 1)).runPart(Partition(index: k, count: n))
        }
        #expect { try Preprocessor.merge(output: out) } throws: { "\($0)".contains("no parts to merge") }
        try part(1, 3, config)
        try part(3, 3, config)
        #expect { try Preprocessor.merge(output: out) } throws: { "\($0)".contains("part 2/3 missing") }
        var other = config
        other.mel.nMels = 64
        try part(2, 3, other)
        #expect { try Preprocessor.merge(output: out) } throws: {
            "\($0)".contains("part-2-of-3/part.json") && "\($0)".contains("other parameters") && "\($0)".contains("mel.n_mels")
        }
        try part(2, 3, config)
        try part(1, 2, config)
        #expect { try Preprocessor.merge(output: out) } throws: { "\($0)".contains("--parts N") }
        let report = try Preprocessor.merge(output: out, count: 3)
        #expect(report.counts.written == 10)
        // A part whose rerun did not finish is incomplete, not silently the old one.
        try FileManager.default.removeItem(atPath: "\(out)/parts/part-3-of-3/part.json")
        #expect { try Preprocessor.merge(output: out, count: 3) } throws: { "\($0)".contains("part 3/3 missing or incomplete") }
    }
}
