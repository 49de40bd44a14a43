import GenreCore

extension Splitter {
    /// Stratified k-fold assignment: the fold (`0..<folds`) of every clip, given its class label.
    ///
    /// The rule: classes are taken in label order, with one SplitMix64 generator (seeded with `seed`) running through
    /// them as in ``stratified(labels:classCount:train:valid:test:seed:)``. Within class `c` the clips (in the order
    /// given) are put in a seeded permutation and dealt round-robin: the `j`-th clip of the permutation goes to fold
    /// `(start_c + j) % folds`, where `start_c` is the number of clips of the classes before `c`, modulo `folds`. So
    /// the deal runs on across class boundaries as if the classes were one deck: each class has `n_c / folds`
    /// clips in every fold within ±1, and so has the whole corpus.
    ///
    /// The result depends on the labels, their order, `folds` and `seed` only (not on which fold is tested), so all
    /// K runs of a cross-validation partition the same clips.
    public static func kfold(labels: [Int], classCount: Int, folds: Int, seed: UInt64) -> [Int] {
        precondition(folds >= 1, "at least one fold")
        var result = [Int](repeating: 0, count: labels.count)
        var rng = SplitMix64(seed: seed)
        var dealt = 0
        for c in 0..<classCount {
            var members = labels.indices.filter { labels[$0] == c }
            guard !members.isEmpty else { continue }
            rng.shuffle(&members)
            let start = dealt % folds
            for (j, i) in members.enumerated() { result[i] = (start + j) % folds }
            dealt += members.count
        }
        return result
    }

    /// The split of a clip in fold `clipFold` when fold `testFold` of `folds` is tested: the test fold is test, the
    /// next one (`(testFold + 1) % folds`) valid, every other fold train.
    public static func split(ofFold clipFold: Int, testFold: Int, folds: Int) -> DataSplit {
        if clipFold == testFold { return .test }
        if clipFold == (testFold + 1) % folds { return .valid }
        return .train
    }
}
