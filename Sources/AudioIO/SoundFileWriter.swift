internal import CSndFile

/// An audio file being written (a libsndfile `SNDFILE*` opened for writing), single owner.
///
/// Samples are interleaved `Float` frames (`[frame0ch0, frame0ch1, …, frame1ch0, …]`) nominally in
/// [-1, 1]. Clipping is enabled (`SFC_SET_CLIPPING`), so out-of-range values saturate at full scale in
/// integer encodings instead of wrapping around. The file is complete once ``close()`` returns (or the
/// writer is destroyed, which closes it and ignores any error).
public struct SoundFileWriter: ~Copyable {
    private var handle: OpaquePointer?
    /// The file being written.
    public let path: String
    /// The output format.
    public let format: AudioFileFormat
    /// Sample rate in Hz.
    public let sampleRate: Int
    /// Channels per frame.
    public let channels: Int

    /// Creates (or truncates) `path` for writing.
    /// - Parameters:
    ///   - sampleRate: in Hz, > 0.
    ///   - channels: interleaved channels per frame, > 0.
    public init(path: String, format: AudioFileFormat, sampleRate: Int, channels: Int) throws(AudioError) {
        guard sampleRate > 0, sampleRate <= Int(Int32.max) else {
            throw AudioError(path: path, function: "SoundFileWriter.init", message: "sample rate \(sampleRate) Hz is not positive")
        }
        guard channels > 0, channels <= 1024 else {
            throw AudioError(path: path, function: "SoundFileWriter.init", message: "channel count \(channels) is not in 1...1024")
        }
        var info = SF_INFO()
        info.samplerate = Int32(sampleRate)
        info.channels = Int32(channels)
        info.format = format.sndfileFormat
        guard sf_format_check(&info) != 0 else {
            throw AudioError(path: path, function: "sf_format_check",
                             message: "libsndfile cannot write \(format) at \(sampleRate) Hz with \(channels) channels")
        }
        let handle = try SndFileStatus.open(path, mode: CSndFile_mode_write(), info: &info)
        // Returns the new clipping state, not an error code.
        _ = sf_command(handle, Int32(SFC_SET_CLIPPING), nil, Int32(SF_TRUE))
        self.handle = handle
        self.path = path
        self.format = format
        self.sampleRate = sampleRate
        self.channels = channels
    }

    deinit {
        if let handle { sf_close(handle) }
    }

    /// Appends whole frames. `interleaved.count` must be a multiple of ``channels``.
    public mutating func write(interleaved: UnsafeBufferPointer<Float>) throws(AudioError) {
        guard let handle else {
            throw AudioError(path: path, function: "sf_writef_float", message: "the file is already closed")
        }
        guard interleaved.count % channels == 0 else {
            throw AudioError(path: path, function: "sf_writef_float",
                             message: "\(interleaved.count) samples is not a whole number of \(channels)-channel frames")
        }
        let frames = interleaved.count / channels
        guard frames > 0, let base = interleaved.baseAddress else { return }
        let written = sf_writef_float(handle, base, sf_count_t(frames))
        if written != sf_count_t(frames) {
            var code = sf_error(handle)
            if code == 0 { code = Int32(SF_ERR_SYSTEM) }
            try SndFileStatus.check(code, "sf_writef_float", path: path, handle: handle)
        }
    }

    /// Appends whole frames. `interleaved.count` must be a multiple of ``channels``.
    public mutating func write(interleaved: [Float]) throws(AudioError) {
        try interleaved.withUnsafeBufferPointer { (buffer) throws(AudioError) in
            try write(interleaved: buffer)
        }
    }

    /// Finishes the file (writes the final header sizes / flushes the encoder) and releases it.
    public consuming func close() throws(AudioError) {
        guard let handle else { return }
        self.handle = nil
        let code = sf_close(handle)
        try SndFileStatus.check(code, "sf_close", path: path)
    }
}

extension SoundFileWriter {
    /// Writes a whole file in one call: creates `path`, writes `interleaved`, closes it.
    /// - Parameters:
    ///   - interleaved: interleaved frames, `count` a multiple of `channels`, values nominally in [-1, 1].
    ///   - sampleRate: in Hz.
    public static func write(
        _ interleaved: [Float], to path: String, format: AudioFileFormat, sampleRate: Int, channels: Int
    ) throws(AudioError) {
        var writer = try SoundFileWriter(path: path, format: format, sampleRate: sampleRate, channels: channels)
        try writer.write(interleaved: interleaved)
        try writer.close()
    }
}
