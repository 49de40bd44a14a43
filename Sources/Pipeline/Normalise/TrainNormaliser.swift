/// The normalisation stage: per-mel-band mean and standard deviation (dB, ddof 0, float64) fitted on the train
/// split only, by merging the clips' own partial statistics in manifest order (so the result depends neither on
/// the number of workers nor on how a run was partitioned), and applied to every clip as `(x - mean) / std`.
struct TrainNormaliser: Sendable {
    /// The train split's statistics.
    let statistics: BandStatistics
    let trainClips: Int
    /// Per band, as float32 (what the shards store and the features are normalised with).
    let mean: [Float], std: [Float], inverseStd: [Float]

    /// - Throws: when the train split is empty (nothing to fit).
    init(fittingOn plan: SplitPlan, clips: [Int: ExtractedClip], bands: Int, corpus: String) throws(PipelineError) {
        var statistics = BandStatistics(bands: bands)
        for i in plan[.train] { statistics.merge(clips[i]!.outcome.statistics) }
        guard statistics.count > 0 else {
            throw PipelineError(path: corpus, reason: "the train split is empty: no statistics to normalise with")
        }
        self.statistics = statistics
        trainClips = plan[.train].count
        mean = statistics.mean.map { Float($0) }
        std = statistics.standardDeviation.map { Float($0) }
        inverseStd = statistics.standardDeviation.map { Float(1 / $0) }
    }

    /// What `report.json` says about the statistics applied.
    var summary: RunReport.Normalisation {
        var summary = RunReport.Normalisation()
        summary.trainClips = trainClips
        summary.trainFrames = statistics.count
        summary.mean = statistics.mean
        summary.std = statistics.standardDeviation
        return summary
    }

    /// Normalises one clip in place, layout `[bands, frames]`: `(x - mean[b]) * (1 / std[b])`.
    func apply(to x: UnsafeMutableBufferPointer<Float>, frames: Int) {
        for b in 0..<mean.count {
            let m = mean[b], s = inverseStd[b]
            let row = UnsafeMutableBufferPointer(rebasing: x[(b * frames)..<((b + 1) * frames)])
            for t in row.indices { row[t] = (row[t] - m) * s }
        }
    }
}
