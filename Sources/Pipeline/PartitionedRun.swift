import GenreCore
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

extension Preprocessor {
    /// Runs one part of a partitioned job (``Partition``): scans the whole corpus, extracts the features of the
    /// part's files into the part's own folder (`<out>/parts/part-K-of-N/`; nothing there is written by another
    /// part) and writes its ``PartRecord``. Interrupted or rerun, it reuses the clips its cache already holds.
    /// `genre merge` turns the complete parts into shards.
    public func runPart(_ part: Partition) throws(PipelineError) -> PartRecord {
        let clock = ContinuousClock()
        let start = clock.now
        let scan: CorpusScan
        do {
            scan = try scanCorpus(part: part)
        } catch {
            throw PipelineError(path: error.path, reason: error.reason)
        }
        let output = try createOutputFolder()
        let folder = PartRecord.folder(of: part, in: output)
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw PipelineError(path: folder, reason: "cannot create the part's folder: \(CorpusScanner.reason(error))")
        }
        let lock = try OutputLock(directory: folder)
        defer { lock.release() }
        // Until this run completes, the part is incomplete (a merge must not use an earlier run's record).
        let recordPath = "\(folder)/\(PartRecord.fileName)"
        unlink(recordPath)
        // --no-cache recomputes every clip, but the entries are still stored: the merge reads them.
        let cacheFolder = "\(folder)/cache"
        let cache = try FeatureCache(directory: cacheFolder, configuration: configuration, reuse: options.useCache)

        let inputs = scan.files.map { ExtractionInput(path: $0.path, header: $0.header) }
        let (results, fatal) = extractAll(inputs, root: scan.root, cache: cache)
        if let fatal { throw fatal }
        try stopIfCancelled(done: results.count { !$0.isPending }, of: results.count, cacheFolder: cacheFolder)

