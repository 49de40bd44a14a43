import ConfigurationDecoding
import Foundation
import Testing

@testable import Pipeline

/// The repository's `pipelines/` folder, found from this file's path.
let pipelinesFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("pipelines").path

@Suite struct ConfigurationTests {
    @Test func shippedPipelinesLoad() throws {
        for name in ["gtzan.toml", "gtzan-fault-filtered.toml", "demo.toml"] {
            let config = try PipelineConfiguration.load(path: pipelinesFolder + "/" + name)
            #expect(config.audio.sampleRate == 22050)
            #expect(config.stft.nFFT == 2048 && config.stft.hopLength == 512)
            #expect(config.mel.nMels == 128)
        }
        let lists = try PipelineConfiguration.load(path: pipelinesFolder + "/gtzan-fault-filtered.toml")
        #expect(lists.split.method == .lists)
        #expect(FileManager.default.fileExists(atPath: lists.split.trainList!))
    }

    @Test func defaultsMatchLibrosa() throws {
        let config = try PipelineConfiguration.parse(toml: "")
        #expect(config.audio.clipSeconds == 30)
        #expect(config.audio.resampler == .soxrHQ)
        #expect(config.effectiveFMax == 11025)
        #expect(config.db.topDB == 80)
        #expect(config.framesPerClip == 1 + 661_500 / 512)
        #expect(config.shards.clipsPerShard == 256)
        #expect(config.split.train == 0.70)
    }

    @Test func integersAreAcceptedWhereNumbersAreExpected() throws {
        let config = try PipelineConfiguration.parse(toml: "[mel]\nfmax = 8000\nfmin = 20\n[audio]\nclip_seconds = 5\n")
        #expect(config.mel.fMax == 8000 && config.mel.fMin == 20 && config.audio.clipSeconds == 5)
    }

    @Test func topDBCanBeDisabled() throws {
        let config = try PipelineConfiguration.parse(toml: "[db]\ntop_db = false\n")
        #expect(config.db.topDB == nil)
        let back = try PipelineConfiguration.fromJSON(config.jsonText())
        #expect(back == config)
    }

    @Test func jsonRoundTrip() throws {
        var config = try PipelineConfiguration.load(path: pipelinesFolder + "/gtzan.toml")
        config.audio.crop = .centre
        config.mel.fMax = 8000
        #expect(try PipelineConfiguration.fromJSON(config.jsonText()) == config)
    }

    @Test(arguments: [
        ("[mel]\nn_melz = 64\n", "mel.n_melz"),
        ("[audio]\nsample_rate = \"fast\"\n", "audio.sample_rate"),
        ("[audio]\nresampler = \"linear\"\n", "audio.resampler"),
        ("[mel]\nn_mels = 0\n", "mel.n_mels"),
        ("[mel]\nfmax = 20000\n", "mel.fmax"),
        ("[stft]\nhop_length = 4096\n", "stft.hop_length"),
        ("[split]\ntrain = 0.9\n", "split"),
        ("[split]\nmethod = \"lists\"\n", "split.train_list"),
        ("[shards]\nclips_per_shard = -1\n", "shards.clips_per_shard"),
        ("colour = \"blue\"\n", "colour"),
    ])
    func malformedConfigurationNamesTheKey(toml: String, key: String) {
        #expect {
            _ = try PipelineConfiguration.parse(toml: toml, file: "x.toml")
        } throws: { error in
            guard let e = error as? ConfigurationError else { return false }
            return e.key == key && e.description.hasPrefix("x.toml: key '\(key)'")
        }
    }

    @Test func syntaxErrorNamesTheLine() {
        #expect {
            _ = try PipelineConfiguration.parse(toml: "[audio]\nsample_rate = = 3\n", file: "bad.toml")
        } throws: { error in
            let text = "\(error)"
            return text.hasPrefix("bad.toml") && text.contains("line 2")
        }
    }

    @Test func missingFileIsAClearError() {
        #expect {
            _ = try PipelineConfiguration.load(path: "/nonexistent/pipeline.toml")
        } throws: { "\($0)".contains("/nonexistent/pipeline.toml") }
    }

    @Test func datasetRegistry() throws {
        let folder = TemporaryFolder()
        folder.write("datasets", text: "# corpora\ngtzan = /data/gtzan/genres  # the original\n\nfma = /data/fma\n")
        let registry = try DatasetRegistry.load(path: folder.file("datasets"))
        #expect(try registry.path(of: "gtzan", file: "datasets") == "/data/gtzan/genres")
        #expect(throws: ConfigurationError.self) { try registry.path(of: "nope", file: "datasets") }
        folder.write("bad", text: "gtzan /data\n")
        #expect(throws: ConfigurationError.self) { try DatasetRegistry.load(path: folder.file("bad")) }
    }
}
