import Foundation

/// The merge of a partitioned run: loads the complete parts' records (``PartRecord``), checks them against each
/// other, and turns them into what one run over the whole corpus would hold after extraction — the same manifest,
/// the same per-clip features (in each part's own cache) and partial statistics — for the runner's second half.
enum PartMerger {
    /// The merged first half: the corpus manifest and the extracted clips, keyed by manifest index.
    struct Merged {
        var records: [PartRecord]
        var manifest: Manifest
        var clips: [Int: ExtractedClip]
    }

    /// Loads the parts of the run in `output` (`count` of them, or the one count found) and merges them.
    static func merge(in output: String, count: Int?) throws(PipelineError) -> Merged {
        let records = try loadParts(in: output, count: count)
        let manifest: Manifest
        do { manifest = try Manifest(assembling: records.map(\.scan)) } catch { throw PipelineError(error) }
        var clipOf: [String: (clip: PartRecord.Clip, cache: FeatureCache)] = [:]
        for record in records {
            let cache = FeatureCache(
                reading: "\(PartRecord.folder(of: record.part, in: output))/cache", parametersKey: record.featureParameters)
            for clip in record.clips { clipOf[clip.path] = (clip, cache) }
        }
        var clips: [Int: ExtractedClip] = [:]
        for (i, entry) in manifest.entries.enumerated() {
            guard let found = clipOf[entry.path] else { continue }
            clips[i] = ExtractedClip(entry: entry, outcome: found.clip.outcome, key: found.clip.key, cache: found.cache)
        }
        return Merged(records: records, manifest: manifest, clips: clips)
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
