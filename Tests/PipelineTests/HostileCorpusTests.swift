import ConfigurationDecoding
import GenreCore
import AudioIO
import Foundation
import Shards
import Testing

@testable import Pipeline

/// Hostile corpora, generated here (no binary fixture): every run completes, names every bad file with a reason
/// (`skipped`, or `warnings` when the file is used despite damage), writes every good clip, and keeps the
/// normalisation statistics finite.
@Suite(.serialized) struct HostileCorpusTests {
    // MARK: - Byte-level damage

    /// Offset of the first byte of RIFF chunk `id`'s payload, and the offset of its size field.
    static func riffChunk(_ id: String, in bytes: Data) -> (size: Int, payload: Int)? {
        var offset = 12
        while offset + 8 <= bytes.count {
            let name = String(decoding: bytes[offset..<(offset + 4)], as: UTF8.self)
            let size = Int(readLE32(bytes, offset + 4))
            if name == id { return (offset + 4, offset + 8) }
            offset += 8 + size + (size & 1)
        }
        return nil
    }

    static func readLE32(_ d: Data, _ at: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(d[d.startIndex + at + $1]) << (8 * UInt32($1)) }
    }

    static func writeLE32(_ d: inout Data, _ at: Int, _ v: UInt32) {
        for k in 0..<4 { d[d.startIndex + at + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(k))) }
    }

    static func writeBE32(_ d: inout Data, _ at: Int, _ v: UInt32) {
        for k in 0..<4 { d[d.startIndex + at + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(3 - k))) }
    }

    /// Rewrites `path` through `edit`.
    static func patch(_ path: String, _ edit: (inout Data) -> Void) throws {
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        edit(&bytes)
        try bytes.write(to: URL(fileURLWithPath: path))
    }

    /// A WAV whose `fmt ` chunk says `rate` Hz (and a byte rate to match).
    static func patchWavRate(_ path: String, _ rate: UInt32) throws {
        try patch(path) { d in
            let fmt = riffChunk("fmt ", in: d)!.payload
            writeLE32(&d, fmt + 4, rate)
            writeLE32(&d, fmt + 8, rate &* 2)
        }
    }

    /// An AU (big-endian `.snd`) header with `rate` Hz: the rate is the 5th 32-bit field.
    static func patchAuRate(_ path: String, _ rate: UInt32) throws {
        try patch(path) { d in writeBE32(&d, 16, rate) }
    }

    // MARK: - The corpus

    /// Good clips (relative paths) and bad files (path → reason fragment, skipped or warned).
    struct Expectations {
        var good: [String] = []
        var skipped: [String: String] = [:]
        var warned: [String: String] = [:]
    }

    static let nfcCafe = "caf\u{E9}", nfdCafe = "cafe\u{301}"
    static let guitars = "\u{1F3B8} guitar solos"

    /// Writes the hostile corpus under `folder/corpus` and says what each file should become.
    static func makeHostileCorpus(_ f: borrowing TemporaryFolder) throws -> (root: String, expected: Expectations) {
        var e = Expectations()
        var frequency = 200.0
        func tone(_ relative: String, seconds: Double = 2.2, rate: Int = 22050, format: AudioFileFormat = .wavPCM16) {
            frequency += 37  // every good clip differs: no duplicates
            f.writeTone("corpus/" + relative, frequency: frequency, seconds: seconds, rate: rate, format: format)
        }
        func good(_ relative: String, seconds: Double = 2.2, rate: Int = 22050, format: AudioFileFormat = .wavPCM16) {
            tone(relative, seconds: seconds, rate: rate, format: format)
            e.good.append(relative)
        }
        let root = f.file("corpus")
        for k in 1...3 { good("rock/rock \(k).wav") }
        for k in 1...3 { good("jazz/jazz \(k).au", format: .auPCM16) }
        good("pop/pop 1.wav", rate: 44100)
        good("pop/pop 2.wav", rate: 8000)
        good("pop/short.wav", seconds: 0.03)  // shorter than one STFT frame: padded, flagged

        // Unicode: NFC and NFD spellings of one folder name (two folders on Linux, one class), emoji, spaces.
        good("\(nfcCafe)/na\u{EF}ve NFC.wav")
        good("\(nfcCafe)/second.wav")
        good("\(nfdCafe)/nai\u{308}ve NFD.wav")
        good("\(nfdCafe)/third.wav")
        good("\(guitars)/\u{1F600} smile.wav")
        good("\(guitars)/two  spaces .wav")
        good("\(guitars)/u\u{308}ber.wav")

        // Already in the bad-input list.
        f.write("corpus/rock/not audio.wav", text: "plain text with an audio extension")
        e.skipped["rock/not audio.wav"] = "Format not recognised"
        f.write("corpus/rock/empty.au", text: "")
        e.skipped["rock/empty.au"] = "no audio frames: the file is empty"
        f.write("corpus/README.wav", text: "at the root")
        e.skipped["README.wav"] = "not in a class folder"
        f.makeFolder("corpus/empty class")
        e.skipped["empty class/"] = "no usable audio file"
        tone("rock/cut header.wav")
        try patch(f.file("corpus/rock/cut header.wav")) { $0 = $0.prefix(20) }
        e.skipped["rock/cut header.wav"] = "Malformed 'fmt ' chunk"
        // A file cut inside its data: used, with a warning.
        good("rock/truncated.wav")
        try patch(f.file("corpus/rock/truncated.wav")) { $0 = $0.prefix($0.count / 2 + 1) }
        e.warned["rock/truncated.wav"] = "truncated: the header declares"
        // Unreadable (root can read it anyway: then it is simply a good clip).
        tone("rock/unreadable.wav")
        try FileManager.default.setAttributes([.posixPermissions: 0], ofItemAtPath: f.file("corpus/rock/unreadable.wav"))
        if geteuid() == 0 { e.good.append("rock/unreadable.wav") } else { e.skipped["rock/unreadable.wav"] = "ermission" }

        // A header that claims ten times the data (and RIFF size) the file holds: used, with a warning.
        good("jazz/claims more.wav")
        try patch(f.file("corpus/jazz/claims more.wav")) { d in
            let data = riffChunk("data", in: d)!
            writeLE32(&d, data.size, readLE32(d, data.size) * 10)
            writeLE32(&d, 4, readLE32(d, 4) * 10)
        }
        e.warned["jazz/claims more.wav"] = "truncated: the header declares"

        // Absurd sample rates in WAV and AU headers.
        for (rate, name) in [(UInt32(0), "0 Hz"), (1, "1 Hz"), (10_000_000, "10 MHz")] {
            tone("jazz/rate \(name).wav")
            try patchWavRate(f.file("corpus/jazz/rate \(name).wav"), rate)
            tone("jazz/rate \(name).au", format: .auPCM16)
            try patchAuRate(f.file("corpus/jazz/rate \(name).au"), rate)
            let reason = rate == 0 ? "the header declares an invalid sample rate" : "implausible sample rate in the header: \(rate) Hz"
            e.skipped["jazz/rate \(name).wav"] = reason
            e.skipped["jazz/rate \(name).au"] = reason
        }

        // Non-finite samples in float WAVs, and finite samples so large that their power overflows Float.
        let n = 22050 * 2
        var samples = (0..<n).map { Float(0.3 * sin(Double($0) * 0.05)) }
        samples[100] = .nan; samples[2000] = .nan; samples[30000] = .nan
        try SoundFileWriter.write(samples, to: f.file("corpus/pop/nan.wav"), format: .wavFloat, sampleRate: 22050, channels: 1)
        e.skipped["pop/nan.wav"] = "contains 3 NaN/infinite samples"
        samples[100] = .infinity; samples[2000] = -.infinity; samples[30000] = 0
        try SoundFileWriter.write(samples, to: f.file("corpus/pop/infinite.wav"), format: .wavFloat, sampleRate: 22050, channels: 1)
        e.skipped["pop/infinite.wav"] = "contains 2 NaN/infinite samples"
        // The writer clips floats to [-1, 1]: patch the stored values.
        try SoundFileWriter.write(samples, to: f.file("corpus/pop/huge.wav"), format: .wavFloat, sampleRate: 22050, channels: 1)
        try patch(f.file("corpus/pop/huge.wav")) { d in
            let data = riffChunk("data", in: d)!.payload
            writeLE32(&d, data + 4 * 100, Float(1e30).bitPattern)
            writeLE32(&d, data + 4 * 2000, Float(-1e30).bitPattern)
        }
        e.skipped["pop/huge.wav"] = "contains 2 samples beyond ±1000000"

        // A folder named like an audio file: a folder (walked into), not a file.
        good("rock/folder.wav/inner clip.wav")

        // Symbolic links: to its own folder (a loop through the walk), to itself, and to nothing.
        let fm = FileManager.default
        try fm.createSymbolicLink(atPath: f.file("corpus/rock/loop"), withDestinationPath: ".")
        e.skipped["rock/loop/"] = "symbolic link to a folder: not followed"
        try fm.createSymbolicLink(atPath: f.file("corpus/rock/self.wav"), withDestinationPath: "self.wav")
        e.skipped["rock/self.wav"] = "symbolic link loop"
        try fm.createSymbolicLink(atPath: f.file("corpus/rock/dangling.wav"), withDestinationPath: "nowhere.wav")
        e.skipped["rock/dangling.wav"] = "dangling symbolic link: its target 'nowhere.wav' does not exist"
        try fm.createSymbolicLink(atPath: f.file("corpus/root loop"), withDestinationPath: "root loop")
        e.skipped["root loop"] = "symbolic link loop"
        return (root, e)
    }

    /// UTF-8 bytes: NFC and NFD spellings are different files, though Swift strings compare them as equal.
    static func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    @Test func hostileCorpusCompletesAndReportsEveryBadFile() throws {
        let f = TemporaryFolder()
        let (root, expected) = try Self.makeHostileCorpus(f)
        // The two spellings of the folder are two folders on this file system.
        let top = try FileManager.default.contentsOfDirectory(atPath: root).map(Self.bytes)
        #expect(top.contains(Self.bytes(Self.nfcCafe)) && top.contains(Self.bytes(Self.nfdCafe)))

        let out = f.file("shards")
        let config = try smallConfiguration(seconds: 2, clipsPerShard: 5)
        let report = try Preprocessor(configuration: config, options: .init(corpus: root, output: out, jobs: 2)).run()

        // Every bad file is named once, with its reason.
        let byPath = Dictionary(grouping: report.skipped, by: { Self.bytes($0.path) })
        for (path, fragment) in expected.skipped {
            let entries = byPath[Self.bytes(path)] ?? []
            #expect(entries.count == 1, "\(path) should be skipped once: \(entries)")
            if let entry = entries.first {
                #expect(entry.reason.localizedCaseInsensitiveContains(fragment), "\(path): \(entry.reason)")
            }
        }
        #expect(report.skipped.count == expected.skipped.count, "unexpected skips: \(report.skipped.map(\.description))")
        for (path, fragment) in expected.warned {
            let entry = report.warnings.first { Self.bytes($0.path) == Self.bytes(path) }
            #expect(entry?.reason.contains(fragment) == true, "\(path): \(String(describing: entry))")
        }
        #expect(report.warnings.count == expected.warned.count, "\(report.warnings.map(\.description))")
        #expect(report.skipped.allSatisfy { !$0.reason.contains("\n") && !$0.reason.isEmpty })

        // report.json says the same.
        let json = try JSONDecoder().decode(RunReport.self, from: Data(contentsOf: URL(fileURLWithPath: out + "/report.json")))
        #expect(json.skipped.map { Self.bytes($0.path) } == report.skipped.map { Self.bytes($0.path) })
        #expect(json.skipped.map(\.reason) == report.skipped.map(\.reason))
        #expect(json.warnings.map(\.reason) == report.warnings.map(\.reason))

        // The NFC and NFD folders are one class, named by the first spelling in UTF-8 order (NFD).
        #expect(report.classes.map(Self.bytes).sorted { $0.lexicographicallyPrecedes($1) }
            == ["rock", "jazz", "pop", Self.nfdCafe, Self.guitars].map(Self.bytes).sorted { $0.lexicographicallyPrecedes($1) })
        #expect(report.shorterThanFrame.map(Self.bytes) == [Self.bytes("pop/short.wav")])

        // Every good clip is in the shards, once, with finite values and finite statistics.
        let contents = try ShardContents(directory: out)
        let written = contents.rows.map { Self.bytes($0.path) }.sorted { $0.lexicographicallyPrecedes($1) }
        #expect(written == expected.good.map(Self.bytes).sorted { $0.lexicographicallyPrecedes($1) })
        #expect(report.counts.written == expected.good.count)
        #expect(contents.mean.allSatisfy(\.isFinite) && contents.std.allSatisfy { $0.isFinite && $0 > 0 })
        #expect(report.normalisation.mean.allSatisfy(\.isFinite) && report.normalisation.std.allSatisfy(\.isFinite))
        for row in contents.rows {
            let finite = row.mel.allSatisfy { $0.isFinite }
            #expect(finite, "\(row.path)")
            let folder = row.path.split(separator: "/")[0]
            let className = contents.classes[Int(row.label)]
            #expect(className == String(folder))  // canonical equivalence: both café spellings are the class
        }
        let cafe = contents.rows.filter { $0.path.hasPrefix(Self.nfcCafe + "/") || $0.path.hasPrefix(Self.nfdCafe + "/") }
        #expect(cafe.count == 4 && Set(cafe.map(\.label)).count == 1)
    }

    @Test func missingCorpusThrowsAClearPipelineError() throws {
        let f = TemporaryFolder()
        let missing = f.file("no such corpus")
        let preprocessor = Preprocessor(
            configuration: try smallConfiguration(), options: .init(corpus: missing, output: f.file("s")))
        let error = try #require(throws: PipelineError.self) { try preprocessor.run() }
        #expect(error.description.contains(missing))
        #expect(error.description.contains("does not exist"))
        #expect(!FileManager.default.fileExists(atPath: f.file("s/report.json")))
    }

    @Test func malformedConfigurationNamesTheKey() throws {
        let wrongType = try #require(throws: ConfigurationError.self) {
            try PipelineConfiguration.parse(toml: "[audio]\nclip_seconds = \"two\"\n", file: "bad.toml")
        }
        #expect(wrongType.key?.contains("clip_seconds") == true, "\(wrongType)")
        #expect(wrongType.description.hasPrefix("bad.toml: "))
        let outOfRange = try #require(throws: ConfigurationError.self) {
            try PipelineConfiguration.parse(toml: "[audio]\nclip_seconds = -1\n")
        }
        #expect(outOfRange.key == "audio.clip_seconds")
        let syntax = try #require(throws: ConfigurationError.self) { try PipelineConfiguration.parse(toml: "[audio\n") }
        #expect(syntax.reason.contains("line"))
    }

    /// NaN and infinite samples are refused by the extractor itself (also for `genre predict`, which has no scan).
    /// The vectorised damage count against a plain loop, with damage in the SIMD body and in the tail.
    @Test(arguments: [0, 5, 8, 1003, 4096])
    func damagedSampleCountsMatchAPlainLoop(count: Int) {
        var values = (0..<count).map { Float(sin(Double($0))) * 0.9 }
        let damage: [(Int, Float)] = [(3, .nan), (100, .infinity), (1001, -.infinity), (7, 2e6), (1002, -3e7),
                                      (50, ClipFeatureExtractor.maximumSampleMagnitude), (4095, -.nan), (6, 1e30)]
        for (i, v) in damage where i < count { values[i] = v }
        var expected = (nonFinite: 0, huge: 0)
        for v in values {
            if !v.isFinite { expected.nonFinite += 1 } else if abs(v) > ClipFeatureExtractor.maximumSampleMagnitude { expected.huge += 1 }
        }
        let counted = values.withUnsafeBufferPointer { ClipFeatureExtractor.countDamaged($0) }
        #expect(counted.nonFinite == expected.nonFinite && counted.huge == expected.huge, "\(counted) vs \(expected)")
    }

    @Test func extractorRefusesNonFiniteSamplesAndAbsurdRates() throws {
        let f = TemporaryFolder()
        var samples = [Float](repeating: 0.1, count: 4000)
        samples[7] = .nan
        try SoundFileWriter.write(samples, to: f.file("nan.wav"), format: .wavFloat, sampleRate: 8000, channels: 1)
        // libsndfile stores NaN as it is: the decoder sees it.
        #expect(try AudioDecoder.decodeMono(path: f.file("nan.wav")).samples[7].isNaN)
        let config = try smallConfiguration(seconds: 1)
        var extractor = ClipFeatureExtractor(configuration: config)
        var out = [Float](repeating: 0, count: extractor.outputCount)
        let nan = try #require(throws: AudioError.self) {
            _ = try out.withUnsafeMutableBufferPointer { try extractor.extract(path: f.file("nan.wav"), header: nil, into: $0) }
        }
        #expect(nan.description == "\(f.file("nan.wav")): decode: contains 1 NaN/infinite samples (of 4000 decoded frames): not used")
        #expect(throws: AudioError.self) { try ClipFeatureExtractor.wholeFileSpectrogram(path: f.file("nan.wav"), configuration: config) }

        f.writeTone("one-hertz.wav", frequency: 0, seconds: 0.5, rate: 8000)
        try Self.patchWavRate(f.file("one-hertz.wav"), 1)
        let slow = try #require(throws: AudioError.self) {
            _ = try out.withUnsafeMutableBufferPointer { try extractor.extract(path: f.file("one-hertz.wav"), header: nil, into: $0) }
        }
        #expect(slow.message.contains("implausible sample rate 1 Hz"))
    }

    /// A header that claims an hour for a 3 s stream (as a cut-off compressed file's does): the excerpt the header
    /// points to does not exist, so the extractor reads what is there from the start and says so.
    @Test func headerClaimingAnHourForAShortStreamFallsBackToWhatIsThere() throws {
        let f = TemporaryFolder()
        try Self.writeHourSignal(f.file("short.wav"), seconds: 0..<3, rate: 8000)
        var config = try smallConfiguration(seconds: 2)
        config.audio.crop = .centre
        var extractor = ClipFeatureExtractor(configuration: config)
        let real = try AudioDecoder.info(path: f.file("short.wav"))
        var lie = real
        lie.frames = 3600 * 8000
        var expected = [Float](repeating: 0, count: extractor.outputCount), got = expected
        _ = try expected.withUnsafeMutableBufferPointer { try extractor.extract(path: f.file("short.wav"), header: real, into: $0) }
        let outcome = try got.withUnsafeMutableBufferPointer { try extractor.extract(path: f.file("short.wav"), header: lie, into: $0) }
        #expect(outcome.warning?.hasPrefix("truncated: the header says 28800000 frames, the audio ends before frame") == true,
                "\(String(describing: outcome.warning))")
        #expect(got == expected)
    }

    // MARK: - One hour

    /// Seconds `k` of the long file: a tone whose pitch depends on `k % 37` (so a wrong offset shows), at `rate`.
    static func hourChunk(_ k: Int, rate: Int) -> [Float] {
        let f = 150.0 + 23.0 * Double(k % 37)
        return (0..<rate).map { i in
            let t = Double(i) / Double(rate)
            return Float(0.3 * sin(2 * .pi * f * t) + 0.1 * sin(2 * .pi * 3.1 * f * t))
        }
    }

    /// Writes seconds `range` of the long signal to `path` (chunk by chunk: never the whole signal in memory).
    static func writeHourSignal(_ path: String, seconds range: Range<Int>, rate: Int) throws {
        var chunks: [Int: [Float]] = [:]
        var writer = try SoundFileWriter(path: path, format: .wavPCM16, sampleRate: rate, channels: 1)
        for k in range {
            if chunks[k % 37] == nil { chunks[k % 37] = hourChunk(k, rate: rate) }
            try writer.write(interleaved: chunks[k % 37]!)
        }
        try writer.close()
    }

    /// A one-hour file, mono 16-bit (at 8 kHz: 57.6 MB, decoded whole 115 MB of Float and 318 MB once resampled
    /// to 22050 Hz; at 22050 Hz: 159 MB, 318 MB decoded): the run reads only the kept part and the clip is the
    /// first `clip_seconds` (crop = start). With crop = centre, the clip is the middle of the file, on the same
    /// sample grid as the whole file's resampling. The peak memory of such a run is measured, not asserted, by
    /// `make bench` (`scripts/bench_preprocess.py --long-file`): a test process runs other suites in parallel, so
    /// its peak memory says nothing about this one. Set GENREKIT_SKIP_LONG_AUDIO=1 to skip.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["GENREKIT_SKIP_LONG_AUDIO"] == nil), arguments: [8000, 22050])
    func oneHourFileIsReadInPart(rate: Int) throws {
        let f = TemporaryFolder()
        f.makeFolder("corpus/long")
        try Self.writeHourSignal(f.file("corpus/long/hour.wav"), seconds: 0..<3600, rate: rate)
        for k in 1...2 { f.writeTone("corpus/long/tone \(k).wav", frequency: 300 + 40 * Double(k), seconds: 2) }
        for k in 1...3 { f.writeTone("corpus/short/tone \(k).wav", frequency: 500 + 40 * Double(k), seconds: 2) }
        let header = try AudioDecoder.info(path: f.file("corpus/long/hour.wav"))
        #expect(header.frames == 3600 * rate)
        #expect(header.frames > ClipFeatureExtractor.wholeFileSampleLimit)

        let config = try smallConfiguration(seconds: 2)
        #expect(config.audio.crop == .start)
        let report = try Preprocessor(configuration: config, options: .init(corpus: f.file("corpus"), output: f.file("s"), jobs: 2)).run()
        #expect(report.skipped.isEmpty && report.warnings.isEmpty)
        #expect(report.counts.written == 6)

        // The stored clip is the spectrogram of the first 2 s (here from a 4 s file of the same signal).
        try Self.writeHourSignal(f.file("start.wav"), seconds: 0..<4, rate: rate)
        var extractor = ClipFeatureExtractor(configuration: config)
        var reference = [Float](repeating: 0, count: extractor.outputCount)
        _ = try reference.withUnsafeMutableBufferPointer { try extractor.extract(path: f.file("start.wav"), header: nil, into: $0) }
        let contents = try ShardContents(directory: f.file("s"))
        let row = try #require(contents.rows.first { $0.path == "long/hour.wav" })
        let bands = config.mel.nMels, frames = config.framesPerClip
        var worst: Float = 0
        for b in 0..<bands { for t in 0..<frames {
            let db = row.mel[b * frames + t] * contents.std[b] + contents.mean[b]
            worst = max(worst, abs(db - reference[b * frames + t]))
        } }
        #expect(worst < 1e-3, "start crop differs by \(worst) dB")

        // Centre crop: the middle 2 s start at 1799 s (output sample 39 667 950 of 79 380 000).
        var centreConfig = config
        centreConfig.audio.crop = .centre
        var centre = ClipFeatureExtractor(configuration: centreConfig)
        var long = [Float](repeating: 0, count: centre.outputCount)
        _ = try long.withUnsafeMutableBufferPointer { try centre.extract(path: f.file("corpus/long/hour.wav"), header: header, into: $0) }
        try Self.writeHourSignal(f.file("middle.wav"), seconds: 1797..<1803, rate: rate)
        let middle = try AudioDecoder.decodeMono(path: f.file("middle.wav"))
        let resampled = try centreConfig.audio.resampler.makeResampler().resample(middle.samples, from: rate, to: 22050)
        _ = reference.withUnsafeMutableBufferPointer { centre.compute(signal: resampled, cropOffset: 2 * 22050, into: $0) }
        worst = 0
        for i in 0..<long.count { worst = max(worst, abs(long[i] - reference[i])) }
        print("one-hour file at \(rate) Hz: centre crop differs from the reference excerpt by \(worst) dB")
        #expect(worst < 1e-2, "centre crop differs by \(worst) dB")
    }
}
