import ConfigurationDecoding
import Foundation
import Shards
import Spectral
import Testing

@testable import Pipeline

/// `[db] kind` (decibels | log1p with `scale`) and `[normalise] kind` (per-band | none): decoding, validation, the
/// stored JSON (and configurations stored before the keys existed), the shard parameters evaluation compares, and
/// the feature cache's key.
@Suite struct FrontEndConfigurationTests {
    static func musicnn() throws -> PipelineConfiguration {
        try PipelineConfiguration.load(path: pipelinesFolder + "/musicnn.toml")
    }

    @Test func musicnnPipelineIsMusicnnsFrontEnd() throws {
        let config = try Self.musicnn()
        #expect(config.name == "musicnn")
        #expect(config.audio.sampleRate == 16000 && config.audio.resampler == .soxrHQ && config.audio.clipSeconds == 30)
        #expect(config.stft.nFFT == 512 && config.stft.hopLength == 256 && config.stft.center)
        #expect(config.mel.nMels == 96 && config.mel.fMin == 0 && config.effectiveFMax == 8000)
        #expect(config.mel.scale == .slaney && config.mel.norm == .slaney)
        #expect(config.db.kind == .log1p && config.db.scale == 10000)
        #expect(config.logMelParameters.compression == .log1p(scale: 10000))
        #expect(config.normalise.kind == .none)
        #expect(config.split.method == .random && config.split.seed == 1234)
        #expect(config.framesPerClip == 1 + 480_000 / 256)
    }

