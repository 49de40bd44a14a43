import AudioIO
import Foundation
import Spectral
public import ConfigurationDecoding

/// Every parameter of a preprocessing run, in one value: read from a TOML file in `pipelines/`, written (as JSON)
/// into every shard and checkpoint, so that a result always carries the recipe that made it.
///
/// Sections mirror the stages: `[audio]` (decode, downmix, resample, fixed length), `[stft]`, `[mel]`, `[db]`
/// (the compression of mel powers), `[split]`, `[normalise]`, `[shards]`. A key that is missing takes the default shown in `pipelines/gtzan.toml`; an unknown
/// key or a value of the wrong type or range is an error naming the key.
public struct PipelineConfiguration: Sendable, Equatable, Codable {
    public var name: String = "pipeline"
    public var audio = Audio()
    public var stft = STFT()
    public var mel = Mel()
    public var db = Decibel()
    public var split = Split()
    public var normalise = Normalise()
    public var shards = Sharding()

    public init() {}

    /// `[audio]`: how a file becomes a fixed-length mono signal at `sampleRate`.
    public struct Audio: Sendable, Equatable, Codable {
        /// Target sample rate (Hz).
        public var sampleRate: Int = 22050
        /// Resampler used when a file's rate differs from `sampleRate`.
        public var resampler: ResamplerKind = .soxrHQ
        /// Fixed clip length (seconds) after resampling; shorter clips are zero-padded (and flagged), longer cropped.
        public var clipSeconds: Double = 30
        /// Which part of a longer clip is kept.
        public var crop: CropPosition = .start
        /// File extensions (without dot, compared case-insensitively) that the scan treats as audio.
        public var extensions: [String] = ["au", "wav", "aiff", "aif", "flac", "ogg", "opus", "mp3"]

        public init() {}

        /// Number of samples at `sampleRate` in every clip.
        public var clipSamples: Int { Int((clipSeconds * Double(sampleRate)).rounded()) }
    }

    /// Where a fixed-length window is taken from a longer clip.
    public enum CropPosition: String, Sendable, Codable, CaseIterable { case start, centre }

    /// `[stft]`: short-time Fourier transform (samples). The window is always periodic Hann of length `nFFT`.
    public struct STFT: Sendable, Equatable, Codable {
        public var nFFT: Int = 2048
        public var hopLength: Int = 512
        /// Centred frames: the signal is zero-padded by nFFT/2 on both sides (librosa's default since 0.10).
        public var center: Bool = true
        public init() {}
    }

    /// `[mel]`: the triangular mel filterbank (Hz).
    public struct Mel: Sendable, Equatable, Codable {
        public var nMels: Int = 128
        public var fMin: Double = 0
        /// Upper edge (Hz); nil means sampleRate/2.
        public var fMax: Double? = nil
        public var scale: MelScale = .slaney
        public var norm: MelNorm = .slaney
        public init() {}
    }

    /// `[db]`: how mel powers become features. `kind = "decibels"` (the default): librosa's `power_to_db` with
    /// `ref`, `amin`, `top_db`. `kind = "log1p"`: `log10(1 + scale * S)` per cell (musicnn's front end), with
    /// `scale`. The keys of the other kind are an error in a file, and are ignored (keep their defaults) in code.
    public struct Decibel: Sendable, Equatable, Codable {
        /// Which compression.
        public var kind: CompressionKind = .decibels
        /// `decibels`: the power that maps to 0 dB.
        public var ref: Double = 1.0
        /// `decibels`: power floor before the logarithm.
        public var amin: Double = 1e-10
        /// `decibels`: per-clip dynamic range (dB) below the clip's maximum; nil disables the floor.
        public var topDB: Double? = 80
        /// `log1p`: the gain applied to mel powers before `log10(1 + ...)` (musicnn: 10000); > 0.
        public var scale: Double = 10000
        public init() {}

        /// The compression in the form the `Spectral` module takes.
        public var compression: SpectrogramCompression {
            switch kind {
            case .decibels: .decibels(refPower: Float(ref), amin: Float(amin), topDB: topDB.map { Float($0) })
            case .log1p: .log1p(scale: Float(scale))
            }
        }
    }

    /// `[db] kind`: `decibels` (`power_to_db`: `10 log10(max(S, amin) / ref)`, clamped to `top_db` below the clip's
    /// maximum) or `log1p` (`log10(1 + scale * S)`).
    public enum CompressionKind: String, Sendable, Codable, CaseIterable { case decibels, log1p }

