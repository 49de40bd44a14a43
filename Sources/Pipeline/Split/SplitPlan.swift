/// The outcome of the split stage: manifest indices of the clips of each split, in manifest order.
struct SplitPlan: Sendable {
    var clips: [DataSplit: [Int]] = [:]
    /// Method `kfold`: the fold of every clip of the plan, by manifest index (empty for the other methods).
    var folds: [Int: Int] = [:]

    /// The clips of `split`, in manifest order.
    subscript(split: DataSplit) -> [Int] { clips[split] ?? [] }

    /// Every clip of every split, in manifest order.
    var allClips: [Int] { clips.values.flatMap { $0 }.sorted() }
}
