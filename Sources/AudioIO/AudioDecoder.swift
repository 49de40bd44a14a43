/// Decoded audio, downmixed to one channel.
public struct MonoAudio: Sendable {
    /// One sample per frame, nominally in [-1, 1].
    public var samples: [Float]
    /// Sample rate of `samples` in Hz.
    public var sampleRate: Int
    /// The source file's header (its `frames` is what the header claims; `samples.count` is what was decoded).
    public var info: AudioInfo
    /// Set when decoding stopped early at a decoder error (e.g. a cut-off FLAC or Ogg stream) after some
    /// frames had been decoded: `samples` then hold the frames before the error. `nil` for a clean decode.
    public var decodeError: AudioError?

    public init(samples: [Float], sampleRate: Int, info: AudioInfo, decodeError: AudioError? = nil) {
        self.samples = samples
        self.sampleRate = sampleRate
        self.info = info
        self.decodeError = decodeError
    }

    /// Duration of `samples` in seconds.
    public var seconds: Double { sampleRate > 0 ? Double(samples.count) / Double(sampleRate) : 0 }
}

/// Decoding whole sound files to mono `Float` samples the way librosa.load does (before resampling).
public enum AudioDecoder {
    /// Samples (frames × channels) read per libsndfile call: 512 KiB of floats, i.e. 64 Ki stereo frames.
    /// The output grows chunk by chunk instead of trusting the header's frame count.
    static let chunkSamples = 1 << 17

    /// Frames per read for a file with `channels` channels (at least 1024, so many-channel files still
    /// read in reasonable blocks).
    static func chunkFrames(channels: Int) -> Int { max(1024, chunkSamples / channels) }

    /// Decodes `path` and downmixes to mono by the mean of the channels, computed exactly as
    /// `librosa.to_mono` does (`np.mean` over the channel axis in float32: numpy's pairwise sum over the
    /// channels of a frame, then division by the channel count).
    ///
    /// - Parameters:
    ///   - frames: optionally, the range of frames to decode (start frame, at most `count` frames), to
    ///     bound memory on very long files. `nil` decodes the whole file.
    /// - Returns: the samples at the file's own sample rate.
    /// - Throws: ``AudioError`` naming the file when it cannot be opened, is not audio, has a non-positive
    ///   rate or channel count, or yields no frames. A truncated file yields the frames that are present;
    ///   a decoder error after some frames yields those frames with ``MonoAudio/decodeError`` set.
    public static func decodeMono(path: String, frames: Range<Int>? = nil) throws(AudioError) -> MonoAudio {
        var reader = try MonoBlockReader(path: path, frames: frames)
        var samples: [Float] = []
        // The header is only a hint: reserve at most what it claims, capped, and grow as data arrives.
        samples.reserveCapacity(min(frames?.count ?? Int.max, reader.info.frames, 1 << 22))
        while try reader.read(appendingTo: &samples) > 0 {}
        return MonoAudio(samples: samples, sampleRate: reader.info.sampleRate, info: reader.info,
                         decodeError: reader.decodeError)
    }

    /// Reads only the header (open + close, no decoding).
    public static func info(path: String) throws(AudioError) -> AudioInfo {
        let file = try SoundFile(readingFrom: path)
        return file.info
    }
}

/// Channel downmix matching numpy's float32 `mean` over the channel axis bit for bit.
enum Downmix {
    /// `out[f] = pairwiseSum(frame f's channels) / Float(channels)` for `f < frames`.
    static func meanOfChannels(
        interleaved: UnsafeBufferPointer<Float>, frames: Int, channels: Int, into out: UnsafeMutableBufferPointer<Float>
    ) {
        guard let input = interleaved.baseAddress else { return }
        let divisor = Float(channels)
        if channels == 2 {
            for f in 0..<frames { out[f] = (input[2 * f] + input[2 * f + 1]) / divisor }
            return
        }
        for f in 0..<frames {
            out[f] = pairwiseSum(input + f * channels, count: channels) / divisor
        }
    }

    /// numpy's `pairwise_sum` for float32 (the inner loop of `np.add.reduce`): a plain running sum below
    /// 8 elements, eight interleaved partial sums up to 128, and recursive halving above.
    static func pairwiseSum(_ a: UnsafePointer<Float>, count n: Int) -> Float {
        if n < 8 {
            var sum: Float = -0.0
            for i in 0..<n { sum += a[i] }
            return sum
        } else if n <= 128 {
            var r0 = a[0], r1 = a[1], r2 = a[2], r3 = a[3]
            var r4 = a[4], r5 = a[5], r6 = a[6], r7 = a[7]
            var i = 8
            let blocked = n - n % 8
            while i < blocked {
                r0 += a[i]; r1 += a[i + 1]; r2 += a[i + 2]; r3 += a[i + 3]
                r4 += a[i + 4]; r5 += a[i + 5]; r6 += a[i + 6]; r7 += a[i + 7]
                i += 8
            }
            var sum = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
            while i < n { sum += a[i]; i += 1 }
            return sum
        } else {
            var half = n / 2
            half -= half % 8
            return pairwiseSum(a, count: half) + pairwiseSum(a + half, count: n - half)
        }
    }
}
