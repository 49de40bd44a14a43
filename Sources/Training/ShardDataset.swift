import Shards

/// One committed shard of a split: where it is and which of the split's clips it holds.
public struct ShardFile: Sendable, Equatable {
    /// The shard's path.
    public let path: String
    /// Index (in the split) of the shard's first clip.
    public let firstClip: Int
    /// Clips in the shard.
    public let count: Int
}

/// The clips of one split, without their features: labels, source paths and where each clip is stored. Clip `i` of
/// the split is row `i - shard.firstClip` of the shard that holds it; shards are in file-name (index) order.
public struct ShardSplit: Sendable {
    /// The split's name (`"train"`, `"valid"`, `"test"`...).
    public let name: String
    /// The split's shards in index order.
    public let shards: [ShardFile]
    /// Class index of every clip.
    public let labels: [Int32]
    /// Source file of every clip, relative to the corpus root.
    public let paths: [String]
    /// Original duration of every clip in seconds (the shards' `/seconds`; longer than the clip length for a
    /// cropped file, shorter for a padded one).
    public let seconds: [Double]

    /// Number of clips.
    public var count: Int { labels.count }

    /// Clips per class index, `[classCount]`.
    public func classCounts(classCount: Int) -> [Int] {
        var counts = [Int](repeating: 0, count: classCount)
        for label in labels where Int(label) < classCount { counts[Int(label)] += 1 }
        return counts
    }

    /// The shard (index into `shards`) and row holding clip `clip` (`0..<count`).
    func locate(_ clip: Int) -> (shard: Int, row: Int) {
        precondition(clip >= 0 && clip < count, "clip \(clip) outside the \(name) split's \(count) clips")
        // Binary search for the last shard whose first clip is <= clip (empty shards have no clip to find).
        var low = 0, high = shards.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if shards[middle].firstClip <= clip { low = middle } else { high = middle - 1 }
        }
        while shards[low].count == 0 || clip >= shards[low].firstClip + shards[low].count { low += 1 }
        return (low, clip - shards[low].firstClip)
    }
}

/// A shard folder opened for training and evaluation: every shard of every split validated against the others,
/// with only the per-clip labels and paths and each shard's clip count kept in memory. Clip features are read on
/// demand by `TrainingBatches` and `EvaluationWindows` (each keeps a few shards open), so memory does not grow with
/// the corpus.
///
/// Immutable after `init`, hence `Sendable`.
public final class ShardDataset: Sendable {
    /// The folder.
    public let directory: String
    /// Class names in label order (label `i` is `classes[i]`).
    public let classes: [String]
    /// Mel bands per clip.
    public let nMels: Int
    /// STFT frames per clip (the same for every clip of the folder).
    public let frames: Int
    /// Per-band mean in dB that was subtracted, `[n_mels]`: `value * normStd + normMean` = dB.
    public let normMean: [Float]
    /// Per-band standard deviation in dB that the features were divided by, `[n_mels]`.
    public let normStd: [Float]
    /// The pipeline parameters stored in the shards (`sample_rate`, `hop_length`...).
    public let parameters: [String: ShardParameter]
    /// The pipeline configuration as stored in the shards (JSON text).
    public let configuration: String
    /// Every split found in the folder, by name.
    public let splits: [String: ShardSplit]
    /// The STFT timing of the features (from the `sample_rate`, `hop_length`, `n_fft` and `center` parameters);
    /// nil when the shards do not store `sample_rate` and `hop_length` (every clip is then taken to fill all
    /// `frames`).
    public let timing: SpectrogramTiming?

