import AudioIO
import Foundation
import Shards
import SyntheticCorpus
import Testing

@testable import Pipeline

/// A small synthetic corpus (10 genres x 3 clips of 2 s, .au 22050 mono and .wav 44100 stereo) plus bad input.
func makeCorpus(_ folder: borrowing TemporaryFolder, clipsPerGenre: Int = 3, seconds: Double = 2) throws -> String {
    let root = folder.file("corpus")
    try SyntheticCorpus.write(to: root, options: .init(clipsPerGenre: clipsPerGenre, seconds: seconds, seed: 3))
    return root
}

func smallConfiguration(seconds: Double = 2, clipsPerShard: Int = 4) throws -> PipelineConfiguration {
    var c = try PipelineConfiguration.parse(toml: "")
    c.audio.clipSeconds = seconds
    c.shards.clipsPerShard = clipsPerShard
    return c
}

/// Every clip of a shard folder: split, path, label, normalised mel, and the stored statistics.
struct ShardContents: Equatable {
    var rows: [(split: String, path: String, label: Int32, padded: Bool, mel: [Float])] = []
    var mean: [Float] = []
    var std: [Float] = []
    var classes: [String] = []

    static func == (a: ShardContents, b: ShardContents) -> Bool {
        a.mean == b.mean && a.std == b.std && a.classes == b.classes && a.rows.count == b.rows.count
            && zip(a.rows, b.rows).allSatisfy { $0.split == $1.split && $0.path == $1.path && $0.label == $1.label && $0.mel == $1.mel }
    }

    init() {}

    init(directory: String) throws {
        let listing = try ShardDirectory.list(directory)
        for split in ["train", "valid", "test"] {
            for path in listing[split] ?? [] {
                let r = try ShardReader(path: path)
                mean = r.metadata.normMean
                std = r.metadata.normStd
                classes = r.metadata.classes
                #expect(r.metadata.split == split)
                for i in 0..<r.count {
                    rows.append((split, r.paths[i], r.labels[i], r.padded[i], try r.mel(at: i)))
                }
            }
        }
    }
}

