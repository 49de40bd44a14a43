import Foundation
import Shards
import Spectral
import Testing

@testable import Pipeline

/// musicnn's front end through the pipeline: the whole per-clip chain against librosa + numpy, `[normalise] kind =
/// "none"` in the written shards, and shards of the two compressions refused side by side.
@Suite struct FrontEndPreprocessingTests {
    static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("SpectralTests/Golden").path

    static func floats(_ file: String) throws -> [Float] {
        let data = try Data(contentsOf: URL(fileURLWithPath: golden + "/" + file))
        return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    /// A 22050 Hz chirp (55 Hz -> 10 kHz, so the resampler's low-pass matters) through pipelines/musicnn.toml:
    /// soxr-hq to 16 kHz, then log10(1 + 10000 * mel power), against librosa.resample(res_type='soxr_hq') (what
    /// librosa.load(sr=16000) does after decoding) + melspectrogram + np.log10 (scripts/make_golden.py).
    @Test func musicnnFeaturesOfAResampledChirpMatchLibrosaWithin1e3() throws {
        let input = try Self.floats("chirp.in.f32"), reference = try Self.floats("chirp.musicnn16k.f32")
        var config = try PipelineConfiguration.load(path: pipelinesFolder + "/musicnn.toml")
        config.audio.clipSeconds = 1
        #expect(config.audio.clipSamples == 16000 && config.framesPerClip == 63)
        #expect(reference.count == 96 * 63)
        let signal = try config.audio.resampler.makeResampler().resample(input, from: 22050, to: 16000)
        #expect(signal.count == 16000)
        var extractor = ClipFeatureExtractor(configuration: config)
        var ours = [Float](repeating: 0, count: extractor.outputCount)
        let outcome = ours.withUnsafeMutableBufferPointer { extractor.compute(signal: signal, into: $0) }
        #expect(!outcome.padded)
        let worst = zip(ours, reference).map { abs($0 - $1) }.max()!
        #expect(worst <= 1e-3, "max |diff| \(worst)")
        print("musicnn front end, chirp 22050 -> 16000 Hz: max |diff| \(worst) (values up to \(reference.max()!))")
    }

    /// `none`: the shards hold the features exactly as the extractor computes them, with mean 0 and std 1 per band;
    /// the report and the shard parameters say so.
    @Test func normalisationNoneWritesTheFeaturesAsComputed() throws {
        let f = TemporaryFolder()
        let root = try makeCorpus(f, clipsPerGenre: 3, seconds: 1)
        var config = try PipelineConfiguration.load(path: pipelinesFolder + "/musicnn.toml")
        config.audio.clipSeconds = 1
        config.shards.clipsPerShard = 8
        let out = f.file("shards")
        let report = try Preprocessor(configuration: config, options: .init(corpus: root, output: out, jobs: 2)).run()
        #expect(report.normalisation.kind == .none)
        #expect(report.normalisation.mean == [Double](repeating: 0, count: 96))
        #expect(report.normalisation.std == [Double](repeating: 1, count: 96))
        #expect(report.normalisation.trainClips > 0)
        let stored = try String(contentsOfFile: out + "/report.json", encoding: .utf8)
        #expect(stored.contains(#""kind" : "none""#) || stored.contains(#""kind": "none""#), "report.json names it")

        let contents = try ShardContents(directory: out)
        #expect(contents.rows.count == 30)
        #expect(contents.mean == [Float](repeating: 0, count: 96))
        #expect(contents.std == [Float](repeating: 1, count: 96))
        let listing = try ShardDirectory.list(out)
        let metadata = try ShardReader(path: listing["train"]!.first!).metadata
        #expect(metadata.parameters["compression"] == .string("log1p"))
        #expect(metadata.parameters["normalisation"]?.stringValue?.hasPrefix("none") == true)
        #expect(try PipelineConfiguration.fromJSON(metadata.configuration) == config)

        var extractor = ClipFeatureExtractor(configuration: config)
        for row in contents.rows {
            var features = [Float](repeating: 0, count: extractor.outputCount)
            _ = try features.withUnsafeMutableBufferPointer {
                try extractor.extract(path: root + "/" + row.path, header: nil, into: $0)
            }
            #expect(row.mel == features, "\(row.path): stored features differ from the extractor's")
            #expect(row.mel.allSatisfy { $0 >= 0 }, "log10(1 + 10000 S) >= 0")
        }
    }

    /// A folder with decibel (per-band) shards and a log1p (none) shard: `genre inspect` refuses it and the
    /// verifier names the parameters that differ.
    @Test func decibelAndLog1pShardsDoNotMix() throws {
        let f = TemporaryFolder()
        let root = try makeCorpus(f, clipsPerGenre: 3, seconds: 1)
        let decibels = try smallConfiguration(seconds: 1, clipsPerShard: 64)
        var log1p = decibels
        log1p.db.kind = .log1p
        log1p.normalise.kind = .none
        _ = try Preprocessor(configuration: decibels, options: .init(corpus: root, output: f.file("db"))).run()
        _ = try Preprocessor(configuration: log1p, options: .init(corpus: root, output: f.file("log1p"))).run()
        let a = try ShardInspection.inspect(directory: f.file("db")).parameters
        let b = try ShardInspection.inspect(directory: f.file("log1p")).parameters
        #expect(a != b)
        #expect(a["compression"] == nil && b["compression"] == .string("log1p"))

        let valid = f.file("db") + "/valid-00000.h5"
        try FileManager.default.removeItem(atPath: valid)
        try FileManager.default.copyItem(atPath: f.file("log1p") + "/valid-00000.h5", toPath: valid)
        #expect { _ = try ShardInspection.inspect(directory: f.file("db")) } throws: { error in
            "\(error)".contains("parameters differ")
        }
        let verification = try ShardVerifier.verify(directory: f.file("db"))
        let messages = verification.problems.map(\.message)
        #expect(messages.contains { $0.contains("\"compression\"") }, "\(messages)")
        #expect(messages.contains { $0.contains("\"normalisation\"") }, "\(messages)")
    }
}
