import Shards

/// Which clips go into which shard: each split's clips in manifest order, cut into runs of `clipsPerShard`
/// (`train-00000.h5` holds the first `clipsPerShard` train clips, and so on), splits in train, valid, test order.
struct ShardPlan: Sendable {
    struct Shard: Sendable {
        var split: DataSplit
        var index: Int
        /// Manifest indices of its clips, in order.
        var clips: ArraySlice<Int>
        /// `<split>-NNNNN.h5`.
        var fileName: String { ShardSchema.fileName(split: split.rawValue, index: index) }
    }

    var shards: [Shard]
    /// Clips in all shards.
    var clipCount: Int { shards.reduce(0) { $0 + $1.clips.count } }

    init(_ plan: SplitPlan, clipsPerShard: Int) {
        shards = DataSplit.allCases.flatMap { split in
            let clips = plan[split]
            return stride(from: 0, to: clips.count, by: clipsPerShard).enumerated().map { k, lower in
                Shard(split: split, index: k, clips: clips[lower..<min(clips.count, lower + clipsPerShard)])
            }
        }
    }
}