    /// `[normalise]`: what is done to the features before they are written.
    public struct Normalise: Sendable, Equatable, Codable {
        /// `per-band` (the default) or `none`.
        public var kind: NormalisationKind = .perBand
        public init() {}
    }

    /// `[normalise] kind`: `per-band`: `(x - mean[b]) / std[b]` with each mel band's mean and standard deviation
    /// (ddof 0) fitted on the train split; `none`: the features are written as computed, and the shards store mean 0
    /// and std 1 for every band (so that every reader of `/norm` works unchanged).
    public enum NormalisationKind: String, Sendable, Codable, CaseIterable {
        case perBand = "per-band"
        case none
    }

    /// `[split]`: how clips are assigned to train, valid and test.
    public struct Split: Sendable, Equatable, Codable {
        public var method: SplitMethod = .random
        /// Seed of the stratified random split and of the k-fold assignment.
        public var seed: UInt64 = 1234
        /// Method `random`: the fraction of each class in each split (adding up to 1); ignored by the other methods.
        public var train: Double = 0.70
        public var valid: Double = 0.15
        public var test: Double = 0.15
        /// Split-list files (one relative path per line), resolved relative to the configuration file. Method `lists`:
        /// they decide the split. Method `kfold`: they only choose which clips take part (a clip in no list is not
        /// written); which list names a clip does not matter.
        public var trainList: String? = nil
        public var validList: String? = nil
        public var testList: String? = nil
        /// Method `kfold`: the number of folds K (at least 3). See ``Splitter/kfold(labels:classCount:folds:seed:)``.
        public var folds: Int = 5
        /// Method `kfold`: the fold (0..<K) that is the test split of this run; fold `(fold + 1) % K` is the valid
        /// split, the others are train. Changing it does not change which fold a clip is in.
        public var fold: Int = 0
        public init() {}

        /// The split-list files given, with the split each names.
        public var listFiles: [(split: DataSplit, file: String)] {
            [(DataSplit.train, trainList), (.valid, validList), (.test, testList)].compactMap { split, file in
                file.map { (split, $0) }
            }
        }
    }

    /// How clips are assigned to splits: `random` (stratified by class, with fractions), `lists` (split-list
    /// files), `kfold` (stratified folds; one is test, the next valid, the rest train).
    public enum SplitMethod: String, Sendable, Codable, CaseIterable { case random, lists, kfold }

    /// `[shards]`: output files.
    public struct Sharding: Sendable, Equatable, Codable {
        /// At most this many clips per HDF5 file.
        public var clipsPerShard: Int = 256
        /// Flush each finished shard to the disk (fsync) before renaming it into place: survives a power cut, costs
        /// a disk write of every shard. Off: a shard is still complete or absent after a crash or kill of the
        /// process (temporary name, then rename).
        public var fsync: Bool = false
        public init() {}
    }

    /// The spectral parameters in the form the `Spectral` module takes.
    public var logMelParameters: LogMelParameters {
        LogMelParameters(
            sampleRate: audio.sampleRate, nFFT: stft.nFFT, hopLength: stft.hopLength, nMels: mel.nMels,
            fMin: mel.fMin, fMax: mel.fMax, center: stft.center, melScale: mel.scale, melNorm: mel.norm,
            compression: db.compression)
    }

    /// Frames in every clip's spectrogram.
    public var framesPerClip: Int { logMelParameters.frameCount(forSamples: audio.clipSamples) }

    /// The upper mel edge actually used (Hz).
    public var effectiveFMax: Double { mel.fMax ?? Double(audio.sampleRate) / 2 }
}

// MARK: - Reading and validating

extension PipelineConfiguration {
    /// Reads and validates a TOML pipeline file. Relative split-list paths are made absolute against the file's folder.
    public static func load(path: String) throws(ConfigurationError) -> PipelineConfiguration {
        var config = try parse(toml: TOMLConfiguration.readText(path: path), file: path)
        let base = URL(fileURLWithPath: path).deletingLastPathComponent()
        func resolve(_ p: String?) -> String? {
            guard let p, !p.hasPrefix("/") else { return p }
            return base.appendingPathComponent(p).standardizedFileURL.path
        }
        config.split.trainList = resolve(config.split.trainList)
        config.split.validList = resolve(config.split.validList)
        config.split.testList = resolve(config.split.testList)
        return config
    }

