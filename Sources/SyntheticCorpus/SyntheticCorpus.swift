internal import GenreCore
public import AudioIO

/// A GTZAN-style corpus of synthetic music: ten genre folders, each genre with a distinct, learnable character
/// (tempo and rhythm pattern, instrument timbres, harmony, percussion and noise level), with clip-to-clip
/// variation (key, tempo ±8 %, detuning and brightness, gain, noise, starting point in the song).
///
/// Everything is deterministic: a clip depends only on the corpus seed, its genre and its index, never on the
/// order or thread it is rendered in. Used by `make demo`, tests and benchmarks.
public enum SyntheticCorpus {
    /// Genre names, sorted like GTZAN's folders; a ``ClipPlan/genre`` indexes this array.
    public static let genres: [String] = [
        "blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock",
    ]

    /// What to generate.
    public struct Options: Sendable, Equatable {
        /// Clips per genre folder (GTZAN has 100).
        public var clipsPerGenre: Int
        /// Length of every clip in seconds (GTZAN: 30).
        public var seconds: Double
        /// Seed of the whole corpus; the same seed gives bit-identical clips.
        public var seed: UInt64
        /// Worker threads used by ``SyntheticCorpus/write(to:options:)``; `nil` uses every core. Does not change the output.
        public var workers: Int?
        /// Which file formats the clips are stored in.
        public var formats: FormatMix

        public init(
            clipsPerGenre: Int = 10, seconds: Double = 30, seed: UInt64 = 0, workers: Int? = nil,
            formats: FormatMix = .mixed
        ) {
            self.clipsPerGenre = clipsPerGenre
            self.seconds = seconds
            self.seed = seed
            self.workers = workers
            self.formats = formats
        }
    }

    /// The storage formats of a corpus. Raw values are the command line's spelling.
    public enum FormatMix: String, Sendable, Equatable, CaseIterable {
        /// Even clip indices `.au` 22050 Hz mono, odd ones `.wav` 44100 Hz stereo (exercises resampling and downmix).
        case mixed
        /// Every clip `.au`, 22050 Hz mono 16-bit (GTZAN's own format).
        case au22050 = "au22050"
        /// Every clip `.wav`, 44100 Hz stereo 16-bit.
        case wav44100 = "wav44100"
    }

    /// Where one clip goes and how it is stored. Even clip indices are GTZAN-like `.au` files (22050 Hz, mono,
    /// 16-bit PCM), odd ones `.wav` files (44100 Hz, stereo, 16-bit PCM).
    public struct ClipPlan: Sendable, Equatable {
        /// Index into ``SyntheticCorpus/genres``.
        public var genre: Int
        /// Clip number within the genre (0-based).
        public var index: Int
        /// Path relative to the corpus root, like GTZAN: `"<genre>/<genre>.<NNNNN>.au"` or `.wav`.
        public var relativePath: String
        /// Sample rate in Hz.
        public var sampleRate: Int
        /// 1 (mono) or 2 (interleaved stereo, L R).
        public var channels: Int
        /// File format to write.
        public var format: AudioFileFormat

        public init(genre: Int, index: Int, relativePath: String, sampleRate: Int, channels: Int, format: AudioFileFormat) {
            self.genre = genre
            self.index = index
            self.relativePath = relativePath
            self.sampleRate = sampleRate
            self.channels = channels
            self.format = format
        }

        /// The genre's name.
        public var genreName: String { SyntheticCorpus.genres[genre] }
    }

    /// The clips of the corpus, genre by genre (in ``genres`` order) and by index within each genre.
    public static func plan(_ options: Options) -> [ClipPlan] {
        var plans = [ClipPlan]()
        plans.reserveCapacity(genres.count * max(0, options.clipsPerGenre))
        for (genre, name) in genres.enumerated() {
            for index in 0..<max(0, options.clipsPerGenre) {
                let number = String(index)
                let padded = String(repeating: "0", count: max(0, 5 - number.count)) + number
                let isAU: Bool
                switch options.formats {
                case .mixed: isAU = index % 2 == 0
                case .au22050: isAU = true
                case .wav44100: isAU = false
                }
                let format: AudioFileFormat = isAU ? .auPCM16 : .wavPCM16
                plans.append(ClipPlan(
                    genre: genre, index: index, relativePath: "\(name)/\(name).\(padded).\(format.fileExtension)",
                    sampleRate: isAU ? 22_050 : 44_100, channels: isAU ? 1 : 2, format: format))
            }
        }
        return plans
    }

    /// Renders one clip: `Int((options.seconds * sampleRate).rounded()) * channels` interleaved samples in [-1, 1]
    /// (peak normalised to between 0.5 and 0.9, varying by clip), deterministic from (seed, genre, index).
    public static func render(_ clip: ClipPlan, options: Options) -> [Float] {
        var buffers = RenderBuffers()
        let count = sampleCount(clip, options: options)
        return [Float](unsafeUninitializedCapacity: count) { output, initialized in
            render(clip, options: options, buffers: &buffers, into: output)
            initialized = count
        }
    }

    /// Interleaved samples in `clip` rendered with `options`.
    static func sampleCount(_ clip: ClipPlan, options: Options) -> Int {
        max(0, Int((options.seconds * Double(clip.sampleRate)).rounded())) * clip.channels
    }

    /// Renders `clip` into `output` (``sampleCount(_:options:)`` samples), using `buffers` as working storage.
    static func render(_ clip: ClipPlan, options: Options, buffers: inout RenderBuffers,
                       into output: UnsafeMutableBufferPointer<Float>) {
        precondition(genres.indices.contains(clip.genre), "genre index \(clip.genre) is not in 0..<\(genres.count)")
        precondition(clip.channels == 1 || clip.channels == 2, "clips are mono or stereo, not \(clip.channels) channels")
        precondition(clip.sampleRate > 0 && options.seconds >= 0, "sample rate and length must be positive")
        var random = SplitMix64(seed: options.seed, genre: clip.genre, index: clip.index)
        let tempo = GenreArrangements.baseTempo[clip.genre] * random.uniform(0.92, 1.08)
        let beatsPerBar = clip.genre == 1 && random.chance(0.4) ? 3 : 4
        let peak = random.uniformFloat(0.5, 0.9)
        let buses = buffers.buses(samples: Studio.samplesPerBus(sampleRate: clip.sampleRate, seconds: options.seconds))
        var studio = Studio(sampleRate: clip.sampleRate, seconds: options.seconds, tempo: tempo, beatsPerBar: beatsPerBar,
                            random: random, buses: buses)
        var mix = GenreArrangements.arrange(genre: clip.genre, in: &studio)
        mix.peak = peak
        studio.mixdown(mix, channels: clip.channels, into: output)
    }
}

