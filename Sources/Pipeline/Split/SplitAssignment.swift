import GenreCore
import Foundation

/// The split stage: train, valid and test, either stratified by class with a seed (``Splitter/stratified``) over
/// the clips left after duplicates, or from split-list files (``Splitter/fromLists``), which decide before
/// duplicates are looked for (a duplicate keeps its first copy that a list names), or by stratified folds
/// (``Splitter/kfold(labels:classCount:folds:seed:)``) over the clips left after duplicates (and, when lists are
/// given with `kfold`, named by one of them), so that a recording never crosses folds.
struct SplitAssignment: Sendable {
    let settings: PipelineConfiguration.Split
    let classCount: Int
    let progress: any ProgressObserver
    /// The paths each split list names (methods `lists` and `kfold`), read when the stage is made.
    let lists: [DataSplit: [String]]

    init(_ settings: PipelineConfiguration.Split, classCount: Int, progress: any ProgressObserver) throws(PipelineError) {
        self.settings = settings
        self.classCount = classCount
        self.progress = progress
        var lists: [DataSplit: [String]] = [:]
        if settings.method != .random {
            for (split, file) in settings.listFiles {
                guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                    throw PipelineError(path: file, reason: "cannot read the \(split.rawValue) split list")
                }
                lists[split] = Splitter.parseList(text)
            }
        }
        self.lists = lists
    }

    /// Whether split lists choose the clips that take part: method `lists`, or `kfold` with lists given.
    var listsFilter: Bool { settings.method == .lists || (settings.method == .kfold && !lists.isEmpty) }

    /// The split the lists give each of `usable` (manifest indices); empty for a random split (and for a k-fold
    /// split without lists). With `kfold` only whether a clip is listed matters. Records list entries that match no
    /// file, and paths named by two lists, in `report`.
    func listedSplits(of usable: [Int], manifest: Manifest, report: inout RunReport) -> [Int: DataSplit] {
        guard listsFilter else { return [:] }
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
        listsFilter ? usable.filter { listed[$0] != nil } : usable
    }

    /// The split of every unique clip: stratified by class with the seed, as listed, or by its fold (k-fold); usable
    /// clips in no list (methods `lists` and `kfold` with lists) are reported and not written. With `kfold` the
    /// fold of every written clip goes into the plan and the report.
    func plan(unique: [Int], usable: [Int], listed: [Int: DataSplit], manifest: Manifest, report: inout RunReport) -> SplitPlan {
        var splitOf: [Int: DataSplit] = settings.method == .lists ? listed : [:]
        var foldOf: [Int: Int] = [:]
        switch settings.method {
        case .random:
            let assigned = Splitter.stratified(
                labels: unique.map { manifest.entries[$0].label }, classCount: classCount, train: settings.train,
                valid: settings.valid, test: settings.test, seed: settings.seed)
            for (k, i) in unique.enumerated() { splitOf[i] = assigned[k] }
        case .kfold:
            let folds = Splitter.kfold(
                labels: unique.map { manifest.entries[$0].label }, classCount: classCount, folds: settings.folds,
                seed: settings.seed)
            for (k, i) in unique.enumerated() {
                foldOf[i] = folds[k]
                splitOf[i] = Splitter.split(ofFold: folds[k], testFold: settings.fold, folds: settings.folds)
            }
            var sizes = [Int](repeating: 0, count: settings.folds)
            for f in folds { sizes[f] += 1 }
            progress.message("k-fold: fold \(settings.fold) of \(settings.folds) is test, fold "
                             + "\((settings.fold + 1) % settings.folds) valid; clips per fold \(sizes)")
            report.kfold = RunReport.KFold(
                folds: settings.folds, fold: settings.fold, clipsPerFold: sizes,
                clipFolds: Dictionary(uniqueKeysWithValues: foldOf.map { (manifest.entries[$0.key].path, $0.value) }))
        case .lists:
            break
        }
        if listsFilter {
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
        plan.folds = foldOf
        return plan
    }
}
