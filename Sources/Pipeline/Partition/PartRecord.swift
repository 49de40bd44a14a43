import Foundation

/// What one part of a partitioned run leaves for the merge, as `parts/part-K-of-N/part.json` beside that part's
/// feature cache (`parts/part-K-of-N/cache/`): its scan, every clip it extracted with the clip's feature-cache key
/// and outcome (including the clip's per-band partial statistics: count, mean, M2), the files it skipped, and the
/// configuration it ran with. Written last, under a temporary name: a part whose `part.json` exists is complete.
public struct PartRecord: Sendable, Codable {
    public static let schema = "genrekit-part/1"
    public static let fileName = "part.json"

    public var schema = PartRecord.schema
    public var genrekitVersion = GenreKitVersion.current
    public var part: Partition
    public var finished: String
    /// The resolved pipeline configuration (every part of one run must have the same).
    public var configuration: PipelineConfiguration
    /// The feature cache's parameters key: the same for parts whose features are interchangeable.
    public var featureParameters: String
    public var scan: CorpusScan
    /// Clips extracted, in scan order.
    public var clips: [Clip]
    /// Files that failed to decode or read.
    public var skipped: [SkippedFile]
    /// The part's clips' statistics merged (information: the merge combines the train clips' own partials).
    public var statistics: BandStatistics
    /// Clips found in the part's cache, and per-clip stage seconds summed over the part's workers.
    public var cached: Int
    public var stages: StageTimings
    public var seconds: Double

    public struct Clip: Sendable, Codable {
        public var path: String
        public var key: String
        public var outcome: ClipOutcome
    }

    enum CodingKeys: String, CodingKey {
        case schema, genrekitVersion = "genrekit_version", part, finished, configuration
        case featureParameters = "feature_parameters", scan, clips, skipped, statistics, cached, stages, seconds
    }

    /// `<output>/parts`.
    public static func partsFolder(in output: String) -> String { "\(output)/parts" }

    /// `<output>/parts/part-K-of-N`.
    public static func folder(of part: Partition, in output: String) -> String {
        "\(partsFolder(in: output))/\(part.folderName)"
    }
}

extension PartRecord {
    /// Files of this part not used: unusable at the scan, or failing to decode or read.
    public var skippedCount: Int { scan.skipped.count + skipped.count }

    /// The closing lines of a part's run.
    public func summary(output: String) -> String {
        var lines = ["part \(part): \(clips.count) clips of \(scan.files.count) files (\(scan.listedFiles) in the corpus), "
            + String(format: "%.2f s", seconds) + (cached > 0 ? "; \(cached) from the part's cache" : "")]
        if skippedCount > 0 { lines.append("\(skippedCount) files skipped (listed in part.json)") }
        lines.append("record: \(PartRecord.folder(of: part, in: output))/\(PartRecord.fileName); "
            + "when every part is done: genre merge \(output)")
        return lines.joined(separator: "\n")
    }
}