@Suite struct PreprocessorTests {
    @Test func endToEndWithBadInputDuplicatesAndShards() throws {
        let f = TemporaryFolder()
        let root = try makeCorpus(f)
        // Bad and unusual input beside the good clips.
        f.write("corpus/blues/not-audio.wav", text: "plain text with an audio extension")
        f.write("corpus/jazz/empty.au", text: "")
        f.write("corpus/README.wav", text: "at the root")
        try FileManager.default.copyItem(atPath: root + "/rock/rock.00000.au", toPath: root + "/rock/rock.copy.au")
        f.writeTone("corpus/pop/short.wav", frequency: 1000, seconds: 0.03)  // shorter than one STFT frame
        // Unusual but valid: 8 and 96 kHz, 24-bit, float, 6 channels, silence, a space and Unicode in the name.
        f.writeTone("corpus/jazz/eight kHz.wav", frequency: 440, seconds: 2, rate: 8000)
        f.writeTone("corpus/jazz/ninety-six.wav", frequency: 440, seconds: 2, rate: 96000, format: .wavPCM24)
        f.writeTone("corpus/metal/float six-channel.wav", frequency: 700, seconds: 2, rate: 44100, channels: 6,
                    format: .wavFloat)
        f.writeTone("corpus/classical/silence ♩.wav", frequency: 0, seconds: 2, amplitude: 0)
        let out = f.file("shards")
        let config = try smallConfiguration()
        let report = try Preprocessor(configuration: config, options: .init(corpus: root, output: out, jobs: 2)).run()

        #expect(report.classes == SyntheticCorpus.genres)
        let skipped = Dictionary(report.skipped.map { ($0.path, $0.stage) }, uniquingKeysWith: { a, _ in a })
        #expect(skipped["blues/not-audio.wav"] != nil)
        #expect(skipped["jazz/empty.au"] != nil)
        #expect(skipped["README.wav"] != nil)
        #expect(report.duplicates == [.init(path: "rock/rock.copy.au", duplicateOf: "rock/rock.00000.au")])
        #expect(report.shorterThanFrame == ["pop/short.wav"])
        #expect(report.padded.contains("pop/short.wav"))
        #expect(report.counts.written == 35)  // 30 synthetic clips + 5 unusual ones; the copy is dropped
        #expect(report.padded.count == 1)

        let contents = try ShardContents(directory: out)
        #expect(contents.rows.count == 35)
        #expect(Set(contents.rows.map(\.path)).count == 35)
        for name in ["jazz/eight kHz.wav", "jazz/ninety-six.wav", "metal/float six-channel.wav", "classical/silence ♩.wav"] {
            #expect(contents.rows.contains { $0.path == name }, "\(name) is missing")
        }
        #expect(!contents.rows.contains { $0.path == "rock/rock.copy.au" })
        for row in contents.rows {
            #expect(contents.classes[Int(row.label)] == String(row.path.split(separator: "/")[0]))
            #expect(row.mel.count == 128 * config.framesPerClip)
            #expect(row.mel.allSatisfy { $0.isFinite })
        }
        #expect(contents.rows.first { $0.path == "pop/short.wav" }!.padded)
        // Every class has a clip in each split (3 to 5 per class), and shards hold at most 4 clips.
        for split in ["train", "valid", "test"] {
            #expect(Set(contents.rows.filter { $0.split == split }.map(\.label)).count == 10)
        }
        #expect(report.shards.allSatisfy { $0.clips <= 4 })
        #expect(FileManager.default.fileExists(atPath: out + "/report.json"))
        let table = try String(contentsOfFile: out + "/split.tsv", encoding: .utf8)
        #expect(table.split(separator: "\n").count == 36)  // header + 35 clips
        // Nothing temporary is left behind (the feature cache and the lock file stay, by design).
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: out)
            .filter { $0.hasPrefix(".") && $0 != ".cache" && $0 != ".genrekit.lock" }
        #expect(leftovers.isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: out + "/.cache").allSatisfy { $0.hasSuffix(".clip") })
    }

    /// The statistics are fitted on the train split only and stored in every shard.
    @Test func normalisationIsFittedOnTrainOnly() throws {
        let f = TemporaryFolder()
        let root = try makeCorpus(f)
        let out = f.file("shards")
        _ = try Preprocessor(configuration: try smallConfiguration(), options: .init(corpus: root, output: out)).run()
        let contents = try ShardContents(directory: out)
        let bands = 128
        var train = BandStatistics(bands: bands), all = BandStatistics(bands: bands)
        for row in contents.rows {
            // Undo the normalisation to get dB back, then measure.
            let frames = row.mel.count / bands
            var db = row.mel
            for b in 0..<bands { for t in 0..<frames { db[b * frames + t] = row.mel[b * frames + t] * contents.std[b] + contents.mean[b] } }
            let s = db.withUnsafeBufferPointer { BandStatistics(spectrogram: $0, bands: bands, frames: frames) }
            all.merge(s)
            if row.split == "train" { train.merge(s) }
        }
        var maxDiff = 0.0, maxDiffAll = 0.0
        for b in 0..<bands {
            maxDiff = max(maxDiff, abs(train.mean[b] - Double(contents.mean[b])))
            maxDiffAll = max(maxDiffAll, abs(all.mean[b] - Double(contents.mean[b])))
            #expect(abs(train.standardDeviation[b] - Double(contents.std[b])) < 1e-3 * Double(contents.std[b]) + 1e-3)
        }
        #expect(maxDiff < 1e-3)
        #expect(maxDiffAll > 0.01)  // the stored statistics are not those of all splits
    }

    /// Same corpus, configuration and seed: identical shards whatever the number of workers.
    @Test func deterministicAcrossWorkerCounts() throws {
        let f = TemporaryFolder()
        let root = try makeCorpus(f, clipsPerGenre: 2, seconds: 1.5)
        let config = try smallConfiguration(seconds: 1.5, clipsPerShard: 3)
        _ = try Preprocessor(configuration: config, options: .init(corpus: root, output: f.file("one"), jobs: 1)).run()
        _ = try Preprocessor(configuration: config, options: .init(corpus: root, output: f.file("two"), jobs: 2)).run()
        let one = try ShardContents(directory: f.file("one")), two = try ShardContents(directory: f.file("two"))
        #expect(one.rows.count == 20)
        #expect(one == two)
    }

    /// A stored spectrogram, un-normalised, equals the extractor's dB output for that file.
    @Test func storedTensorsUnNormaliseToTheExtractorsDecibels() throws {
        let f = TemporaryFolder()
        let root = try makeCorpus(f, clipsPerGenre: 3, seconds: 1)
        let config = try smallConfiguration(seconds: 1)
        _ = try Preprocessor(configuration: config, options: .init(corpus: root, output: f.file("s"))).run()
        let contents = try ShardContents(directory: f.file("s"))
        var extractor = ClipFeatureExtractor(configuration: config)
        for row in contents.rows.prefix(6) {
            var db = [Float](repeating: 0, count: extractor.outputCount)
            _ = try db.withUnsafeMutableBufferPointer { try extractor.extract(path: root + "/" + row.path, header: nil, into: $0) }
            let frames = db.count / 128
            var worst: Float = 0
            for b in 0..<128 { for t in 0..<frames {
                worst = max(worst, abs(row.mel[b * frames + t] * contents.std[b] + contents.mean[b] - db[b * frames + t]))
            } }
            #expect(worst < 1e-3)
        }
    }

    @Test func splitListsDecideAndUnlistedClipsAreReported() throws {
        let f = TemporaryFolder()
        let root = try makeCorpus(f, clipsPerGenre: 2, seconds: 1)
        // Lists name .wav copies of .au files (and the reverse): matching ignores the extension.
        let all = try CorpusScanner(root: root, extensions: ["au", "wav"]).scan().entries.map(\.path)
        let swapped = all.map { $0.hasSuffix(".au") ? $0.replacingOccurrences(of: ".au", with: ".wav") : $0.replacingOccurrences(of: ".wav", with: ".au") }
        f.write("lists/train.txt", text: swapped.enumerated().filter { $0.offset % 2 == 0 }.map(\.element).joined(separator: "\n"))
        f.write("lists/test.txt", text: swapped[1] + "\nnonexistent/clip.wav\n")
        var config = try smallConfiguration(seconds: 1)
        config.split.method = .lists
        config.split.trainList = f.file("lists/train.txt")
        config.split.testList = f.file("lists/test.txt")
        let report = try Preprocessor(configuration: config, options: .init(corpus: root, output: f.file("s"))).run()
        #expect(report.perSplit["train"]!.values.reduce(0, +) == 10)
        #expect(report.perSplit["test"]!.values.reduce(0, +) == 1)
        #expect(report.counts.unassigned == 9)
        #expect(report.splitListUnmatched["test"] == ["nonexistent/clip.wav"])
        let contents = try ShardContents(directory: f.file("s"))
        #expect(contents.rows.filter { $0.split == "test" }.map(\.path) == [all[1]])
    }

    @Test func rerunReplacesStaleShards() throws {
        let f = TemporaryFolder()
        let root = try makeCorpus(f, clipsPerGenre: 2, seconds: 1)
        let out = f.file("s")
        _ = try Preprocessor(configuration: try smallConfiguration(seconds: 1, clipsPerShard: 1), options: .init(corpus: root, output: out)).run()
        let many = try ShardDirectory.list(out).values.flatMap { $0 }.count
        _ = try Preprocessor(configuration: try smallConfiguration(seconds: 1, clipsPerShard: 100), options: .init(corpus: root, output: out)).run()
        let few = try ShardDirectory.list(out).values.flatMap { $0 }.count
        #expect(many == 20)
        #expect(few <= 3)
    }

    @Test func nothingUsableIsAnError() throws {
        let f = TemporaryFolder()
        f.write("corpus/blues/a.wav", text: "not audio")
        #expect(throws: PipelineError.self) {
            _ = try Preprocessor(configuration: try smallConfiguration(), options: .init(corpus: f.file("corpus"), output: f.file("s"))).run()
        }
    }
}

