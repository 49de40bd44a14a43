import Foundation
import Testing
@testable import AudioIO

/// Broken, empty, truncated and unreadable files: a clear one-line error naming the file, never a crash.
@Suite struct BadInputTests {
    /// Decodes `path` expecting failure; returns the error.
    func decodeError(_ path: String, sourceLocation: SourceLocation = #_sourceLocation) -> AudioError? {
        do {
            let audio = try AudioDecoder.decodeMono(path: path)
            Issue.record("decoded \(audio.samples.count) samples from \(path)", sourceLocation: sourceLocation)
            return nil
        } catch {
            #expect(error.path == path, sourceLocation: sourceLocation)
            #expect(error.description.hasPrefix(path + ": "), sourceLocation: sourceLocation)
            #expect(!error.description.contains("\n"), sourceLocation: sourceLocation)
            #expect(!error.message.isEmpty, sourceLocation: sourceLocation)
            return error
        }
    }

    @Test func nonAudioFileWithWavExtension() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("notes.wav")
        try Data(String(repeating: "This is not audio at all. ", count: 200).utf8).write(to: URL(fileURLWithPath: path))
        let error = try #require(decodeError(path))
        #expect(error.function == "sf_open")
        #expect(throws: AudioError.self) { try AudioDecoder.info(path: path) }
    }

    @Test func zeroLengthFile() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("empty.wav")
        try Data().write(to: URL(fileURLWithPath: path))
        let error = try #require(decodeError(path))
        #expect(error.function == "sf_open")
        #expect(error.message.contains("empty file"))
    }

    @Test func missingFile() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("does-not-exist.au")
        let error = try #require(decodeError(path))
        #expect(error.message.localizedCaseInsensitiveContains("no such file"))
    }

    @Test func directoryInsteadOfFile() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("folder.wav")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        let error = try #require(decodeError(path))
        #expect(error.message.contains("is a directory"))
    }

    /// chmod 000: unreadable for a normal user. Root reads it anyway, so then it must simply decode.
    @Test func unreadableFile() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("locked.wav")
        try SoundFileWriter.write(Signal.tone(frequency: 440, sampleRate: 8000, count: 800), to: path,
                                  format: .wavPCM16, sampleRate: 8000, channels: 1)
        try FileManager.default.setAttributes([.posixPermissions: 0], ofItemAtPath: path)
        if geteuid() == 0 {
            #expect(try AudioDecoder.decodeMono(path: path).samples.count == 800)
        } else {
            let error = try #require(decodeError(path))
            #expect(error.message.localizedCaseInsensitiveContains("permission"))
        }
    }

    /// A WAV whose header claims more data than the file holds decodes the frames that are there.
    @Test(arguments: [0, 1, 3])
    func truncatedWav(extraBytes: Int) throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("cut.wav")
        let frames = 22050
        let left = Signal.tone(frequency: 440, sampleRate: 22050, count: frames)
        let right = Signal.tone(frequency: 660, sampleRate: 22050, count: frames)
        try SoundFileWriter.write(Signal.interleave([left, right]), to: path, format: .wavPCM16, sampleRate: 22050, channels: 2)
        let whole = try Data(contentsOf: URL(fileURLWithPath: path))
        let header = whole.count - frames * 4
        let keptFrames = 5000
        try whole.prefix(header + keptFrames * 4 + extraBytes).write(to: URL(fileURLWithPath: path))

        // libsndfile notices the short data chunk and reports the frames actually present.
        let info = try AudioDecoder.info(path: path)
        #expect(info.frames <= frames)
        #expect(info.headerProblem == "the header declares \(frames * 4) bytes of audio data, the file holds \(keptFrames * 4 + extraBytes)")
        let mono = try AudioDecoder.decodeMono(path: path)
        #expect(mono.samples.count == keptFrames)
        #expect(mono.decodeError == nil)
        let expected = zip(left.prefix(keptFrames), right.prefix(keptFrames)).map { ($0 + $1) / 2 }
        #expect(maxAbsDifference(mono.samples, expected) <= 1.0 / 32768)
    }

    /// A complete file has no header problem; libsndfile's log line for a short data chunk becomes one line.
    @Test func headerProblemComesFromTheDataChunkOnly() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("whole.wav")
        try SoundFileWriter.write(Signal.tone(frequency: 440, sampleRate: 8000, count: 800), to: path,
                                  format: .wavPCM16, sampleRate: 8000, channels: 1)
        #expect(try AudioDecoder.info(path: path).headerProblem == nil)
        #expect(SndFileHeaderLog.dataSizeProblem("RIFF : 44136 (should be 22064)\nWAVE\n") == nil)
        #expect(SndFileHeaderLog.dataSizeProblem("  Data Size   : 44100 (should be 22038)\n")
            == "the header declares 44100 bytes of audio data, the file holds 22038")
        #expect(SndFileHeaderLog.dataSizeProblem(" SSND : 44108 (should be 22031)\n*** Chunk size") != nil)
    }

    /// A header cut inside itself is an error, not a crash.
    @Test func truncatedHeader() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("stub.wav")
        try SoundFileWriter.write(Signal.tone(frequency: 440, sampleRate: 8000, count: 800), to: path,
                                  format: .wavPCM16, sampleRate: 8000, channels: 1)
        let whole = try Data(contentsOf: URL(fileURLWithPath: path))
        try whole.prefix(20).write(to: URL(fileURLWithPath: path))
        _ = decodeError(path)
    }

    /// A WAV header with no data at all: zero frames is an error with a clear reason.
    @Test func headerOnlyWav() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("silent.wav")
        var writer = try SoundFileWriter(path: path, format: .wavPCM16, sampleRate: 8000, channels: 1)
        try writer.write(interleaved: [])
        try writer.close()
        let error = try #require(decodeError(path))
        #expect(error.message.contains("no audio frames"))
    }

    /// A FLAC stream cut mid-frame: the frames before the damage are returned, with the decoder's error attached.
    @Test func truncatedFlacKeepsWhatDecodes() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("cut.flac")
        let signal = Signal.noise(count: 44100, seed: 11)
        try SoundFileWriter.write(signal, to: path, format: .flacPCM16, sampleRate: 44100, channels: 1)
        let whole = try Data(contentsOf: URL(fileURLWithPath: path))
        try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: path))
        let mono = try AudioDecoder.decodeMono(path: path)
        let stop = try #require(mono.decodeError)
        #expect(stop.path == path)
        #expect(stop.function == "sf_readf_float")
        #expect(mono.samples.count > 4096 && mono.samples.count < 44100)
        #expect(maxAbsDifference(mono.samples, Array(signal.prefix(mono.samples.count))) <= 1.0 / 32768)
    }

    /// Compressed files cut short: whatever libsndfile reports, no crash, and the error names the file.
    @Test(arguments: [AudioFileFormat.flacPCM16, .oggVorbis, .auPCM16, .aiffPCM16, .wavFloat])
    func truncatedCompressedOrOtherContainer(format: AudioFileFormat) throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("cut.\(format.fileExtension)")
        try SoundFileWriter.write(Signal.noise(count: 44100, seed: 11), to: path, format: format, sampleRate: 44100, channels: 1)
        let whole = try Data(contentsOf: URL(fileURLWithPath: path))
        try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: path))
        do {
            let mono = try AudioDecoder.decodeMono(path: path)
            #expect(mono.samples.count > 0 && mono.samples.count <= 44100)
            #expect(mono.samples.allSatisfy { $0.isFinite })
            if let stop = mono.decodeError {
                #expect(stop.path == path)
            }
        } catch {
            #expect(error.path == path)
        }
    }

    /// A WAV whose header declares a zero sample rate, then zero channels: an error, not a division by zero.
    @Test func corruptHeaderFields() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("zero-rate.wav")
        try SoundFileWriter.write(Signal.tone(frequency: 440, sampleRate: 8000, count: 800), to: path,
                                  format: .wavPCM16, sampleRate: 8000, channels: 1)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        // RIFF fmt chunk: channels at byte 22 (u16), sample rate at byte 24 (u32).
        bytes.replaceSubrange(24..<28, with: [0, 0, 0, 0])
        try bytes.write(to: URL(fileURLWithPath: path))
        _ = decodeError(path)
        var zeroChannels = try Data(contentsOf: URL(fileURLWithPath: path))
        zeroChannels.replaceSubrange(24..<28, with: [0x40, 0x1F, 0, 0])
        zeroChannels.replaceSubrange(22..<24, with: [0, 0])
        try zeroChannels.write(to: URL(fileURLWithPath: path))
        _ = decodeError(path)
    }

    /// Many failing opens at once each get their own reason (libsndfile keeps it in a global).
    @Test func parallelFailuresKeepTheirOwnReasons() async throws {
        let dir = try TemporaryDirectory()
        let garbage = dir.file("garbage.wav")
        try Data(repeating: 0x5A, count: 4096).write(to: URL(fileURLWithPath: garbage))
        let missing = dir.file("missing.wav")
        let garbageReason = try #require(decodeError(garbage)).message
        let missingReason = try #require(decodeError(missing)).message
        #expect(garbageReason != missingReason)
        await withTaskGroup(of: (String, String?).self) { group in
            for i in 0..<64 {
                let path = i.isMultiple(of: 2) ? garbage : missing
                group.addTask {
                    do throws(AudioError) {
                        _ = try AudioDecoder.info(path: path)
                        return (path, nil)
                    } catch { return (path, error.message) }
                }
            }
            for await (path, message) in group {
                #expect(message == (path == garbage ? garbageReason : missingReason))
            }
        }
    }
}

