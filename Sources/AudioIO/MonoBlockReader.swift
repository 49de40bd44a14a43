/// A sound file read block by block and downmixed to mono exactly as ``AudioDecoder/decodeMono(path:frames:)`` does
/// (which is built on it): the samples of a file of any length in bounded memory.
///
/// Single owner (it owns the open file and its read buffer). Blocks come in file order; their concatenation is
/// `decodeMono`'s `samples`.
public struct MonoBlockReader: ~Copyable {
    private var file: SoundFile
    /// The file's header.
    public let info: AudioInfo
    /// Interleaved frames of one read.
    private let chunk: UnsafeMutableBufferPointer<Float>
    private let chunkFrames: Int
    /// Frames still to read (`Int.max` for the whole file).
    private var remaining: Int
    private let range: Range<Int>?
    /// Mono frames delivered so far.
    public private(set) var framesRead = 0
    /// Set when decoding stopped early at a decoder error after some frames (a cut-off FLAC or Ogg stream): the
    /// blocks before it are the file's usable audio, as in ``MonoAudio/decodeError``.
    public private(set) var decodeError: AudioError?
    private var finished = false

    /// Opens `path`; `frames` optionally limits reading to a range of frames (seeking to its start).
    /// - Throws: ``AudioError`` naming the file when it cannot be opened, is not audio, or the range is invalid.
    public init(path: String, frames: Range<Int>? = nil) throws(AudioError) {
        var file = try SoundFile(readingFrom: path)
        if let frames {
            guard frames.lowerBound >= 0 else {
                throw AudioError(path: path, function: "decodeMono", message: "frame range \(frames) starts before 0")
            }
            if frames.lowerBound > 0 { try file.seek(toFrame: frames.lowerBound) }
        }
        info = file.info
        remaining = frames?.count ?? Int.max
        range = frames
        chunkFrames = AudioDecoder.chunkFrames(channels: file.info.channels)
        chunk = .allocate(capacity: chunkFrames * file.info.channels)
        self.file = file
    }

    deinit { chunk.deallocate() }

    /// Replaces `block`'s contents with the next mono samples (at most one read, about 64 Ki frames of stereo);
    /// leaves it empty at the end of the audio (the end of the file or range, or a decoder error after some frames:
    /// ``decodeError`` is then set).
    /// - Throws: ``AudioError`` when a decoder error comes before any frame, or the file holds no frames at all.
    public mutating func next(into block: inout [Float]) throws(AudioError) {
        block.removeAll(keepingCapacity: true)
        _ = try read(appendingTo: &block)
    }

    /// Appends the next mono samples (at most one read) to `samples` and returns how many; 0 at the end of the
    /// audio. Throws as ``next(into:)`` does.
    public mutating func read(appendingTo samples: inout [Float]) throws(AudioError) -> Int {
        guard !finished else { return 0 }
        let channels = info.channels
        let want = min(remaining, chunkFrames)
        var got = 0
        if want > 0 {
            do {
                got = try file.read(into: UnsafeMutableBufferPointer(rebasing: chunk[0..<(want * channels)]))
            } catch {
                if framesRead == 0 { throw error }
                decodeError = error
            }
        }
        guard got > 0 else {
            finished = true
            guard framesRead > 0 else {
                let what = range.map { "frame range \($0) of a \(info.frames)-frame file" } ?? "the file"
                throw AudioError(path: file.path, function: "decodeMono",
                                 message: "no audio frames could be decoded from \(what)")
            }
            return 0
        }
        remaining -= got
        framesRead += got
        if channels == 1 {
            samples.append(contentsOf: chunk[0..<got])
        } else {
            let start = samples.count
            samples.append(contentsOf: repeatElement(0, count: got))
            samples.withUnsafeMutableBufferPointer { out in
                Downmix.meanOfChannels(interleaved: UnsafeBufferPointer(chunk), frames: got, channels: channels,
                                       into: UnsafeMutableBufferPointer(rebasing: out[start...]))
            }
        }
        return got
    }
}
