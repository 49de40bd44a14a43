import AudioIO
import Foundation
import Spectral
import ConfigurationDecoding

// Each section of `PipelineConfiguration` decoded from TOML or JSON: Codable with defaults, snake_case keys and
// unknown-key detection (helpers in ConfigurationDecoding).

extension PipelineConfiguration {
    enum CodingKeys: String, CodingKey, CaseIterable { case name, audio, stft, mel, db, split, normalise, shards }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.value(.name, default: "pipeline")
        audio = try c.value(.audio, default: Audio())
        stft = try c.value(.stft, default: STFT())
        mel = try c.value(.mel, default: Mel())
        db = try c.value(.db, default: Decibel())
        split = try c.value(.split, default: Split())
        // Absent in configurations stored before it existed: per-band, what they did.
        normalise = try c.value(.normalise, default: Normalise())
        shards = try c.value(.shards, default: Sharding())
    }
}

extension PipelineConfiguration.Audio {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case sampleRate = "sample_rate", resampler, clipSeconds = "clip_seconds", crop, extensions
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        sampleRate = try c.value(.sampleRate, default: 22050)
        resampler = try c.choice(.resampler, default: .soxrHQ)
        clipSeconds = try c.number(.clipSeconds) ?? 30
        crop = try c.choice(.crop, default: .start)
        extensions = try c.value(.extensions, default: Self().extensions).map { $0.lowercased() }
    }
}

extension PipelineConfiguration.STFT {
    enum CodingKeys: String, CodingKey, CaseIterable { case nFFT = "n_fft", hopLength = "hop_length", center }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        nFFT = try c.value(.nFFT, default: 2048)
        hopLength = try c.value(.hopLength, default: 512)
        center = try c.value(.center, default: true)
    }
}

extension PipelineConfiguration.Mel {
    enum CodingKeys: String, CodingKey, CaseIterable { case nMels = "n_mels", fMin = "fmin", fMax = "fmax", scale, norm }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        nMels = try c.value(.nMels, default: 128)
        fMin = try c.number(.fMin) ?? 0
        fMax = try c.number(.fMax)
        scale = try c.choice(.scale, default: .slaney)
        norm = try c.choice(.norm, default: .slaney)
    }
}

extension PipelineConfiguration.Decibel {
    enum CodingKeys: String, CodingKey, CaseIterable { case kind, ref, amin, topDB = "top_db", scale }

    /// Absent `kind` (every configuration stored before it existed) is `decibels`. A key of the other kind is an
    /// error naming it: `top_db` with `kind = "log1p"` would otherwise be silently without effect.
    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        kind = try c.choice(.kind, default: .decibels)
        let foreign: [CodingKeys] = kind == .decibels ? [.scale] : [.ref, .amin, .topDB]
        for key in foreign where c.contains(key) {
            let owner = kind == .decibels ? "log1p" : "decibels"
            throw ConfigurationError(
                file: nil, key: (c.codingPath + [key]).map(\.stringValue).joined(separator: "."),
                reason: "applies only to kind = \"\(owner)\" (this [db] has kind = \"\(kind.rawValue)\"): remove it")
        }
        scale = try c.number(.scale) ?? 10000
        ref = try c.number(.ref) ?? 1.0
        amin = try c.number(.amin) ?? 1e-10
        // `top_db = false` (TOML) or null (JSON) disables the floor; a missing key means the default, 80 dB.
        if !c.contains(.topDB) {
            topDB = 80
        } else if try c.decodeNil(forKey: .topDB) {
            topDB = nil
        } else if let on = try? c.decode(Bool.self, forKey: .topDB) {
            guard !on else {
                throw ConfigurationError(file: nil, key: "db.top_db", reason: "give a number of dB, or false to disable")
            }
            topDB = nil
        } else {
            topDB = try c.number(.topDB)
        }
    }

    /// `kind` and the keys of that kind only (so the stored JSON decodes again).
    public func encode(to encoder: any Encoder) throws {
        try encode(to: encoder, writingKind: true)
    }

    /// ``encode(to:)``; without `writingKind`, the `decibels` form leaves `kind` out (the form from before `kind`
    /// existed, which the feature cache hashes so that its entries stay valid).
    func encode(to encoder: any Encoder, writingKind: Bool) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch kind {
        case .decibels:
            if writingKind { try c.encode(kind, forKey: .kind) }
            try c.encode(ref, forKey: .ref)
            try c.encode(amin, forKey: .amin)
            try c.encode(topDB, forKey: .topDB)  // null when disabled, so the stored JSON round-trips
        case .log1p:
            try c.encode(kind, forKey: .kind)
            try c.encode(scale, forKey: .scale)
        }
    }
}

extension PipelineConfiguration.Normalise {
    enum CodingKeys: String, CodingKey, CaseIterable { case kind }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        kind = try c.choice(.kind, default: .perBand)
    }
}

extension PipelineConfiguration.Split {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case method, seed, train, valid, test
        case trainList = "train_list", validList = "valid_list", testList = "test_list"
        case folds, fold
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        method = try c.choice(.method, default: .random)
        let seed = try c.value(.seed, default: 1234)
        guard seed >= 0 else {
            throw ConfigurationError(file: nil, key: "split.seed", reason: "must be a non-negative integer")
        }
        self.seed = UInt64(seed)
        train = try c.number(.train) ?? 0.70
        valid = try c.number(.valid) ?? 0.15
        test = try c.number(.test) ?? 0.15
        trainList = try c.decodeIfPresent(String.self, forKey: .trainList)
        validList = try c.decodeIfPresent(String.self, forKey: .validList)
        testList = try c.decodeIfPresent(String.self, forKey: .testList)
        folds = try c.value(.folds, default: 5)
        fold = try c.value(.fold, default: 0)
    }

    /// The keys of ``init(from:)``; `folds` and `fold` only with method `kfold`, so the stored JSON of the other
    /// methods is what it was before k-fold existed.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(method, forKey: .method)
        try c.encode(seed, forKey: .seed)
        try c.encode(train, forKey: .train)
        try c.encode(valid, forKey: .valid)
        try c.encode(test, forKey: .test)
        try c.encodeIfPresent(trainList, forKey: .trainList)
        try c.encodeIfPresent(validList, forKey: .validList)
        try c.encodeIfPresent(testList, forKey: .testList)
        if method == .kfold {
            try c.encode(folds, forKey: .folds)
            try c.encode(fold, forKey: .fold)
        }
    }
}

extension PipelineConfiguration.Sharding {
    enum CodingKeys: String, CodingKey, CaseIterable { case clipsPerShard = "clips_per_shard", fsync }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        clipsPerShard = try c.value(.clipsPerShard, default: 256)
        fsync = try c.value(.fsync, default: false)
    }
}