        var clips: [PartRecord.Clip] = []
        var skipped: [SkippedFile] = []
        var statistics = BandStatistics(bands: configuration.mel.nMels)
        var stages = StageTimings()
        var cached = 0
        for (i, result) in results.enumerated() {
            switch result {
            case .extracted(let outcome, let key, let fromCache):
                clips.append(PartRecord.Clip(path: inputs[i].path, key: key, outcome: outcome))
                statistics.merge(outcome.statistics)
                if fromCache { cached += 1 } else { stages += outcome.timings }
            case .skipped(let skip):
                skipped.append(skip)
            case .pending:
                break
            }
        }
        _ = cache.prune(keeping: Set(clips.map(\.key)))
        let record = PartRecord(
            part: part, finished: Date().iso8601, configuration: configuration, featureParameters: cache.parametersKey,
            scan: scan, clips: clips, skipped: skipped, statistics: statistics, cached: cached, stages: stages,
            seconds: (clock.now - start).seconds)
        try writeJSON(record, to: recordPath)
        return record
    }

    /// Merges the complete parts of a partitioned run in `output` into shards, `split.tsv` and `report.json`:
    /// exactly what one run over the whole corpus with the same configuration writes (the same manifest, the same
    /// per-clip features and partial statistics, combined in the same order). Refuses, naming the part, when a part
    /// is missing or incomplete, or was made with another configuration or from another corpus listing. Safe to
    /// run again: the parts are only read, and shards are replaced atomically.
    /// - Parameters:
    ///   - count: the number of parts; nil: the one count found under `<output>/parts`.
    public static func merge(
        output: String, count: Int? = nil, jobs: Int? = nil, progress: any ProgressObserver = SilentProgress(),
        cancellation: CancellationFlag? = nil
    ) throws(PipelineError) -> RunReport {
        let clock = ContinuousClock()
        let start = clock.now
        let output = URL(fileURLWithPath: output).standardizedFileURL.path
        let records = try loadParts(in: output, count: count)
        let first = records[0]
        let options = PreprocessOptions(corpus: first.scan.root, output: output, jobs: jobs, cancellation: cancellation)
        let preprocessor = Preprocessor(configuration: first.configuration, options: options, progress: progress)
        let lock = try OutputLock(directory: output)
        defer { lock.release() }

        let manifest: Manifest
        do {
            manifest = try Manifest(assembling: records.map(\.scan))
        } catch {
            throw PipelineError(path: error.path, reason: error.reason)
        }
        var report = preprocessor.startReport()
        report.classes = manifest.classes
        report.counts.found = manifest.entries.count + manifest.skipped.count
        report.skipped = manifest.skipped + records.flatMap(\.skipped)
        report.parts = records.map { RunReport.PartEntry(part: $0.part.description, clips: $0.clips.count, seconds: $0.seconds) }

        var clipOf: [String: (clip: PartRecord.Clip, cache: FeatureCache)] = [:]
        for record in records {
            let cache = FeatureCache(
                reading: "\(PartRecord.folder(of: record.part, in: output))/cache", parametersKey: record.featureParameters)
            for clip in record.clips { clipOf[clip.path] = (clip, cache) }
            report.timings.stages += record.stages
        }
        var extracted: [Int: Extracted] = [:]
        for (i, entry) in manifest.entries.enumerated() {
            guard let found = clipOf[entry.path] else { continue }
            extracted[i] = Extracted(entry: entry, outcome: found.clip.outcome, key: found.clip.key, cache: found.cache)
        }
        report.counts.cached = extracted.count
        report.timings.scan = (clock.now - start).seconds
        progress.message("merge: \(records.count) parts, \(extracted.count) clips")
        return try preprocessor.complete(
            manifest: manifest, extracted: extracted, report: &report, output: output,
            cacheFolder: PartRecord.partsFolder(in: output), pruning: nil, started: start)
    }

    /// The records of parts 1…N, checked against each other.
    static func loadParts(in output: String, count: Int?) throws(PipelineError) -> [PartRecord] {
        let partsFolder = PartRecord.partsFolder(in: output)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: partsFolder)) ?? []
        var counts = Set<Int>()
        for name in names {
            let fields = name.split(separator: "-")
            if fields.count == 4, fields[0] == "part", fields[2] == "of", let n = Int(fields[3]) { counts.insert(n) }
        }
        guard let n = count ?? counts.first, count != nil || counts.count == 1 else {
            if counts.isEmpty {
                throw PipelineError(
                    path: output, reason: "no parts to merge (expected parts/part-K-of-N/ from genre preprocess --part K/N)")
            }
            throw PipelineError(
                path: partsFolder,
                reason: "parts of runs split \(counts.sorted().map(String.init).joined(separator: " and ")) ways are here: "
                    + "give --parts N, or remove the stale ones")
        }
        var records: [PartRecord] = []
        var missing: [String] = []
        for k in 1...max(1, n) {
            let part = try Partition(index: k, count: n)
            let path = "\(PartRecord.folder(of: part, in: output))/\(PartRecord.fileName)"
            guard FileManager.default.fileExists(atPath: path) else {
                missing.append(part.description)
                continue
            }
            let record: PartRecord
            do {
                record = try JSONDecoder().decode(PartRecord.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
            } catch {
                throw PipelineError(path: path, reason: "not a readable part record (\(CorpusScanner.reason(error)))")
            }
            guard record.schema == PartRecord.schema else {
                throw PipelineError(path: path, reason: "part record schema '\(record.schema)', expected '\(PartRecord.schema)'")
            }
            guard record.part == part else {
                throw PipelineError(path: path, reason: "records part \(record.part), expected \(part)")
            }
            records.append(record)
        }
        guard missing.isEmpty else {
            throw PipelineError(
                path: partsFolder,
                reason: "part\(missing.count > 1 ? "s" : "") \(missing.joined(separator: ", ")) missing or incomplete: run "
                    + "genre preprocess … --part \(missing.count > 1 ? "K/\(n) for each" : missing[0]), then merge again")
        }
        let first = records[0]
        for record in records.dropFirst() {
            let path = "\(PartRecord.folder(of: record.part, in: output))/\(PartRecord.fileName)"
            if record.configuration != first.configuration || record.featureParameters != first.featureParameters {
                let keys = differingKeys(record.configuration.jsonText(), first.configuration.jsonText())
                throw PipelineError(
                    path: path,
                    reason: "part \(record.part) was made with other parameters than part \(first.part)"
                        + (keys.isEmpty ? " (another GenreKit version)" : " (\(keys.joined(separator: ", ")))")
                        + ": run every part with the same pipeline file")
            }
            if record.scan.root != first.scan.root || record.scan.listingDigest != first.scan.listingDigest
                || record.scan.classFolders != first.scan.classFolders
            {
                throw PipelineError(
                    path: path,
                    reason: "part \(record.part) saw another corpus than part \(first.part) (\(record.scan.listedFiles) "
                        + "files under \(record.scan.root), against \(first.scan.listedFiles) under \(first.scan.root)): "
                        + "the corpus changed between the parts' runs; run the changed parts again")
            }
        }
        return records
    }

    /// Dotted keys whose values differ between two JSON objects (`mel.n_mels`).
    static func differingKeys(_ a: String, _ b: String) -> [String] {
        func flatten(_ value: Any, _ prefix: String, into out: inout [String: String]) {
            if let object = value as? [String: Any] {
                for (k, v) in object { flatten(v, prefix.isEmpty ? k : "\(prefix).\(k)", into: &out) }
            } else {
                out[prefix] = "\(value)"
            }
        }
        var fa: [String: String] = [:], fb: [String: String] = [:]
        if let x = try? JSONSerialization.jsonObject(with: Data(a.utf8)) { flatten(x, "", into: &fa) }
        if let y = try? JSONSerialization.jsonObject(with: Data(b.utf8)) { flatten(y, "", into: &fb) }
        return Set(fa.keys).union(fb.keys).filter { fa[$0] != fb[$0] }.sorted()
    }
}

/// Writes a value as JSON under a temporary name and renames it when complete.
func writeJSON(_ value: some Encodable, to path: String) throws(PipelineError) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    do {
        try encoder.encode(value).write(to: URL(fileURLWithPath: path), options: .atomic)
    } catch {
        throw PipelineError(path: path, reason: "cannot write: \(CorpusScanner.reason(error))")
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