    /// Opens and validates the shard folder `directory`.
    ///
    /// Every shard of every split is opened once (`ShardReader` checks its schema and consistency) and compared with
    /// the first shard (train first, then valid, test, then other splits by name): classes, `n_mels`, `frames`,
    /// normalisation statistics, pipeline parameters and configuration must be equal, and the `split` attribute must
    /// match the file name. The error names the file that differs.
    /// - Parameter requiredSplits: splits that must hold at least one clip (else `.emptySplit` naming the split).
    ///   When it contains `"train"`, every class must have a training clip (else `.classesWithoutTrainingClips`).
    public init(directory: String, requiredSplits: [String] = ["train", "valid", "test"]) throws(TrainingError) {
        let listing = try shards { () throws(ShardError) in try ShardDirectory.list(directory) }
        guard !listing.isEmpty else { throw .noShards(directory: directory) }
        let known = ["train", "valid", "test"]
        let order = known.filter { listing[$0] != nil } + listing.keys.filter { !known.contains($0) }.sorted()

        var reference: (path: String, metadata: ShardMetadata)?
        var splits: [String: ShardSplit] = [:]
        for split in order {
            var files: [ShardFile] = []
            var labels: [Int32] = []
            var paths: [String] = []
            var seconds: [Double] = []
            for path in listing[split]! {
                let reader = try shards { () throws(ShardError) in try ShardReader(path: path) }
                let metadata = reader.metadata
                if metadata.split != split {
                    throw .mismatch(path: path, reason: "its split attribute is \"\(metadata.split)\" but its file "
                                    + "name says \"\(split)\"")
                }
                if let reference {
                    if let difference = Self.difference(metadata, from: reference.metadata) {
                        throw .mismatch(path: path, reason: difference + " in \(reference.path)")
                    }
                } else {
                    reference = (path, metadata)
                }
                files.append(ShardFile(path: path, firstClip: labels.count, count: reader.count))
                labels += reader.labels
                paths += reader.paths
                seconds += reader.seconds.map(Double.init)
            }
            splits[split] = ShardSplit(name: split, shards: files, labels: labels, paths: paths, seconds: seconds)
        }
        let metadata = reference!.metadata
        for split in requiredSplits where (splits[split]?.count ?? 0) == 0 {
            throw .emptySplit(directory: directory, split: split)
        }
        if requiredSplits.contains("train"), let train = splits["train"] {
            let counts = train.classCounts(classCount: metadata.classes.count)
            let missing = metadata.classes.indices.filter { counts[$0] == 0 }.map { metadata.classes[$0] }
            if !missing.isEmpty { throw .classesWithoutTrainingClips(directory: directory, classes: missing) }
        }
        self.directory = directory
        self.classes = metadata.classes
        self.nMels = metadata.nMels
        self.frames = metadata.frames
        self.normMean = metadata.normMean
        self.normStd = metadata.normStd
        self.parameters = metadata.parameters
        self.configuration = metadata.configuration
        self.splits = splits
        self.timing = SpectrogramTiming(parameters: metadata.parameters)
    }

    /// The frames of clip `clip` of `split` that hold audio: `timing.audioFrames(seconds:)` of the clip's
    /// `/seconds`, at most `frames` (all `frames` without timing or with a non-finite duration).
    public func audioFrames(clip: Int, of split: ShardSplit) -> Int {
        guard let timing, split.seconds.indices.contains(clip) else { return frames }
        return min(frames, timing.audioFrames(seconds: split.seconds[clip]))
    }

    /// The split `name`; `.emptySplit` when the folder has no clip of it.
    public func split(_ name: String) throws(TrainingError) -> ShardSplit {
        guard let split = splits[name], split.count > 0 else { throw .emptySplit(directory: directory, split: name) }
        return split
    }

    /// Values per clip: `nMels * frames`.
    public var clipElements: Int { nMels * frames }

    /// Clip `clip` of split `split`: normalised features `[n_mels, frames]` row-major (opens its shard for the call;
    /// for many clips use `TrainingBatches` or `EvaluationWindows`).
    public func clip(_ clip: Int, of split: String) throws(TrainingError) -> [Float] {
        let index = try self.split(split)
        guard clip >= 0, clip < index.count else {
            throw .invalidOptions(directory: directory, reason: "clip \(clip) outside the \(split) split's "
                                  + "\(index.count) clips")
        }
        var readers = OpenShards(dataset: self, split: index, capacity: 1)
        var values = [Float](repeating: 0, count: clipElements)
        try values.withUnsafeMutableBufferPointer { (buffer) throws(TrainingError) in
            try readers.read(clip: clip, into: buffer)
        }
        return values
    }

    /// The first difference between a shard's metadata and the reference shard's, as "what differs from what".
    static func difference(_ metadata: ShardMetadata, from reference: ShardMetadata) -> String? {
        if metadata.classes != reference.classes {
            return "classes \(metadata.classes) differ from \(reference.classes)"
        }
        if metadata.nMels != reference.nMels { return "n_mels \(metadata.nMels) differs from \(reference.nMels)" }
        if metadata.frames != reference.frames { return "frames \(metadata.frames) differs from \(reference.frames)" }
        if metadata.normMean != reference.normMean || metadata.normStd != reference.normStd {
            return "the normalisation statistics (norm/mean, norm/std) differ from those"
        }
        if metadata.parameters != reference.parameters {
            let names = Set(metadata.parameters.keys).union(reference.parameters.keys).sorted()
            for name in names where metadata.parameters[name] != reference.parameters[name] {
                let value = metadata.parameters[name].map(\.description) ?? "missing"
                let other = reference.parameters[name].map(\.description) ?? "missing"
                return "parameter \(name) = \(value) differs from \(other)"
            }
        }
        if metadata.configuration != reference.configuration {
            return "the pipeline configuration differs from the one"
        }
        return nil
    }
}
