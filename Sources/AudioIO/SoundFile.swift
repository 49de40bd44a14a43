internal import CSndFile
import Foundation

/// A sound file open for reading (a libsndfile `SNDFILE*`), single owner; closed when destroyed.
///
/// libsndfile recognises the format from the file's content, not its name. Samples come out as
/// interleaved `Float` frames scaled by libsndfile's float normalisation (integer PCM divided by its full
/// scale, e.g. 32768 for 16-bit, so values lie in [-1, 1); float files are passed through as stored).
public struct SoundFile: ~Copyable {
    private let handle: OpaquePointer
    /// A decoder error met by a read that still returned frames; thrown by the next read.
    private var pendingError: AudioError?
    /// The file that was opened.
    public let path: String
    /// The header's description of the file.
    public let info: AudioInfo

    /// Opens `path` for reading and parses its header.
    /// Throws when the file cannot be opened, is not a recognised audio format, or its header declares
    /// a non-positive sample rate or channel count.
    public init(readingFrom path: String) throws(AudioError) {
        var raw = SF_INFO()
        let handle = try SndFileStatus.open(path, mode: CSndFile_mode_read(), info: &raw)
        guard raw.samplerate > 0, raw.channels > 0 else {
            sf_close(handle)
            throw AudioError(path: path, function: "sf_open",
                             message: "header declares \(raw.samplerate) Hz and \(raw.channels) channels; both must be positive")
        }
        self.handle = handle
        self.path = path
        self.info = AudioInfo(
            sampleRate: Int(raw.samplerate),
            channels: Int(raw.channels),
            frames: Int(max(0, raw.frames)),
            container: SndFileFormatNames.container(raw.format),
            encoding: SndFileFormatNames.encoding(raw.format),
            headerProblem: SndFileHeaderLog.dataSizeProblem(Self.parseLog(handle)))
    }

    /// libsndfile's header parse log (`SFC_GET_LOG_INFO`), at most 4 KiB.
    private static func parseLog(_ handle: OpaquePointer) -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        // Returns the log's length, not an error code.
        let length = buffer.withUnsafeMutableBufferPointer { b in
            Int(sf_command(handle, Int32(SFC_GET_LOG_INFO), b.baseAddress, Int32(b.count - 1)))
        }
        guard length > 0 else { return "" }
        return String(decoding: buffer.prefix(min(length, buffer.count - 1)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    deinit {
        sf_close(handle)
    }

    /// Moves the read position to `frame` (0-based, in frames from the start of the audio data).
    public mutating func seek(toFrame frame: Int) throws(AudioError) {
        guard frame >= 0 else {
            throw AudioError(path: path, function: "sf_seek", message: "frame \(frame) is negative")
        }
        if sf_seek(handle, sf_count_t(frame), SEEK_SET) < 0 {
            var code = sf_error(handle)
            if code == 0 { code = Int32(SF_ERR_UNSUPPORTED_ENCODING) }
            try SndFileStatus.check(code, "sf_seek", path: path, handle: handle)
        }
    }

    /// Reads up to `buffer.count / info.channels` frames as interleaved `Float`s into the front of
    /// `buffer`; returns the number of frames read (0 at the end of the file, or when `buffer` holds less
    /// than one frame). A short read at a truncated end is not an error. A decoder error (corrupt or
    /// cut-off compressed data) throws; when the failing call still produced frames, they are returned
    /// first and the error is thrown by the next call.
    public mutating func read(into buffer: UnsafeMutableBufferPointer<Float>) throws(AudioError) -> Int {
        if let pendingError {
            self.pendingError = nil
            throw pendingError
        }
        let wanted = buffer.count / info.channels
        guard wanted > 0, let base = buffer.baseAddress else { return 0 }
        let got = Int(max(0, sf_readf_float(handle, base, sf_count_t(wanted))))
        let code = sf_error(handle)
        if code != 0 {
            do {
                try SndFileStatus.check(code, "sf_readf_float", path: path, handle: handle)
            } catch {
                if got == 0 { throw error }
                pendingError = error
            }
        }
        return got
    }
}

/// Reading libsndfile's header parse log, where it records the header fields it had to correct.
enum SndFileHeaderLog {
    /// Labels of the chunk/field that sizes the audio data: WAV/W64/RF64 `data`, AIFF `SSND`, AU `Data Size`.
    static let dataSizeLabels: Set<String> = ["data", "ssnd", "data size"]

    /// One line describing a data size the header declares but the file does not hold, or nil.
    /// The log shows it as `data : 441000 (should be 44100)` (bytes). A wrong container size alone
    /// (`RIFF : ... (should be ...)`) is harmless and not reported.
    static func dataSizeProblem(_ log: String) -> String? {
        for line in log.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            guard let colon = line.firstIndex(of: ":"), let should = line.range(of: "(should be ") else { continue }
            let label = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            guard dataSizeLabels.contains(label) else { continue }
            let declared = line[line.index(after: colon)..<should.lowerBound].trimmingCharacters(in: .whitespaces)
            let actual = line[should.upperBound...].prefix { $0.isNumber }
            return "the header declares \(declared) bytes of audio data, the file holds \(actual)"
        }
        return nil
    }
}
