/// One batch of evaluation windows.
public struct EvaluationBatch: Sendable {
    /// The batch number in the pass, from 0.
    public let index: Int
    /// Windows in the batch.
    public let count: Int
    /// Mel bands (the input's height).
    public let nMels: Int
    /// Frames of each window (the input's width).
    public let cropFrames: Int
    /// Inputs `[count, 1, nMels, cropFrames]`, contiguous NCHW (row-major), normalised features.
    public var inputs: [Float]
    /// Index (in the split) of each window's clip.
    public let clips: [Int]
    /// Number of each window within its clip: it covers frames `window * cropFrames ..< (window + 1) * cropFrames`.
    public let windows: [Int]
    /// Class of each window's clip.
    public let labels: [Int32]

    /// The input's shape, `[count, 1, nMels, cropFrames]`.
    public var shape: [Int] { [count, 1, nMels, cropFrames] }
}

/// Every clip of a split cut into its non-overlapping `cropFrames` windows starting at frame 0
/// (`max(1, frames / cropFrames)` per clip; frames past the last whole window are not seen), in clip order, then
/// window order, delivered in batches. Averaging each clip's window logits (`ClipLogits`) gives the clip-level
/// prediction, as the reference evaluation does. Reads clips on demand (each once) and, with `prefetch`, builds the
/// next batch on a background thread. Single owner: dropping it stops its thread.
public struct EvaluationWindows: ~Copyable {
    /// The split being evaluated.
    public let split: ShardSplit
    /// Windows per clip.
    public let windowsPerClip: Int
    /// Windows in the split: `split.count * windowsPerClip`.
    public let windowCount: Int
    /// Windows per batch (the last batch may be smaller).
    public let batchSize: Int
    /// Batches in the pass.
    public var batchCount: Int { stream.count }
    /// Class of every clip of the split.
    public var labels: [Int32] { split.labels }
    private var stream: BatchStream<EvaluationBatchBuilder>

    /// Prepares a pass over split `split` of `dataset`.
    /// - Parameters:
    ///   - cropFrames: frames per window (at most the clips' frames).
    ///   - batchSize: windows per batch.
    ///   - maxOpenShards: shards kept open at once.
    ///   - prefetch: build the next batch on a background thread (same batches as without).
    public init(
        dataset: ShardDataset, split: String, cropFrames: Int = 128, batchSize: Int = 64, maxOpenShards: Int = 4,
        prefetch: Bool = true
    ) throws(TrainingError) {
        guard cropFrames >= 1, cropFrames <= dataset.frames, batchSize >= 1 else {
            throw .invalidOptions(directory: dataset.directory, reason: "evaluation windows: \(cropFrames)-frame "
                                  + "windows in batches of \(batchSize) for clips of \(dataset.frames) frames (the "
                                  + "window must be 1...\(dataset.frames) frames, the batch >= 1)")
        }
        let index = try dataset.split(split)
        let windowsPerClip = max(1, dataset.frames / cropFrames)
        let windowCount = index.count * windowsPerClip
        self.split = index
        self.windowsPerClip = windowsPerClip
        self.windowCount = windowCount
        self.batchSize = batchSize
        let batchCount = (windowCount + batchSize - 1) / batchSize
        let maxOpen = max(1, maxOpenShards)
        stream = BatchStream(count: batchCount, prefetch: prefetch) {
            EvaluationBatchBuilder(dataset: dataset, split: index, cropFrames: cropFrames,
                                   windowsPerClip: windowsPerClip, batchSize: batchSize, maxOpenShards: maxOpen)
        }
    }

    /// The next batch, or nil at the end of the pass.
    public mutating func next() throws(TrainingError) -> EvaluationBatch? {
        try stream.next()
    }
}

/// Builds evaluation batches: window `w` of the pass is window `w % windowsPerClip` of clip `w / windowsPerClip`.
struct EvaluationBatchBuilder: BatchBuilding, ~Copyable {
    let dataset: ShardDataset
    let split: ShardSplit
    let cropFrames: Int
    let windowsPerClip: Int
    let batchSize: Int
    var readers: OpenShards
    /// The last clip read, `[nMels, frames]`, and its index (-1: none).
    var clip: [Float]
    var clipInBuffer = -1

    init(dataset: ShardDataset, split: ShardSplit, cropFrames: Int, windowsPerClip: Int, batchSize: Int,
         maxOpenShards: Int) {
        self.dataset = dataset
        self.split = split
        self.cropFrames = cropFrames
        self.windowsPerClip = windowsPerClip
        self.batchSize = batchSize
        readers = OpenShards(dataset: dataset, split: split, capacity: maxOpenShards)
        clip = [Float](repeating: 0, count: dataset.clipElements)
    }

    mutating func build(_ index: Int) throws(TrainingError) -> EvaluationBatch {
        let total = split.count * windowsPerClip
        let lower = index * batchSize, upper = min(total, lower + batchSize)
        let count = upper - lower
        let nMels = dataset.nMels, frames = dataset.frames, crop = cropFrames
        let sampleElements = nMels * crop
        var inputs = [Float](repeating: 0, count: count * sampleElements)
        var clips: [Int] = [], windows: [Int] = []
        clips.reserveCapacity(count)
        windows.reserveCapacity(count)
        for slot in 0..<count {
            let window = lower + slot
            let clipIndex = window / windowsPerClip, number = window % windowsPerClip
            if clipIndex != clipInBuffer {
                clipInBuffer = -1
                try clip.withUnsafeMutableBufferPointer { (clip) throws(TrainingError) in
                    try readers.read(clip: clipIndex, into: clip)
                }
                clipInBuffer = clipIndex
            }
            let offset = number * crop
            clip.withUnsafeBufferPointer { source in
                inputs.withUnsafeMutableBufferPointer { destination in
                    let sample = destination.baseAddress! + slot * sampleElements
                    for band in 0..<nMels {
                        (sample + band * crop).update(from: source.baseAddress! + band * frames + offset, count: crop)
                    }
                }
            }
            clips.append(clipIndex)
            windows.append(number)
        }
        return EvaluationBatch(index: index, count: count, nMels: nMels, cropFrames: crop, inputs: inputs,
                               clips: clips, windows: windows, labels: clips.map { split.labels[$0] })
    }
}
