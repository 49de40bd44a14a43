/// One evaluation window: which clip of the split, and the frame it starts at.
public struct ClipWindow: Sendable, Equatable {
    /// Index of the clip in the split.
    public var clip: Int
    /// First frame of the window; it covers frames `start ..< start + cropFrames`.
    public var start: Int

    public init(clip: Int, start: Int) {
        self.clip = clip
        self.start = start
    }
}

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
    /// Number of each window within its clip (0 for the clip's first window).
    public let windows: [Int]
    /// First frame of each window: it covers frames `starts[i] ..< starts[i] + cropFrames` of its clip.
    public let starts: [Int]
    /// Class of each window's clip.
    public let labels: [Int32]

    /// The input's shape, `[count, 1, nMels, cropFrames]`.
    public var shape: [Int] { [count, 1, nMels, cropFrames] }
}

/// Every clip of a split cut into `cropFrames`-frame windows (`ClipWindows.starts`: from frame 0 every `hop`
/// frames while the window fits inside the clip's audio frames, plus one window ending at the last audio frame when
/// the last regular one does not reach it; one window at 0 for a clip shorter than a window). A clip's audio frames
/// come from its `/seconds` and the shards' STFT timing (`ShardDataset.audioFrames(clip:of:)`), so the zero padding
/// of a short clip is not evaluated and clips have different numbers of windows. Windows are in clip order, then
/// start order, delivered in batches of `batchSize` windows across clip boundaries. Averaging each clip's window
/// logits (`ClipLogits`) gives the clip-level prediction, as the reference evaluation does. Reads clips on demand
/// (each once) and, with `prefetch`, builds the next batch on a background thread. Single owner: dropping it stops
/// its thread.
public struct EvaluationWindows: ~Copyable {
    /// The split being evaluated.
    public let split: ShardSplit
    /// Every window of the pass, in delivery order.
    public let windows: [ClipWindow]
    /// Windows of each clip of the split.
    public let windowsPerClip: [Int]
    /// Windows in the split: `windows.count`.
    public var windowCount: Int { windows.count }
    /// Frames of each window.
    public let cropFrames: Int
    /// Frames between the starts of a clip's regular windows.
    public let hop: Int
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
    ///   - hop: frames between window starts, `1...cropFrames`; nil is `cropFrames` (non-overlapping windows).
    ///   - batchSize: windows per batch.
    ///   - maxOpenShards: shards kept open at once.
    ///   - prefetch: build the next batch on a background thread (same batches as without).
    public init(
        dataset: ShardDataset, split: String, cropFrames: Int = 128, hop: Int? = nil, batchSize: Int = 64,
        maxOpenShards: Int = 4, prefetch: Bool = true
    ) throws(TrainingError) {
        guard cropFrames >= 1, cropFrames <= dataset.frames, batchSize >= 1 else {
            throw .invalidOptions(directory: dataset.directory, reason: "evaluation windows: \(cropFrames)-frame "
                                  + "windows in batches of \(batchSize) for clips of \(dataset.frames) frames (the "
                                  + "window must be 1...\(dataset.frames) frames, the batch >= 1)")
        }
        let hop = hop ?? cropFrames
        guard (1...cropFrames).contains(hop) else {
            throw .invalidOptions(directory: dataset.directory, reason: "evaluation windows: a hop of \(hop) frames "
                                  + "(evaluate.window_hop must be 1...\(cropFrames), the window length)")
        }
        let index = try dataset.split(split)
        var windows: [ClipWindow] = []
        var perClip: [Int] = []
        perClip.reserveCapacity(index.count)
        for clip in 0..<index.count {
            let starts = ClipWindows.starts(audioFrames: dataset.audioFrames(clip: clip, of: index),
                                            windowFrames: cropFrames, hop: hop)
            windows += starts.map { ClipWindow(clip: clip, start: $0) }
            perClip.append(starts.count)
        }
        self.split = index
        self.windows = windows
        self.windowsPerClip = perClip
        self.cropFrames = cropFrames
        self.hop = hop
        self.batchSize = batchSize
        let batchCount = (windows.count + batchSize - 1) / batchSize
        let maxOpen = max(1, maxOpenShards)
        let allWindows = windows
        stream = BatchStream(count: batchCount, prefetch: prefetch) {
            EvaluationBatchBuilder(dataset: dataset, split: index, cropFrames: cropFrames, windows: allWindows,
                                   batchSize: batchSize, maxOpenShards: maxOpen)
        }
    }

    /// The next batch, or nil at the end of the pass.
    public mutating func next() throws(TrainingError) -> EvaluationBatch? {
        try stream.next()
    }
}

/// Builds evaluation batches: batch `b` holds windows `b·batchSize ..< (b + 1)·batchSize` of the pass.
struct EvaluationBatchBuilder: BatchBuilding, ~Copyable {
    let dataset: ShardDataset
    let split: ShardSplit
    let cropFrames: Int
    let windows: [ClipWindow]
    /// Number of each window within its clip.
    let numbers: [Int]
    let batchSize: Int
    var readers: OpenShards
    /// The last clip read, `[nMels, frames]`, and its index (-1: none).
    var clip: [Float]
    var clipInBuffer = -1

    init(dataset: ShardDataset, split: ShardSplit, cropFrames: Int, windows: [ClipWindow], batchSize: Int,
         maxOpenShards: Int) {
        self.dataset = dataset
        self.split = split
        self.cropFrames = cropFrames
        self.windows = windows
        var numbers: [Int] = []
        numbers.reserveCapacity(windows.count)
        for (i, window) in windows.enumerated() {
            numbers.append(i > 0 && windows[i - 1].clip == window.clip ? numbers[i - 1] + 1 : 0)
        }
        self.numbers = numbers
        self.batchSize = batchSize
        readers = OpenShards(dataset: dataset, split: split, capacity: maxOpenShards)
        clip = [Float](repeating: 0, count: dataset.clipElements)
    }

    mutating func build(_ index: Int) throws(TrainingError) -> EvaluationBatch {
        let lower = index * batchSize, upper = min(windows.count, lower + batchSize)
        let count = upper - lower
        let nMels = dataset.nMels, frames = dataset.frames, crop = cropFrames
        let sampleElements = nMels * crop
        var inputs = [Float](repeating: 0, count: count * sampleElements)
        for slot in 0..<count {
            let window = windows[lower + slot]
            if window.clip != clipInBuffer {
                clipInBuffer = -1
                try clip.withUnsafeMutableBufferPointer { (clip) throws(TrainingError) in
                    try readers.read(clip: window.clip, into: clip)
                }
                clipInBuffer = window.clip
            }
            let offset = window.start
            clip.withUnsafeBufferPointer { source in
                inputs.withUnsafeMutableBufferPointer { destination in
                    let sample = destination.baseAddress! + slot * sampleElements
                    for band in 0..<nMels {
                        (sample + band * crop).update(from: source.baseAddress! + band * frames + offset, count: crop)
                    }
                }
            }
        }
        let batchWindows = windows[lower..<upper]
        let clips = batchWindows.map(\.clip)
        return EvaluationBatch(index: index, count: count, nMels: nMels, cropFrames: crop, inputs: inputs,
                               clips: clips, windows: Array(numbers[lower..<upper]), starts: batchWindows.map(\.start),
                               labels: clips.map { split.labels[$0] })
    }
}