@Suite struct FixedLengthTests {
    /// Longer clips are cropped from the start or the centre; shorter ones are zero-padded and flagged.
    @Test func cropPositionsAndPadding() throws {
        var config = try PipelineConfiguration.parse(toml: "[audio]\nclip_seconds = 1.0\n")
        let keep = config.audio.clipSamples
        // A signal whose three thirds differ: a 300 Hz, a 3 kHz and a 6 kHz tone, each `keep` samples long.
        let signal: [Float] = [300.0, 3000.0, 6000.0].flatMap { f in
            (0..<keep).map { Float(0.5 * sin(2 * Double.pi * f * Double($0) / 22050)) }
        }
        func spectrogram(_ s: [Float], _ c: PipelineConfiguration) -> ([Float], ClipOutcome) {
            var e = ClipFeatureExtractor(configuration: c)
            var out = [Float](repeating: 0, count: e.outputCount)
            let outcome = out.withUnsafeMutableBufferPointer { e.compute(signal: s, into: $0) }
            return (out, outcome)
        }
        let (start, startOutcome) = spectrogram(signal, config)
        #expect(start == spectrogram(Array(signal[0..<keep]), config).0)
        #expect(!startOutcome.padded)
        config.audio.crop = .centre
        let (centre, _) = spectrogram(signal, config)
        #expect(centre == spectrogram(Array(signal[keep..<(2 * keep)]), config).0)
        #expect(centre != start)
        let (padded, paddedOutcome) = spectrogram(Array(signal[0..<(keep / 2)]), config)
        var zeroPadded = Array(signal[0..<(keep / 2)])
        zeroPadded += [Float](repeating: 0, count: keep - keep / 2)
        #expect(padded == spectrogram(zeroPadded, config).0)
        #expect(paddedOutcome.padded && !paddedOutcome.shorterThanFrame)
    }
}
