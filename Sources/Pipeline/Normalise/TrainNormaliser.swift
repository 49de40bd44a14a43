/// The normalisation stage (`[normalise] kind`).
///
/// `per-band`: per-mel-band mean and standard deviation (ddof 0, float64, in the features' unit) fitted on the
/// train split only, by merging the clips' own partial statistics in manifest order (so the result depends neither
/// on the number of workers nor on how a run was partitioned), and applied to every clip as `(x - mean) / std`.
/// `none`: the features are written as computed; `mean` is 0 and `std` 1 for every band (what the shards store).
struct TrainNormaliser: Sendable {
    let kind: PipelineConfiguration.NormalisationKind
    /// The train split's statistics (also with `none`: the report shows them).
    let statistics: BandStatistics
    let trainClips: Int
    /// Per band, as float32 (what the shards store and the features are normalised with).
    let mean: [Float], std: [Float], inverseStd: [Float]

    /// - Throws: with `per-band`, when the train split is empty (nothing to fit).
    init(
        _ kind: PipelineConfiguration.NormalisationKind, fittingOn plan: SplitPlan, clips: [Int: ExtractedClip],
        bands: Int, corpus: String
    ) throws(PipelineError) {
        var statistics = BandStatistics(bands: bands)
        for i in plan[.train] { statistics.merge(clips[i]!.outcome.statistics) }
        self.kind = kind
        self.statistics = statistics
        trainClips = plan[.train].count
        switch kind {
        case .perBand:
            guard statistics.count > 0 else {
                throw PipelineError(path: corpus, reason: "the train split is empty: no statistics to normalise with")
            }
            mean = statistics.mean.map { Float($0) }
            std = statistics.standardDeviation.map { Float($0) }
            inverseStd = statistics.standardDeviation.map { Float(1 / $0) }
        case .none:
            mean = [Float](repeating: 0, count: bands)
            std = [Float](repeating: 1, count: bands)
            inverseStd = std
        }
    }

    /// What `report.json` says about the normalisation: its kind, the train split's size, and the statistics
    /// applied (per band; `none`: 0 and 1).
    var summary: RunReport.Normalisation {
        var summary = RunReport.Normalisation()
        summary.kind = kind
        summary.trainClips = trainClips
        summary.trainFrames = statistics.count
        switch kind {
        case .perBand:
            summary.mean = statistics.mean
            summary.std = statistics.standardDeviation
        case .none:
            summary.mean = [Double](repeating: 0, count: mean.count)
            summary.std = [Double](repeating: 1, count: std.count)
        }
        return summary
    }

    /// Normalises one clip in place, layout `[bands, frames]`: `(x - mean[b]) * (1 / std[b])`; with `none`, leaves
    /// it as it is.
    func apply(to x: UnsafeMutableBufferPointer<Float>, frames: Int) {
        guard kind == .perBand else { return }
        for b in 0..<mean.count {
            let m = mean[b], s = inverseStd[b]
            let row = UnsafeMutableBufferPointer(rebasing: x[(b * frames)..<((b + 1) * frames)])
            for t in row.indices { row[t] = (row[t] - m) * s }
        }
    }
}
