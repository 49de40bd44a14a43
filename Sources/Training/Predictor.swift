import AudioIO
import Foundation
public import Net
public import Pipeline

/// `genre predict`: genres of audio files with a checkpoint alone — the pipeline parameters and normalisation it
/// carries make the features exactly as in training.
public struct Predictor {
    public let checkpoint: Checkpoint
    public let model: Sequential
    public let pipeline: PipelineConfiguration
    /// The checkpoint's front end, computed block by block (its filterbank built once for every file).
    let stream: SpectrogramStream

    public init(checkpointPath: String) throws(TrainingError) {
        checkpoint = try Checkpoint.read(from: checkpointPath)
        do {
            pipeline = try PipelineConfiguration.fromJSON(checkpoint.pipelineConfiguration)
        } catch {
            throw .checkpoint(path: checkpointPath, reason: "stored pipeline configuration: \(error.reason)")
        }
        model = try checkpoint.makeModel(path: checkpointPath)
        stream = SpectrogramStream(configuration: pipeline)
    }

    /// A predictor of tags: the checkpoint must be a tagging network (sigmoid outputs), such as the imported musicnn.
    public init(tagger checkpointPath: String) throws(TrainingError) {
        try self.init(checkpointPath: checkpointPath)
        guard checkpoint.modelSpec.output == .sigmoid else {
            throw .incompatible(path: checkpointPath, reason: "is a classifier (softmax output), not a tagging network: "
                                + "use `genre predict`")
        }
    }

    /// One file's prediction: class probabilities of the whole file and per window.
    public struct Prediction: Sendable, Codable {
        public var path: String
        public var seconds: Double
        /// Per class (class order of the checkpoint): the softmax of the window logits' mean; for a tagging network
        /// (sigmoid output, e.g. the imported musicnn) the mean of the windows' tag probabilities.
        public var probabilities: [Double]
        /// Per window (in time order): start time in seconds and class probabilities.
        public var windows: [Window]
        public struct Window: Sendable, Codable {
            public var start: Double
            public var probabilities: [Double]
        }
        /// The `count` likeliest classes with their probabilities.
        public func top(_ count: Int, classes: [String]) -> [(String, Double)] {
            probabilities.indices.sorted { probabilities[$0] > probabilities[$1] }.prefix(count).map { (classes[$0], probabilities[$0]) }
        }
    }

    /// Windows classified in one forward pass while streaming: bounds the network's activations, the same for a
    /// 30-second clip and an hour-long file.
    public static let streamingBatch = 8

    /// Classifies a file of any length in bounded memory: its normalised log-mel spectrogram is computed in blocks
    /// (``SpectrogramStream``: decode, resample, STFT, mel and compression block by block) and its windows are
    /// classified as they complete, ``streamingBatch`` at a time. The windows are evaluation's
    /// (`ClipWindows.starts` on the file's frames: every `windowHop` frames, plus one ending at the last frame; one
    /// window at 0, zero-padded, when the file is shorter than a window). `windowHop` nil is the checkpoint's
    /// `[evaluate] window_hop` (the window length when not set); it must be in `1...window length`. The result is
    /// the whole-file computation's (``predictInMemory(path:windowHop:)``, compared by the tests).
    public func predict(path: String, windowHop: Int? = nil) throws(TrainingError) -> Prediction {
        let hop = try resolvedWindowHop(windowHop, path: path)
        var assembler = WindowAssembler(
            nMels: pipeline.mel.nMels, windowFrames: checkpoint.windowFrames, hop: hop,
            mean: checkpoint.normMean, std: checkpoint.normStd, batch: Self.streamingBatch, model: model)
        let summary: SpectrogramStream.Summary
        do throws(AudioError) {
            summary = try stream.forEachBlock(path: path) { block, frames in
                assembler.append(block, frames: frames)
            }
        } catch {
            throw .io(path: path, reason: error.message)
        }
        let (starts, logits) = assembler.finish(totalFrames: summary.frames)
        return prediction(path: path, frames: summary.frames, starts: starts, logits: logits)
    }

    /// The non-streaming computation, kept as the reference the streaming one is tested against: the whole file's
    /// spectrogram in memory (``ClipFeatureExtractor/wholeFileSpectrogram(path:configuration:)``), every window in
    /// one forward pass.
    func predictInMemory(path: String, windowHop: Int? = nil) throws(TrainingError) -> Prediction {
        let nMels = pipeline.mel.nMels, crop = checkpoint.windowFrames
        let hop = try resolvedWindowHop(windowHop, path: path)
        let (db, frames): ([Float], Int)
        do {
            (db, frames) = try ClipFeatureExtractor.wholeFileSpectrogram(path: path, configuration: pipeline)
        } catch {
            throw .io(path: path, reason: error.message)
        }
        let starts = ClipWindows.starts(audioFrames: frames, windowFrames: crop, hop: hop)
        let windows = starts.count
        var input = [Float](repeating: 0, count: windows * nMels * crop)
        for (w, start) in starts.enumerated() {
            for b in 0..<nMels {
                let m = checkpoint.normMean[b], s = 1 / checkpoint.normStd[b]
                for t in 0..<crop where start + t < frames {
                    input[(w * nMels + b) * crop + t] = (db[b * frames + start + t] - m) * s
                }
            }
        }
        let logits = model.forward(Tensor(shape: [windows, 1, nMels, crop], scalars: input), training: false)
        return prediction(path: path, frames: frames, starts: starts, logits: logits.scalars)
    }

    private func resolvedWindowHop(_ windowHop: Int?, path: String) throws(TrainingError) -> Int {
        let crop = checkpoint.windowFrames
        let hop = windowHop ?? checkpoint.evaluationWindowHop
        guard (1...crop).contains(hop) else {
            throw .invalidOptions(directory: path, reason: "a window hop of \(hop) frames (must be 1...\(crop), the "
                                  + "window length)")
        }
        return hop
    }

    /// The file's prediction from its windows' logits (`[windows, classes]` row-major, in `starts` order).
    private func prediction(path: String, frames: Int, starts: [Int], logits: [Float]) -> Prediction {
        let classes = checkpoint.classes.count, windows = starts.count
        var mean = [Double](repeating: 0, count: classes)
        var perWindow: [Prediction.Window] = []
        let timing = SpectrogramTiming(pipeline: pipeline)
        let tags = checkpoint.modelSpec.output == .sigmoid
        for (w, start) in starts.enumerated() {
            let row = (0..<classes).map { Double(logits[w * classes + $0]) }
            let probabilities = tags ? row.map(Self.sigmoid) : Self.softmax(row)
            for c in 0..<classes { mean[c] += (tags ? probabilities[c] : row[c]) / Double(windows) }
            perWindow.append(.init(start: timing.seconds(ofFrame: start), probabilities: probabilities))
        }
        return Prediction(path: path, seconds: timing.seconds(ofFrame: frames),
                          probabilities: tags ? mean : Self.softmax(mean), windows: perWindow)
    }

    static func sigmoid(_ x: Double) -> Double { 1 / (1 + Foundation.exp(-x)) }

    static func softmax(_ x: [Double]) -> [Double] {
        let m = x.max() ?? 0
        let e = x.map { Foundation.exp($0 - m) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }
}
