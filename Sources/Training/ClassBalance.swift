import GenreCore

/// Class weights for the class-weighted cross-entropy (`[train] balance = "loss"`).
public enum ClassWeights {
    /// The "balanced" weights `w_c = N / (K · n_c)` of a training split, `[classCount]`: `N` clips, `K` classes
    /// that have at least one clip, `n_c` clips of class `c`; a class without clips gets 0 (it is ignored). Every
    /// present class then carries the same total weight `N / K`, and the weights' mean over the clips is 1
    /// (scikit-learn's `compute_class_weight("balanced")`). Labels outside `0..<classCount` are not counted.
    public static func balanced(labels: [Int32], classCount: Int) -> [Double] {
        var counts = [Int](repeating: 0, count: classCount)
        for label in labels where label >= 0 && Int(label) < classCount { counts[Int(label)] += 1 }
        let total = counts.reduce(0, +)
        let present = counts.filter { $0 > 0 }.count
        return counts.map { $0 > 0 ? Double(total) / (Double(present) * Double($0)) : 0 }
    }
}

/// The clip order of one epoch with `[train] balance = "sampler"`: as many positions as clips, shared equally
/// among the classes present, each class drawing its clips from its own seeded stream of permutations.
///
/// - Shares: with `N` clips and `K` classes present, every present class gets `N / K` positions, and the first
///   `N mod K` present classes in class order one more (the same classes every epoch: at most one position of
///   difference).
/// - Streams: class `c`'s stream is an endless sequence of permutations of its clips (clip indices ascending,
///   then shuffled); permutation `j` is drawn from a generator of (seed, `c`, `j`) alone. A class with fewer clips
///   than its share (a small class) starts every epoch on a fresh permutation, so an epoch holds every one of its
///   clips `⌊share / n_c⌋` times and `share mod n_c` of them once more. A class with more clips than its share (a
///   large class) continues through its stream from epoch to epoch: epoch `e` takes stream positions
///   `(e - 1)·share ..< e·share` (a clip can appear twice in an epoch when that range straddles two permutations).
/// - Either way the draws depend only on (seed, epoch, labels). The per-class picks, concatenated in class order,
///   are then shuffled by `EpochPlan` with the epoch's generator.
enum BalancedSampler {
    /// Clip indices (into `labels`) of epoch `epoch`, grouped by class in class order (not yet shuffled).
    static func picks(labels: [Int32], seed: UInt64, epoch: Int) -> [Int] {
        var members: [Int32: [Int]] = [:]
        for (clip, label) in labels.enumerated() { members[label, default: []].append(clip) }
        let classes = members.keys.sorted()
        guard !classes.isEmpty else { return [] }
        let base = labels.count / classes.count, rest = labels.count % classes.count
        var picks: [Int] = []
        picks.reserveCapacity(labels.count)
        for (rank, label) in classes.enumerated() {
            let clips = members[label]!
            let share = base + (rank < rest ? 1 : 0)
            let n = clips.count
            // Where the epoch's share starts in the class's stream of permutations.
            let start: Int
            if share >= n {
                let permutationsPerEpoch = (share + n - 1) / n
                start = (epoch - 1) * permutationsPerEpoch * n
            } else {
                start = (epoch - 1) * share
            }
            var cycle = Int.min, permutation: [Int] = []
            for position in start..<(start + share) {
                let (j, k) = floorDivision(position, n)
                if j != cycle {
                    cycle = j
                    permutation = clips
                    var generator = SplitMix64.forClassPermutation(seed: seed, classLabel: Int(label), cycle: j)
                    generator.shuffle(&permutation)
                }
                picks.append(permutation[k])
            }
        }
        return picks
    }

    /// `(q, r)` with `a = q·b + r`, `0 <= r < b` (`b > 0`), also for negative `a`.
    private static func floorDivision(_ a: Int, _ b: Int) -> (Int, Int) {
        let r = ((a % b) + b) % b
        return ((a - r) / b, r)
    }
}

extension SplitMix64 {
    /// The generator of permutation `cycle` of class `classLabel`'s clips in the balanced sampler: a hash of
    /// (`seed`, class, cycle), tagged so that it is unrelated to the epochs' generators.
    static func forClassPermutation(seed: UInt64, classLabel: Int, cycle: Int) -> SplitMix64 {
        var tagged = SplitMix64(seed: seed ^ 0x6A09_E667_F3BC_C909)
        var byClass = SplitMix64(seed: tagged.next() ^ (UInt64(bitPattern: Int64(classLabel)) &* 0x9E37_79B9_7F4A_7C15))
        var byCycle = SplitMix64(seed: byClass.next() ^ (UInt64(bitPattern: Int64(cycle)) &* 0xD1B5_4A32_D192_ED03))
        return SplitMix64(seed: byCycle.next())
    }
}