    /// Parses TOML text (the format of `pipelines/*.toml`) and validates it.
    public static func parse(toml text: String, file: String? = nil) throws(ConfigurationError) -> PipelineConfiguration {
        let config = try TOMLConfiguration.decode(PipelineConfiguration.self, from: text, file: file)
        try config.validate(file: file)
        return config
    }

    /// Checks ranges and consistency; throws naming the first offending key.
    public func validate(file: String? = nil) throws(ConfigurationError) {
        func fail(_ key: String, _ reason: String) -> ConfigurationError {
            ConfigurationError(file: file, key: key, reason: reason)
        }
        if !(1000...384_000).contains(audio.sampleRate) { throw fail("audio.sample_rate", "must be between 1000 and 384000 Hz") }
        if !(audio.clipSeconds > 0 && audio.clipSeconds <= 3600) { throw fail("audio.clip_seconds", "must be in (0, 3600] seconds") }
        if audio.extensions.isEmpty { throw fail("audio.extensions", "must list at least one extension") }
        if stft.nFFT < 16 || stft.nFFT > 65536 { throw fail("stft.n_fft", "must be between 16 and 65536") }
        if stft.hopLength < 1 || stft.hopLength > stft.nFFT { throw fail("stft.hop_length", "must be between 1 and n_fft") }
        if mel.nMels < 1 || mel.nMels > 1024 { throw fail("mel.n_mels", "must be between 1 and 1024") }
        if mel.fMin < 0 { throw fail("mel.fmin", "must be >= 0 Hz") }
        if effectiveFMax <= mel.fMin || effectiveFMax > Double(audio.sampleRate) / 2 {
            throw fail("mel.fmax", "must be above fmin and at most sample_rate/2 (\(audio.sampleRate / 2) Hz)")
        }
        switch db.kind {
        case .decibels:
            if !(db.ref > 0) { throw fail("db.ref", "must be > 0") }
            if !(db.amin > 0) { throw fail("db.amin", "must be > 0") }
            if let top = db.topDB, !(top > 0) { throw fail("db.top_db", "must be > 0 (omit it to disable the floor)") }
        case .log1p:
            if !(db.scale > 0 && db.scale.isFinite && Float(db.scale).isFinite) {
                throw fail("db.scale", "must be a finite number > 0")
            }
        }
        if shards.clipsPerShard < 1 { throw fail("shards.clips_per_shard", "must be >= 1") }
        switch split.method {
        case .random:
            for (key, value) in [("split.train", split.train), ("split.valid", split.valid), ("split.test", split.test)]
            where !(value >= 0 && value <= 1) {
                throw fail(key, "must be a fraction between 0 and 1")
            }
            if abs(split.train + split.valid + split.test - 1) > 1e-6 {
                throw fail("split", "train + valid + test must add up to 1")
            }
            if split.train <= 0 { throw fail("split.train", "must be > 0") }
        case .lists:
            if split.trainList == nil { throw fail("split.train_list", "is required when method = \"lists\"") }
            if split.validList == nil && split.testList == nil {
                throw fail("split.test_list", "at least one of valid_list and test_list is required")
            }
        case .kfold:
            // The fractions (train, valid, test) are ignored; split lists, when given, only filter the clips.
            if split.folds < 3 { throw fail("split.folds", "must be at least 3 (one test, one valid, at least one train fold)") }
            if !(0..<split.folds).contains(split.fold) {
                throw fail("split.fold", "must be between 0 and folds - 1 (\(split.folds - 1)), got \(split.fold)")
            }
        }
    }
}

// MARK: - Serialised forms

extension PipelineConfiguration {
    /// The resolved configuration as canonical JSON (sorted keys): the text stored in shards and checkpoints.
    public func jsonText() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        // Encoding plain Codable values cannot fail.
        let data = try! encoder.encode(self)
        return String(decoding: data, as: UTF8.self)
    }

    /// Decodes the JSON text written by `jsonText()` (from a shard or checkpoint).
    public static func fromJSON(_ text: String) throws(ConfigurationError) -> PipelineConfiguration {
        do {
            let config = try JSONDecoder().decode(PipelineConfiguration.self, from: Data(text.utf8))
            try config.validate()
            return config
        } catch let error as ConfigurationError {
            throw error
        } catch {
            throw ConfigurationError(file: nil, key: nil, reason: "stored configuration is not valid JSON: \(error)")
        }
    }
}
