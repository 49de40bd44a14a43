import Shards

/// An open shard reader and when it was last used.
private final class OpenShard {
    let shard: Int
    let reader: ShardReader
    var lastUse: Int

    init(shard: Int, reader: consuming ShardReader, lastUse: Int) {
        self.shard = shard
        self.reader = reader
        self.lastUse = lastUse
    }
}

/// The shards of one split that one reader (a batch producer) keeps open: at most `capacity` of them, the least
/// recently used one closed first. Single owner: each producer thread has its own.
struct OpenShards: ~Copyable {
    let dataset: ShardDataset
    let split: ShardSplit
    let capacity: Int
    private var open: [OpenShard] = []
    private var clock = 0

    init(dataset: ShardDataset, split: ShardSplit, capacity: Int) {
        self.dataset = dataset
        self.split = split
        self.capacity = max(1, capacity)
    }

    /// Reads clip `clip` of the split, `[n_mels, frames]` row-major, into `destination` (`dataset.clipElements`
    /// values).
    mutating func read(clip: Int, into destination: UnsafeMutableBufferPointer<Float>) throws(TrainingError) {
        let (shard, row) = split.locate(clip)
        let reader = try reader(for: shard)
        try shards { () throws(ShardError) in try reader.reader.mel(at: row, into: destination) }
    }

    private mutating func reader(for shard: Int) throws(TrainingError) -> OpenShard {
        clock += 1
        if let found = open.first(where: { $0.shard == shard }) {
            found.lastUse = clock
            return found
        }
        let file = split.shards[shard]
        let reader = try shards { () throws(ShardError) in try ShardReader(path: file.path) }
        // The folder was validated when the dataset was opened; a file replaced since then must still fit.
        let metadata = reader.metadata
        if reader.count != file.count || metadata.nMels != dataset.nMels || metadata.frames != dataset.frames
            || metadata.classes != dataset.classes
            || reader.labels != Array(split.labels[file.firstClip..<(file.firstClip + file.count)])
        {
            throw .mismatch(path: file.path, reason: "the shard changed since the folder was opened for training")
        }
        if open.count >= capacity, let oldest = open.indices.min(by: { open[$0].lastUse < open[$1].lastUse }) {
            open.remove(at: oldest)
        }
        let entry = OpenShard(shard: shard, reader: reader, lastUse: clock)
        open.append(entry)
        return entry
    }
}
