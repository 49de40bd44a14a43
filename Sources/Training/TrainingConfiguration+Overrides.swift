public import ConfigurationDecoding

extension TrainingConfiguration {
    /// The configuration of a new run as `genre train` takes it: the TOML file at `path` (the defaults, the reference
    /// CNN with Adam, when nil), then `epochs`, `seed`, `initCheckpoint` and `mode` in place of `[train] epochs`,
    /// `[train] seed`, `[model] init` and `[train] mode` when given; validated after the overrides, so an error names
    /// `path` and the key.
    public static func load(
        path: String?, epochs: Int?, seed: UInt64?, initCheckpoint: String? = nil, mode: TrainingMode? = nil
    ) throws(ConfigurationError) -> TrainingConfiguration {
        var configuration = try path.map { path throws(ConfigurationError) in try load(path: path) } ?? TrainingConfiguration()
        if let epochs { configuration.train.epochs = epochs }
        if let seed { configuration.train.seed = seed }
        if let initCheckpoint { configuration.model.initCheckpoint = initCheckpoint }
        if let mode { configuration.train.mode = mode }
        try configuration.validate(file: path)
        return configuration
    }
}
