/// Everything about a shard except its clips: the class list, the split, the feature geometry, the normalisation
/// applied and the pipeline's parameters and configuration. The writer stores it; the reader gives it back equal.
public struct ShardMetadata: Sendable, Equatable {
    /// Class (genre) names in label order: label `i` is `classes[i]`. Unique and non-empty.
    public var classes: [String]
    /// The split this shard belongs to (`"train"`, `"valid"`, `"test"`...).
    public var split: String
    /// Mel bands per clip (rows of a clip's `[n_mels, frames]` matrix).
    public var nMels: Int
    /// STFT frames per clip (columns of a clip's `[n_mels, frames]` matrix).
    public var frames: Int
    /// Per-band mean in dB that was subtracted, `[n_mels]`.
    public var normMean: [Float]
    /// Per-band standard deviation in dB that the features were divided by, `[n_mels]` (finite, > 0).
    public var normStd: [Float]
    /// Pipeline parameters stored as root attributes under their own names (`sample_rate`, `n_fft`,
    /// `hop_length`...); names must not be one of `ShardSchema.reservedAttributes`.
    public var parameters: [String: ShardParameter]
    /// The whole pipeline configuration as text (e.g. its TOML), stored in the `configuration` attribute.
    public var configuration: String
    /// gzip level 0...9 for the `mel` chunks, or nil (the default) for uncompressed chunks. Compression makes
    /// the files smaller but writing and reading several times slower. Read back from the dataset's filter.
    public var gzipLevel: Int?

    public init(
        classes: [String], split: String, nMels: Int, frames: Int, normMean: [Float], normStd: [Float],
        parameters: [String: ShardParameter] = [:], configuration: String = "", gzipLevel: Int? = nil
    ) {
        self.classes = classes
        self.split = split
        self.nMels = nMels
        self.frames = frames
        self.normMean = normMean
        self.normStd = normStd
        self.parameters = parameters
        self.configuration = configuration
        self.gzipLevel = gzipLevel
    }

    /// Values per clip: `nMels * frames`.
    public var clipElements: Int { nMels * frames }

    /// The reasons this metadata cannot describe a shard (empty when it can).
    public func problems() -> [String] {
        var problems: [String] = []
        if classes.isEmpty { problems.append("no classes") }
        if classes.contains(where: \.isEmpty) { problems.append("an empty class name") }
        if Set(classes).count != classes.count { problems.append("duplicate class names in \(classes)") }
        if !ShardSchema.isValidSplitName(split) {
            problems.append("split name \"\(split)\" (must be non-empty, without '/', not starting with '.')")
        }
        if nMels <= 0 || frames <= 0 { problems.append("clip shape [\(nMels), \(frames)] (both must be > 0)") }
        if nMels > 0, frames > 0, nMels.multipliedReportingOverflow(by: frames).overflow {
            problems.append("clip shape [\(nMels), \(frames)] is too large")
        }
        if normMean.count != nMels || normStd.count != nMels {
            problems.append("norm mean/std have \(normMean.count)/\(normStd.count) values for \(nMels) mel bands")
        }
        if !normMean.allSatisfy(\.isFinite) { problems.append("a norm mean that is not finite") }
        if !normStd.allSatisfy({ $0.isFinite && $0 > 0 }) { problems.append("a norm std that is not finite and > 0") }
        let reserved = parameters.keys.filter { ShardSchema.reservedAttributes.contains($0) }.sorted()
        if !reserved.isEmpty { problems.append("parameters use reserved attribute names \(reserved)") }
        if parameters.keys.contains(where: { $0.isEmpty || $0.utf8.contains(0) }) {
            problems.append("an empty parameter name or one containing NUL")
        }
        if let level = gzipLevel, !(0...9).contains(level) { problems.append("gzip level \(level) (must be 0...9)") }
        return problems
    }
}
