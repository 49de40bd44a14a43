import GenreCore
/// The duplicates stage: exact duplicates (the same decoded audio, by ``ContentHash``, under two names) keep their
/// first copy in manifest order; the others are reported and dropped, so a recording never lands in two splits.
struct DuplicateFinder: Sendable {
    var progress: any ProgressObserver

    /// The first copy of each recording among `candidates` (manifest indices, in manifest order). Records every
    /// dropped copy in `report` (`duplicates`, `skipped`, `counts.duplicates`).
    func firstCopies(among candidates: [Int], clips: [Int: ExtractedClip], report: inout RunReport) -> [Int] {
        var firstOf: [ContentHash: Int] = [:]
        var unique: [Int] = []
        for i in candidates {
            let clip = clips[i]!
            if let kept = firstOf[clip.outcome.contentHash] {
                let path = clip.entry.path, original = clips[kept]!.entry.path
                report.duplicates.append(.init(path: path, duplicateOf: original))
                report.skipped.append(SkippedFile(path: path, stage: "duplicate", reason: "same audio as \(original): dropped"))
                progress.message("duplicate \(path): same audio as \(original), dropped")
                continue
            }
            firstOf[clip.outcome.contentHash] = i
            unique.append(i)
        }
        report.counts.duplicates = report.duplicates.count
        return unique
    }
}
