import Shards

extension PipelineConfiguration {
    /// Every pipeline parameter, as shard attributes. Evaluation compares them with a checkpoint's, so shards made
    /// otherwise than a model's training shards are refused.
    ///
    /// The defaults of the keys added since the first shards (`[db] kind = "decibels"`, `[normalise] kind =
    /// "per-band"`) write exactly the parameters they wrote before, so that older checkpoints and shards still
    /// compare equal with new ones made the same way: no `compression` attribute means decibels (`db_ref`,
    /// `db_amin`, `db_top_db`), and `normalisation` names the per-band statistics. `kind = "log1p"` writes
    /// `compression = "log1p"` and `log1p_scale` instead of the `db_*` attributes; `[normalise] kind = "none"`
    /// writes another `normalisation` text.
    var shardParameters: [String: ShardParameter] {
        let c = self
        var p: [String: ShardParameter] = [
            "sample_rate": .int(c.audio.sampleRate),
            "resampler": .string(c.audio.resampler.rawValue),
            "downmix": .string("mean"),
            "clip_seconds": .double(c.audio.clipSeconds),
            "clip_samples": .int(c.audio.clipSamples),
            "crop": .string(c.audio.crop.rawValue),
            "n_fft": .int(c.stft.nFFT),
            "hop_length": .int(c.stft.hopLength),
            "win_length": .int(c.stft.nFFT),
            "window": .string("hann (periodic)"),
            "center": .bool(c.stft.center),
            "pad_mode": .string("constant"),
            "power": .double(2),
            "fmin": .double(c.mel.fMin),
            "fmax": .double(c.effectiveFMax),
            "mel_scale": .string(c.mel.scale.rawValue),
            "mel_norm": .string(c.mel.norm.rawValue),
            "split_method": .string(c.split.method.rawValue),
            "split_seed": .int(Int(truncatingIfNeeded: c.split.seed)),
            "clips_per_shard": .int(c.shards.clipsPerShard),
            "normalisation": .string(c.normalise.kind.shardDescription),
            "layout": .string("mel[clips, n_mels, frames]"),
            "genrekit_version": .string(GenreKitVersion.current),
        ]
        switch c.db.kind {
        case .decibels:
            p["db_ref"] = .double(c.db.ref)
            p["db_amin"] = .double(c.db.amin)
            if let top = c.db.topDB { p["db_top_db"] = .double(top) }
        case .log1p:
            p["compression"] = .string(c.db.kind.rawValue)
            p["log1p_scale"] = .double(c.db.scale)
        }
        if c.split.method == .random {
            p["split_fractions"] = .doubles([c.split.train, c.split.valid, c.split.test])
        }
        if c.split.method == .kfold {
            p["split_folds"] = .int(c.split.folds)
            p["split_fold"] = .int(c.split.fold)
        }
        return p
    }
}

extension PipelineConfiguration.NormalisationKind {
    /// The `normalisation` shard attribute (the `per-band` text is the one every earlier shard carries).
    var shardDescription: String {
        switch self {
        case .perBand: "per-mel-band (x - mean) / std, ddof 0, fitted on the train split (float64)"
        case .none: "none: features as computed (norm mean 0, std 1 for every band)"
        }
    }
}
