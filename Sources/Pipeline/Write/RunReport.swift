import Foundation

/// `report.json`, written beside the shards at the end of every run: what was found, what was made, how long each
/// stage took, and every file that was not used with its reason.
public struct RunReport: Sendable, Codable {
    public var genrekitVersion = GenreKitVersion.current
    public var started = ""
    public var finished = ""
    public var corpus = ""
    public var output = ""
    public var jobs = 1
    public var configuration = PipelineConfiguration()
    public var classes: [String] = []
    public var counts = Counts()
    public var timings = Timings()
    public var throughput = Throughput()
    /// Files not used, with the stage where that was found and the reason.
    public var skipped: [SkippedFile] = []
    /// Files used despite damage (truncated, decoder lost sync), with the reason.
    public var warnings: [SkippedFile] = []
    /// Exact duplicates dropped, each with the clip it repeats (which was kept).
    public var duplicates: [Duplicate] = []
    /// Clips shorter than the fixed length (zero-padded), and those shorter than one STFT frame.
    public var padded: [String] = []
    public var shorterThanFrame: [String] = []
    /// Clips per split and class: `perSplit["train"]["blues"]`.
    public var perSplit: [String: [String: Int]] = [:]
    public var shards: [ShardEntry] = []
    /// The normalisation applied (`[normalise] kind`) and its statistics per mel band, fitted on the train split
    /// (`none`: mean 0, std 1).
    public var normalisation = Normalisation()
    /// Split-list entries that matched no file, and paths named by two lists.
    public var splitListUnmatched: [String: [String]] = [:]
    public var splitListConflicts: [String] = []
    /// The parts a merged run was made from (nil for a run on one machine).
    public var parts: [PartEntry]? = nil
    /// Method `kfold`: the folds, and the fold of every written clip (nil for the other methods).
    public var kfold: KFold? = nil

    public init() {}

    /// One part of a partitioned run: `3/4`, its clips, and its wall time (s).
    public struct PartEntry: Sendable, Codable, Equatable {
        public var part: String
        public var clips: Int
        public var seconds: Double
    }

    /// A k-fold split: K, the fold tested by this run, clips per fold, and the fold (`0..<folds`) of every written
    /// clip by its path relative to the corpus root (the same for every `fold` of the same corpus and seed).
    public struct KFold: Sendable, Codable, Equatable {
        public var folds: Int
        public var fold: Int
        public var clipsPerFold: [Int]
        public var clipFolds: [String: Int]
        enum CodingKeys: String, CodingKey {
            case folds, fold, clipsPerFold = "clips_per_fold", clipFolds = "clip_folds"
        }
    }

    public struct Counts: Sendable, Codable {
        public var found = 0, decoded = 0, skipped = 0, duplicates = 0, unassigned = 0, padded = 0, written = 0
        /// Clips whose features came from the cache (not recomputed), and stale cache entries removed.
        public var cached = 0, cachePruned = 0
        public init() {}
        enum CodingKeys: String, CodingKey {
            case found, decoded, skipped, duplicates, unassigned, padded, written, cached, cachePruned = "cache_pruned"
        }
    }

    /// Wall-clock seconds per phase, and per-clip stage seconds summed over workers.
    public struct Timings: Sendable, Codable {
        public var scan = 0.0, extract = 0.0, split = 0.0, normaliseAndWrite = 0.0, total = 0.0
        public var stages = StageTimings()
        public var shardStages = ShardTimings()
        public init() {}
        enum CodingKeys: String, CodingKey {
            case scan = "scan_s", extract = "extract_wall_s", split = "split_s"
            case normaliseAndWrite = "normalise_write_s", total = "total_s"
            case stages = "per_clip_stage_s_summed_over_workers", shardStages = "shard_stage_s_summed_over_workers"
        }
    }

    /// Seconds of the second half (per clip: read the scratch copy, normalise, append to its shard; per shard:
    /// commit), summed over workers.
    public struct ShardTimings: Sendable, Codable {
        public var scratchRead = 0.0, normalise = 0.0, append = 0.0, commit = 0.0
        public init() {}
        enum CodingKeys: String, CodingKey { case scratchRead = "scratch_read", normalise, append, commit }
        public static func += (a: inout ShardTimings, b: ShardTimings) {
            a.scratchRead += b.scratchRead
            a.normalise += b.normalise
            a.append += b.append
            a.commit += b.commit
        }
    }

    public struct Throughput: Sendable, Codable {
        public var clipsPerSecond = 0.0, audioSecondsPerSecond = 0.0
        public init() {}
        enum CodingKeys: String, CodingKey { case clipsPerSecond = "clips_per_s", audioSecondsPerSecond = "audio_s_per_s" }
    }

    public struct Duplicate: Sendable, Codable, Equatable {
        public var path: String
        public var duplicateOf: String
        enum CodingKeys: String, CodingKey { case path, duplicateOf = "duplicate_of" }
    }

    public struct ShardEntry: Sendable, Codable, Equatable {
        public var file: String
        public var split: String
        public var clips: Int
    }

    public struct Normalisation: Sendable, Codable {
        /// `per-band` or `none` (``PipelineConfiguration/NormalisationKind``); absent in reports written before
        /// it existed (which were all `per-band`).
        public var kind = PipelineConfiguration.NormalisationKind.perBand
        public var trainClips = 0
        public var trainFrames = 0
        public var mean: [Double] = []
        public var std: [Double] = []
        public init() {}
        enum CodingKeys: String, CodingKey { case kind, trainClips = "train_clips", trainFrames = "train_frames", mean, std }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            kind = try c.decodeIfPresent(PipelineConfiguration.NormalisationKind.self, forKey: .kind) ?? .perBand
            trainClips = try c.decode(Int.self, forKey: .trainClips)
            trainFrames = try c.decode(Int.self, forKey: .trainFrames)
            mean = try c.decode([Double].self, forKey: .mean)
            std = try c.decode([Double].self, forKey: .std)
        }
    }

    enum CodingKeys: String, CodingKey {
        case genrekitVersion = "genrekit_version", started, finished, corpus, output, jobs, configuration, classes
        case counts, timings, throughput, skipped, warnings, duplicates, padded, shorterThanFrame = "shorter_than_frame"
        case perSplit = "per_split", shards, normalisation
        case splitListUnmatched = "split_list_unmatched", splitListConflicts = "split_list_conflicts", parts, kfold
    }

    /// Writes the report as pretty JSON, atomically.
    public func write(to path: String) throws(PipelineError) {
        do {
            try FileSystem.writeJSONAtomically(self, to: path)
        } catch {
            throw PipelineError(path: path, reason: "cannot write the report: \(error)")
        }
    }
}

/// The version written into shards, checkpoints and reports.
public enum GenreKitVersion {
    public static let current = "0.1.0"
}

extension Date {
    var iso8601: String { ISO8601DateFormatter().string(from: self) }
}
