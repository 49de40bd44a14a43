import Net

/// Cuts a spectrogram that arrives in blocks of frames into evaluation's windows (`ClipWindows.starts`) and
/// classifies them as they complete, `batch` at a time: the streaming half of ``Predictor/predict(path:windowHop:)``.
///
/// It keeps only the frames a window to come can still read (at most a window plus a block), normalises each
/// window per band with the checkpoint's statistics (`(x - mean) / std`), and keeps the windows' logits
/// (`classes` floats each) for the file's result.
struct WindowAssembler {
    let nMels: Int
    let windowFrames: Int
    let hop: Int
    let mean: [Float]
    let inverseStd: [Float]
    let batch: Int
    let model: Sequential

    /// Frames `keptStart ..< keptStart + kept.count / nMels`, frame-major (`[frames, nMels]`).
    private var kept: [Float] = []
    private var keptStart = 0
    private var framesSeen = 0
    /// The next regular window start (`0, hop, 2·hop, …`).
    private var nextStart = 0
    /// Window starts classified or queued, in order.
    private(set) var starts: [Int] = []
    /// Normalised windows waiting for a forward pass, `[queued, 1, nMels, windowFrames]`.
    private var queued: [Float] = []
    private var logits: [Float] = []

    init(nMels: Int, windowFrames: Int, hop: Int, mean: [Float], std: [Float], batch: Int, model: Sequential) {
        self.nMels = nMels
        self.windowFrames = windowFrames
        self.hop = hop
        self.mean = mean
        self.inverseStd = std.map { 1 / $0 }
        self.batch = batch
        self.model = model
        queued.reserveCapacity(batch * nMels * windowFrames)
    }

    /// Takes the next block, `[nMels, frames.count]` band-major, holding frames `frames` of the file.
    mutating func append(_ block: UnsafeBufferPointer<Float>, frames: Range<Int>) {
        precondition(frames.lowerBound == framesSeen, "WindowAssembler: blocks must come in order")
        let count = frames.count
        let base = kept.count
        kept.append(contentsOf: repeatElement(0, count: count * nMels))
        for b in 0..<nMels {
            for t in 0..<count { kept[base + t * nMels + b] = block[b * count + t] }
        }
        framesSeen = frames.upperBound
        while nextStart + windowFrames <= framesSeen {
            queue(start: nextStart)
            nextStart += hop
        }
        // Keep what the next regular window and a final window ending at the last frame may read.
        let firstNeeded = min(nextStart, max(0, framesSeen - windowFrames))
        if firstNeeded > keptStart {
            kept.removeFirst((firstNeeded - keptStart) * nMels)
            keptStart = firstNeeded
        }
    }

    /// After the last block: queues the final window evaluation adds (one ending at the last frame, or one at 0
    /// for a file shorter than a window), classifies what is queued, and returns every window's start and logits
    /// (`[windows, classes]` row-major).
    mutating func finish(totalFrames: Int) -> (starts: [Int], logits: [Float]) {
        precondition(totalFrames == framesSeen, "WindowAssembler: \(framesSeen) frames seen of \(totalFrames)")
        if totalFrames <= windowFrames {
            if starts.isEmpty { queue(start: 0) }
        } else if let last = starts.last, last + windowFrames < totalFrames {
            queue(start: totalFrames - windowFrames)
        }
        classifyQueued()
        return (starts, logits)
    }

    /// Normalises window `start` (zeros past the last frame) into the queue; classifies a full queue.
    private mutating func queue(start: Int) {
        let base = queued.count
        queued.append(contentsOf: repeatElement(0, count: nMels * windowFrames))
        let available = min(windowFrames, framesSeen - start)
        for t in 0..<max(0, available) {
            let frame = (start + t - keptStart) * nMels
            for b in 0..<nMels {
                queued[base + b * windowFrames + t] = (kept[frame + b] - mean[b]) * inverseStd[b]
            }
        }
        starts.append(start)
        if queued.count == batch * nMels * windowFrames { classifyQueued() }
    }

    private mutating func classifyQueued() {
        let windows = queued.count / (nMels * windowFrames)
        guard windows > 0 else { return }
        let output = model.forward(Tensor(shape: [windows, 1, nMels, windowFrames], scalars: queued), training: false)
        logits.append(contentsOf: output.scalars)
        queued.removeAll(keepingCapacity: true)
    }
}
