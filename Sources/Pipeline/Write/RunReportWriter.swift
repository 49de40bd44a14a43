import Foundation

/// The report stage: fills `report.json` (``RunReport``) as the run goes — settings, scan, decoding — and at the
/// end counts, per-split tallies, padded clips, timings and throughput, then writes it.
enum RunReportWriter {
    /// A report with the run's settings filled in.
    static func started(configuration: PipelineConfiguration, options: PreprocessOptions) -> RunReport {
        var report = RunReport()
        report.started = Date().iso8601
        report.corpus = options.corpus
        report.output = options.output
        report.jobs = options.jobs
        report.configuration = configuration
        return report
    }

    /// What the scan found (and `skipped`: files the parts of a merged run could not decode).
    static func record(_ manifest: Manifest, skipped: [SkippedFile], into report: inout RunReport, seconds: Double) {
        report.classes = manifest.classes
        report.counts.found = manifest.entries.count + manifest.skipped.count
        report.skipped = manifest.skipped + skipped
        report.timings.scan = seconds
    }

    /// The decoded clips (and the warnings of the damaged ones that could still be used).
    /// - Throws: when no clip could be decoded.
    static func recordDecoded(_ clips: [Int: ExtractedClip], into report: inout RunReport, corpus: String) throws(PipelineError) {
        for i in clips.keys.sorted() {
            if let warning = clips[i]!.outcome.warning {
                report.warnings.append(SkippedFile(path: clips[i]!.entry.path, stage: "decode", reason: warning))
            }
        }
        report.counts.decoded = clips.count
        guard !clips.isEmpty else {
            throw PipelineError(path: corpus, reason: "no clip could be decoded; nothing to write (see the lines above)")
        }
    }

    /// The closing counts and timings; writes the report to `path`.
    static func finish(
        _ report: inout RunReport, plan: SplitPlan, clips: [Int: ExtractedClip], started: ContinuousClock.Instant,
        writingTo path: String
    ) throws(PipelineError) {
        for split in DataSplit.allCases {
            var perClass: [String: Int] = [:]
            for i in plan[split] { perClass[clips[i]!.entry.className, default: 0] += 1 }
            report.perSplit[split.rawValue] = perClass
        }
        let written = plan.allClips
        report.counts.written = report.shards.reduce(0) { $0 + $1.clips }
        report.counts.skipped = report.skipped.count
        report.padded = written.filter { clips[$0]!.outcome.padded }.map { clips[$0]!.entry.path }
        report.shorterThanFrame = written.filter { clips[$0]!.outcome.shorterThanFrame }.map { clips[$0]!.entry.path }
        report.counts.padded = report.padded.count
        report.timings.total = (ContinuousClock.now - started).seconds
        let audioSeconds = written.reduce(0.0) { $0 + clips[$1]!.outcome.sourceSeconds }
        report.throughput.clipsPerSecond = Double(report.counts.written) / report.timings.total
        report.throughput.audioSecondsPerSecond = audioSeconds / report.timings.total
        report.finished = Date().iso8601
        try report.write(to: path)
    }
}
