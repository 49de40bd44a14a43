import GenreCore
import Foundation

/// The split stage: train, valid and test, either stratified by class with a seed (``Splitter/stratified``) over
/// the clips left after duplicates, or from split-list files (``Splitter/fromLists``), which decide before
/// duplicates are looked for (a duplicate keeps its first copy that a list names).
struct SplitAssignment: Sendable {
    let settings: PipelineConfiguration.Split
    let classCount: Int
    let progress: any ProgressObserver
    /// The paths each split list names (method `lists`), read when the stage is made.
    let lists: [DataSplit: [String]]

    init(_ settings: PipelineConfiguration.Split, classCount: Int, progress: any ProgressObserver) throws(PipelineError) {
        self.settings = settings
        self.classCount = classCount
        self.progress = progress
        var lists: [DataSplit: [String]] = [:]
        if settings.method == .lists {
            for (split, file) in [(DataSplit.train, settings.trainList), (.valid, settings.validList), (.test, settings.testList)] {
                guard let file else { continue }
                guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                    throw PipelineError(path: file, reason: "cannot read the \(split.rawValue) split list")
                }
                lists[split] = Splitter.parseList(text)
            }
        }
        self.lists = lists
    }

    /// The split the lists give each of `usable` (manifest indices); empty for a random split. Records list
    /// entries that match no file, and paths named by two lists, in `report`.
    func listedSplits(of usable: [Int], manifest: Manifest, report: inout RunReport) -> [Int: DataSplit] {
        guard settings.method == .lists else { return [:] }
        let matched = Splitter.fromLists(paths: usable.map { manifest.entries[$0].path }, lists: lists)
        var listed: [Int: DataSplit] = [:]
        for (k, i) in usable.enumerated() { listed[i] = matched.splits[k] }
        report.splitListUnmatched = Dictionary(uniqueKeysWithValues: matched.unmatched.map { ($0.key.rawValue, $0.value) })
        report.splitListConflicts = matched.conflicts
        return listed
    }

    /// The clips that can go into a split, so the ones duplicates are looked for among: every usable clip, or
    /// (lists) the ones a list names.
    func candidates(_ usable: [Int], listed: [Int: DataSplit]) -> [Int] {
        settings.method == .lists ? usable.filter { listed[$0] != nil } : usable
    }

    /// The split of every unique clip: stratified by class with the seed, or as listed (usable clips in no list
    /// are reported and not written).
    func plan(unique: [Int], usable: [Int], listed: [Int: DataSplit], manifest: Manifest, report: inout RunReport) -> SplitPlan {
        var splitOf = listed
        if settings.method == .random {
            let assigned = Splitter.stratified(
                labels: unique.map { manifest.entries[$0].label }, classCount: classCount, train: settings.train,
                valid: settings.valid, test: settings.test, seed: settings.seed)
            for (k, i) in unique.enumerated() { splitOf[i] = assigned[k] }
        } else {
            let unassigned = usable.filter { listed[$0] == nil }
            report.counts.unassigned = unassigned.count
            if !unassigned.isEmpty {
                progress.message("\(unassigned.count) clips are in no split list: not written (listed in report.json)")
                for i in unassigned {
                    report.skipped.append(SkippedFile(path: manifest.entries[i].path, stage: "split", reason: "in no split list"))
                }
            }
        }
        var plan = SplitPlan()
        for i in unique { if let split = splitOf[i] { plan.clips[split, default: []].append(i) } }
        return plan
    }
}
