import Shards

extension PipelineConfiguration {
    /// Every pipeline parameter, as shard attributes.
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
            "db_ref": .double(c.db.ref),
            "db_amin": .double(c.db.amin),
            "split_method": .string(c.split.method.rawValue),
            "split_seed": .int(Int(truncatingIfNeeded: c.split.seed)),
            "clips_per_shard": .int(c.shards.clipsPerShard),
            "normalisation": .string("per-mel-band (x - mean) / std, ddof 0, fitted on the train split (float64)"),
            "layout": .string("mel[clips, n_mels, frames]"),
            "genrekit_version": .string(GenreKitVersion.current),
        ]
        if let top = c.db.topDB { p["db_top_db"] = .double(top) }
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