    @Test func defaultsAreDecibelsAndPerBand() throws {
        let config = try PipelineConfiguration.parse(toml: "")
        #expect(config.db.kind == .decibels && config.db.scale == 10000)
        #expect(config.normalise.kind == .perBand)
        #expect(config.logMelParameters.compression == .librosaDecibels)
        #expect(config.logMelParameters == LogMelParameters())
        let gtzan = try PipelineConfiguration.load(path: pipelinesFolder + "/gtzan.toml")
        #expect(gtzan.db == config.db && gtzan.normalise == config.normalise)
        let log1p = try PipelineConfiguration.parse(toml: "[db]\nkind = \"log1p\"\n")
        #expect(log1p.db.scale == 10000, "scale defaults to musicnn's 10000")
        #expect(try PipelineConfiguration.parse(toml: "[db]\nkind = \"log1p\"\nscale = 100\n").db.compression
                == .log1p(scale: 100))
    }

    @Test(arguments: [
        ("[db]\nkind = \"ln\"\n", "db.kind"),
        ("[db]\nkind = \"log1p\"\nscale = 0\n", "db.scale"),
        ("[db]\nkind = \"log1p\"\nscale = -10000\n", "db.scale"),
        ("[db]\nkind = \"log1p\"\nscale = 1e39\n", "db.scale"),
        ("[db]\nkind = \"log1p\"\nscale = \"big\"\n", "db.scale"),
        ("[db]\nkind = \"log1p\"\ntop_db = 80.0\n", "db.top_db"),
        ("[db]\nkind = \"log1p\"\nref = 1.0\n", "db.ref"),
        ("[db]\nkind = \"log1p\"\namin = 1e-10\n", "db.amin"),
        ("[db]\nscale = 10000\n", "db.scale"),
        ("[db]\nkind = \"decibels\"\nscale = 10000\n", "db.scale"),
        ("[db]\nkind = \"log1p\"\nscael = 3\n", "db.scael"),
        ("[normalise]\nkind = \"zscore\"\n", "normalise.kind"),
        ("[normalise]\nmean = 0.0\n", "normalise.mean"),
    ])
    func badFrontEndKeysNameTheKey(toml: String, key: String) {
        #expect {
            _ = try PipelineConfiguration.parse(toml: toml, file: "x.toml")
        } throws: { error in
            guard let e = error as? ConfigurationError else { return false }
            return e.key == key && e.description.hasPrefix("x.toml: key '\(key)'") && !e.description.contains("\n")
        }
    }

    @Test func storedJSONRoundTripsAndNamesBothKinds() throws {
        let config = try Self.musicnn()
        let text = config.jsonText()
        #expect(try PipelineConfiguration.fromJSON(text) == config)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let db = try #require(json["db"] as? [String: Any]), normalise = try #require(json["normalise"] as? [String: Any])
        #expect(db["kind"] as? String == "log1p" && db["scale"] as? Double == 10000)
        #expect(db["top_db"] == nil && db["ref"] == nil && db["amin"] == nil, "only the keys of the kind are stored")
        #expect(normalise["kind"] as? String == "none")
        let defaults = try PipelineConfiguration.parse(toml: "")
        let defaultJSON = try #require(try JSONSerialization.jsonObject(with: Data(defaults.jsonText().utf8)) as? [String: Any])
        #expect((defaultJSON["db"] as? [String: Any])?["kind"] as? String == "decibels")
        #expect((defaultJSON["normalise"] as? [String: Any])?["kind"] as? String == "per-band")
        #expect(try PipelineConfiguration.fromJSON(defaults.jsonText()) == defaults)
    }

    /// Configurations stored in shards, checkpoints and reports before the keys existed read as decibels + per-band.
    @Test func configurationsStoredBeforeTheKeysReadAsDecibelsAndPerBand() throws {
        var defaults = try PipelineConfiguration.parse(toml: "[db]\ntop_db = false\n")
        defaults.mel.nMels = 64
        var json = try #require(try JSONSerialization.jsonObject(with: Data(defaults.jsonText().utf8)) as? [String: Any])
        var db = try #require(json["db"] as? [String: Any])
        db["kind"] = nil
        json["db"] = db
        json["normalise"] = nil
        let old = String(decoding: try JSONSerialization.data(withJSONObject: json), as: UTF8.self)
        #expect(!old.contains("kind") && !old.contains("normalise"))
        let decoded = try PipelineConfiguration.fromJSON(old)
        #expect(decoded == defaults)
        #expect(decoded.db.kind == .decibels && decoded.db.topDB == nil && decoded.normalise.kind == .perBand)
        // A report.json's normalisation from before `kind` existed.
        let report = try JSONDecoder().decode(
            RunReport.Normalisation.self, from: Data(#"{"train_clips": 2, "train_frames": 8, "mean": [1], "std": [2]}"#.utf8))
        #expect(report.kind == .perBand && report.trainClips == 2)
    }

    /// The defaults write exactly the shard parameters written before the keys existed (old checkpoints still
    /// accept new shards made the same way); log1p and none write parameters that differ, so evaluation refuses
    /// to mix them.
    @Test func shardParametersTellTheCompressionAndNormalisationApart() throws {
        let decibels = try PipelineConfiguration.parse(toml: "").shardParameters
        #expect(decibels["compression"] == nil && decibels["log1p_scale"] == nil)
        #expect(decibels["db_ref"] == .double(1) && decibels["db_amin"] == .double(1e-10) && decibels["db_top_db"] == .double(80))
        #expect(decibels["normalisation"]
                == .string("per-mel-band (x - mean) / std, ddof 0, fitted on the train split (float64)"))
        var log1p = try PipelineConfiguration.parse(toml: "[db]\nkind = \"log1p\"\n")
        let p = log1p.shardParameters
        #expect(p["compression"] == .string("log1p") && p["log1p_scale"] == .double(10000))
        #expect(p["db_ref"] == nil && p["db_amin"] == nil && p["db_top_db"] == nil)
        #expect(p["normalisation"] == decibels["normalisation"])
        #expect(p != decibels)
        log1p.db.scale = 1000
        #expect(log1p.shardParameters["log1p_scale"] == .double(1000))
        var none = try PipelineConfiguration.parse(toml: "")
        none.normalise.kind = .none
        #expect(none.shardParameters["normalisation"] != decibels["normalisation"])
        #expect(none.shardParameters.filter { $0.key != "normalisation" } == decibels.filter { $0.key != "normalisation" })
    }

    /// The cache key: unchanged for decibels (entries made before `kind` existed stay valid), different for log1p,
    /// and independent of the normalisation (applied after the cache).
    @Test func featureCacheKeyFollowsTheCompressionOnly() throws {
        func hashedDB(_ c: PipelineConfiguration) throws -> [String: Any] {
            let text = FeatureCache.featureParameters(c)
            let json = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            return try #require(json["db"] as? [String: Any])
        }
        let decibels = try PipelineConfiguration.parse(toml: "")
        #expect(Set(try hashedDB(decibels).keys) == ["ref", "amin", "top_db"], "the form from before kind existed")
        var none = decibels
        none.normalise.kind = .none
        #expect(FeatureCache.featureParameters(none) == FeatureCache.featureParameters(decibels))
        var log1p = decibels
        log1p.db.kind = .log1p
        #expect(FeatureCache.featureParameters(log1p) != FeatureCache.featureParameters(decibels))
        #expect(Set(try hashedDB(log1p).keys) == ["kind", "scale"])
    }
}