@Suite struct WriterTests {
    /// Out-of-range floats saturate at full scale in integer encodings (SFC_SET_CLIPPING) instead of wrapping.
    @Test(arguments: [AudioFileFormat.wavPCM16, .wavPCM24, .auPCM16, .aiffPCM16, .flacPCM16])
    func clippingSaturates(format: AudioFileFormat) throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("loud.\(format.fileExtension)")
        try SoundFileWriter.write([1.5, -1.5, 3, -3, 0.5], to: path, format: format, sampleRate: 8000, channels: 1)
        let samples = try AudioDecoder.decodeMono(path: path).samples
        #expect(samples[0] > 0.999 && samples[2] > 0.999)
        #expect(samples[1] <= -0.999 && samples[3] <= -0.999)
        #expect(samples[4] == 0.5)
    }

    @Test func partialFrameIsRejected() throws {
        let dir = try TemporaryDirectory()
        var writer = try SoundFileWriter(path: dir.file("x.wav"), format: .wavPCM16, sampleRate: 8000, channels: 2)
        #expect(throws: AudioError.self) { try writer.write(interleaved: [0.1, 0.2, 0.3]) }
        try writer.write(interleaved: [0.1, 0.2])
        try writer.close()
    }

    @Test func invalidParametersAreRejected() throws {
        let dir = try TemporaryDirectory()
        #expect(throws: AudioError.self) {
            _ = try SoundFileWriter(path: dir.file("a.wav"), format: .wavPCM16, sampleRate: 0, channels: 1)
        }
        #expect(throws: AudioError.self) {
            _ = try SoundFileWriter(path: dir.file("b.wav"), format: .wavPCM16, sampleRate: 8000, channels: 0)
        }
        // FLAC supports at most 8 channels.
        #expect(throws: AudioError.self) {
            _ = try SoundFileWriter(path: dir.file("c.flac"), format: .flacPCM16, sampleRate: 8000, channels: 9)
        }
    }

    @Test func unwritablePathNamesTheFile() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("no/such/dir/out.wav")
        do {
            try SoundFileWriter.write([0], to: path, format: .wavPCM16, sampleRate: 8000, channels: 1)
            Issue.record("wrote into a missing directory")
        } catch {
            #expect(error.path == path)
            #expect(error.function == "sf_open")
            #expect(error.description.hasPrefix(path + ": sf_open: "))
        }
    }

    /// A writer dropped without close() still leaves a complete, readable file.
    @Test func deinitCloses() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("dropped.wav")
        do {
            var writer = try SoundFileWriter(path: path, format: .wavPCM16, sampleRate: 8000, channels: 1)
            try writer.write(interleaved: [Float](repeating: 0.25, count: 100))
        }
        #expect(try AudioDecoder.decodeMono(path: path).samples == [Float](repeating: 0.25, count: 100))
    }

    @Test func errorDescriptionFormat() {
        #expect(AudioError(path: "/a/b.wav", function: "sf_open", message: "Format not recognised.\n").description
            == "/a/b.wav: sf_open: Format not recognised.")
        #expect(AudioError(path: nil, function: "soxr_process", message: "bad").description == "soxr_process: bad")
    }
}
