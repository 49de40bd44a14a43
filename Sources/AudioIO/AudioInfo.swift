/// What a sound file's header says.
public struct AudioInfo: Sendable, Equatable, Codable {
    /// Sample rate in Hz.
    public var sampleRate: Int
    /// Interleaved channels per frame.
    public var channels: Int
    /// Sample frames per channel, as the header claims (a truncated file may hold fewer).
    public var frames: Int
    /// Container from libsndfile's major format: "WAV", "AU", "AIFF", "FLAC", "OGG", "MPEG", …
    public var container: String
    /// Sample encoding from libsndfile's subtype: "PCM_16", "PCM_24", "FLOAT", "VORBIS", "OPUS", "MPEG_LAYER_III", …
    public var encoding: String
    /// Damage libsndfile noticed in the header and worked around, as one line, or `nil`: a data chunk that
    /// declares more bytes than the file holds (a truncated file: `frames` is then what is really there).
    public var headerProblem: String?

    public init(
        sampleRate: Int, channels: Int, frames: Int, container: String, encoding: String, headerProblem: String? = nil
    ) {
        self.sampleRate = sampleRate
        self.channels = channels
        self.frames = frames
        self.container = container
        self.encoding = encoding
        self.headerProblem = headerProblem
    }

    /// Duration in seconds, `frames / sampleRate` (0 when the rate is not positive).
    public var seconds: Double {
        sampleRate > 0 ? Double(frames) / Double(sampleRate) : 0
    }
}
