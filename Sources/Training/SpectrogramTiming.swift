import Foundation
public import Pipeline
public import Shards

/// How samples map to spectrogram frames: what evaluation needs to know which frames of a clip hold audio and
/// when a window starts.
public struct SpectrogramTiming: Sendable, Equatable {
    /// Samples per second (Hz).
    public var sampleRate: Int
    /// Samples between frames.
    public var hopLength: Int
    /// FFT size in samples.
    public var nFFT: Int
    /// Centred frames (the signal padded by `nFFT / 2` on both sides).
    public var center: Bool

    public init(sampleRate: Int, hopLength: Int, nFFT: Int = 2048, center: Bool = true) {
        self.sampleRate = sampleRate
        self.hopLength = hopLength
        self.nFFT = nFFT
        self.center = center
    }

    /// The timing of a pipeline configuration.
    public init(pipeline: PipelineConfiguration) {
        self.init(sampleRate: pipeline.audio.sampleRate, hopLength: pipeline.stft.hopLength,
                  nFFT: pipeline.stft.nFFT, center: pipeline.stft.center)
    }

    /// The timing stored in shard attributes: `sample_rate` and `hop_length` (both needed, else nil), `n_fft`
    /// (2048 when absent) and `center` (true when absent).
    public init?(parameters: [String: ShardParameter]) {
        guard let rate = parameters["sample_rate"]?.intValue, let hop = parameters["hop_length"]?.intValue,
              rate > 0, hop > 0 else { return nil }
        self.init(sampleRate: rate, hopLength: hop, nFFT: parameters["n_fft"]?.intValue ?? 2048,
                  center: parameters["center"]?.boolValue ?? true)
    }

    /// Frames computed from `samples` samples: `1 + samples / hopLength` centred (`nFFT` even), else
    /// `1 + (samples - nFFT) / hopLength` (0 when `samples < nFFT`).
    public func frames(samples: Int) -> Int {
        let padded = center ? samples + 2 * (nFFT / 2) : samples
        guard padded >= nFFT else { return 0 }
        return 1 + (padded - nFFT) / hopLength
    }

    /// Frames holding the audio of a clip of `seconds` seconds: `frames(samples: round(seconds · sampleRate))`
    /// (a negative or non-finite duration counts as 0 s).
    public func audioFrames(seconds: Double) -> Int {
        guard seconds.isFinite, seconds > 0 else { return frames(samples: 0) }
        let samples = (seconds * Double(sampleRate)).rounded()
        return frames(samples: samples >= Double(Int.max / 2) ? Int.max / 4 : Int(samples))
    }

    /// Start time in seconds of frame `frame`: `frame · hopLength / sampleRate`.
    public func seconds(ofFrame frame: Int) -> Double {
        Double(frame) * Double(hopLength) / Double(sampleRate)
    }
}

/// Where the evaluation windows of a clip start.
public enum ClipWindows {
    /// The start frames of the `windowFrames`-frame windows of a clip whose first `audioFrames` frames hold audio:
    /// `0, hop, 2·hop, …` while the window fits inside the audio frames, plus one window ending exactly at the last
    /// audio frame (starting at `audioFrames - windowFrames`) when the last regular window does not reach it; a clip
    /// with fewer audio frames than a window gets one window at 0. `windowFrames` and `hop` must be >= 1.
    public static func starts(audioFrames: Int, windowFrames: Int, hop: Int) -> [Int] {
        precondition(windowFrames >= 1 && hop >= 1, "ClipWindows: window \(windowFrames) and hop \(hop) must be >= 1")
        guard audioFrames > windowFrames else { return [0] }
        var starts = Array(stride(from: 0, through: audioFrames - windowFrames, by: hop))
        if let last = starts.last, last + windowFrames < audioFrames { starts.append(audioFrames - windowFrames) }
        return starts
    }
}
