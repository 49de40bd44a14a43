/// The outcome of the split stage: manifest indices of the clips of each split, in manifest order.
struct SplitPlan: Sendable {
    var clips: [DataSplit: [Int]] = [:]

    /// The clips of `split`, in manifest order.
    subscript(split: DataSplit) -> [Int] { clips[split] ?? [] }

    /// Every clip of every split, in manifest order.
    var allClips: [Int] { clips.values.flatMap { $0 }.sorted() }
}
