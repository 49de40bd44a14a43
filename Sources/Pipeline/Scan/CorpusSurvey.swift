import AudioIO
import Foundation

/// `genre scan`: the manifest of a corpus plus what only decoding tells — files that do not decode and exact
/// duplicates (the same decoded samples under two names) — summarised for a person and as JSON.
public struct CorpusSurvey: Sendable, Codable {
    public var manifest: Manifest
    /// Groups of paths with identical decoded audio (first path first); empty when not decoded.
    public var duplicateGroups: [[String]]
    public var decoded: Bool

    /// Scans `root`; with `decode`, also decodes every file (on `jobs` threads) to find undecodable files and duplicates.
    public static func run(root: String, extensions: [String], jobs: Int, decode: Bool) throws(PipelineError) -> CorpusSurvey {
        var manifest: Manifest
        do {
            manifest = try CorpusScanner(root: root, extensions: extensions, jobs: jobs).scan()
        } catch {
            throw PipelineError(path: error.path, reason: error.reason)
        }
        guard decode else { return CorpusSurvey(manifest: manifest, duplicateGroups: [], decoded: false) }
        let entries = manifest.entries, base = manifest.root
        let hashes: [Result<ContentHash, AudioError>] = parallelMap(count: entries.count, workers: jobs) { i in
            Result { () throws(AudioError) in
                let audio = try AudioDecoder.decodeMono(path: base + "/" + entries[i].path)
                return audio.samples.withUnsafeBufferPointer { ContentHash(samples: $0, sampleRate: audio.sampleRate) }
            }
        }
        var kept: [ManifestEntry] = []
        var groups: [ContentHash: [String]] = [:]
        var order: [ContentHash] = []
        for (i, r) in hashes.enumerated() {
            switch r {
            case .failure(let e):
                manifest.skipped.append(SkippedFile(path: entries[i].path, stage: "decode", reason: e.message))
            case .success(let h):
                kept.append(entries[i])
                if groups[h] == nil { order.append(h) }
                groups[h, default: []].append(entries[i].path)
            }
        }
        manifest.entries = kept
        let duplicates = order.compactMap { groups[$0]!.count > 1 ? groups[$0]! : nil }
        return CorpusSurvey(manifest: manifest, duplicateGroups: duplicates, decoded: true)
    }

    /// A human-readable summary.
    public var text: String {
        let m = manifest
        var lines: [String] = []
        let total = m.entries.reduce(0.0) { $0 + $1.info.seconds }
        lines.append("corpus \(m.root): \(m.entries.count) usable files in \(m.classes.count) classes, "
                     + String(format: "%.2f h of audio", total / 3600))
        let width = max(8, m.classes.map(\.count).max() ?? 0)
        lines.append("  " + "class".padding(toLength: width, withPad: " ", startingAt: 0) + "  files   seconds (min / mean / max)")
        for (label, name) in m.classes.enumerated() {
            let s = m.entries.filter { $0.label == label }.map(\.info.seconds)
            let mean = s.isEmpty ? 0 : s.reduce(0, +) / Double(s.count)
            lines.append("  " + name.padding(toLength: width, withPad: " ", startingAt: 0)
                         + String(format: "  %5d   %.1f / %.1f / %.1f", s.count, s.min() ?? 0, mean, s.max() ?? 0))
        }
        func tally(_ key: (ManifestEntry) -> String) -> String {
            var c: [String: Int] = [:]
            for e in m.entries { c[key(e), default: 0] += 1 }
            return c.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
                .map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")
        }
        lines.append("  formats: " + tally { "\($0.info.container) \($0.info.encoding)" })
        lines.append("  sample rates: " + tally { "\($0.info.sampleRate) Hz" })
        lines.append("  channels: " + tally { "\($0.info.channels)" })
        if !m.skipped.isEmpty {
            lines.append("skipped \(m.skipped.count):")
            for s in m.skipped { lines.append("  \(s.path): \(s.reason)") }
        }
        if decoded {
            if duplicateGroups.isEmpty {
                lines.append("duplicates: none (every file decoded)")
            } else {
                lines.append("duplicates: \(duplicateGroups.count) groups of identical audio (preprocess keeps the first of each)")
                for g in duplicateGroups { lines.append("  " + g.joined(separator: " = ")) }
            }
        }
        return lines.joined(separator: "\n")
    }

    public func writeJSON(to path: String) throws(PipelineError) {
        do {
            try FileSystem.writeJSONAtomically(self, to: path)
        } catch {
            throw PipelineError(path: path, reason: "cannot write: \(error)")
        }
    }
}

extension RunReport {
    /// The closing summary of a preprocessing run.
    public var summary: String {
        var lines: [String] = []
        let splits = DataSplit.allCases.map { s in "\(s.rawValue) \(perSplit[s.rawValue]?.values.reduce(0, +) ?? 0)" }
        lines.append("wrote \(counts.written) clips in \(shards.count) shards to \(output) (\(splits.joined(separator: ", ")))")
        lines.append(String(format: "%.2f s total, %.1f clips/s, %.0f s of audio per second; %d workers",
                            timings.total, throughput.clipsPerSecond, throughput.audioSecondsPerSecond, jobs))
        let s = timings.stages
        lines.append(String(format: "stages (s, summed over workers): decode %.2f, hash %.2f, resample %.2f, stft+mel+dB %.2f, "
                            + "stats %.2f, scratch %.2f; normalise+write %.2f s wall", s.decode, s.hash, s.resample,
                            s.spectral, s.statistics, s.scratch, timings.normaliseAndWrite))
        let w = timings.shardStages
        lines.append(String(format: "shards (s, summed over workers): read scratch %.2f, normalise %.2f, append %.2f, commit %.2f",
                            w.scratchRead, w.normalise, w.append, w.commit))
        var notes: [String] = []
        if counts.skipped > 0 { notes.append("\(counts.skipped) skipped") }
        if counts.duplicates > 0 { notes.append("\(counts.duplicates) duplicates dropped") }
        if counts.padded > 0 { notes.append("\(counts.padded) padded") }
        if counts.cached > 0 { notes.append("\(counts.cached) from the feature cache") }
        if !shorterThanFrame.isEmpty { notes.append("\(shorterThanFrame.count) shorter than one frame") }
        if !notes.isEmpty { lines.append(notes.joined(separator: ", ") + " (details in report.json)") }
        lines.append("report: \(output)/report.json")
        return lines.joined(separator: "\n")
    }
}
