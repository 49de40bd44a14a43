import Foundation
import Testing
@testable import AudioIO

@Suite struct DecodeTests {
    /// Six distinct channels written losslessly as float: decodeMono is their mean, exactly as numpy's float32 mean.
    @Test func sixChannelDownmixIsTheMean() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("six.wav")
        let frames = 4000
        let channels = (0..<6).map { c in Signal.noise(count: frames, seed: UInt64(100 + c), amplitude: 0.9) }
        try SoundFileWriter.write(Signal.interleave(channels), to: path, format: .wavFloat, sampleRate: 44100, channels: 6)
        let mono = try AudioDecoder.decodeMono(path: path)
        #expect(mono.info.channels == 6)
        #expect(mono.info.frames == frames)
        // numpy sums fewer than 8 channels left to right, then divides by the channel count.
        let expected = (0..<frames).map { (f: Int) -> Float in
            var sum: Float = channels[0][f]
            for c in 1..<6 { sum += channels[c][f] }
            return sum / 6
        }
        #expect(mono.samples == expected)
    }

    /// Ten channels use numpy's eight-accumulator pairwise sum; the result is the mean within float rounding.
    @Test func tenChannelDownmixIsTheMean() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("ten.wav")
        let frames = 1000
        let channels = (0..<10).map { c in Signal.noise(count: frames, seed: UInt64(200 + c), amplitude: 0.9) }
        try SoundFileWriter.write(Signal.interleave(channels), to: path, format: .wavFloat, sampleRate: 16000, channels: 10)
        let mono = try AudioDecoder.decodeMono(path: path)
        for f in 0..<frames {
            let r: [Float] = channels.map { $0[f] }
            // numpy: r0..r7 seed the accumulators; 8 and 9 are added after the pairwise combination.
            let quad1: Float = (r[0] + r[1]) + (r[2] + r[3])
            let quad2: Float = (r[4] + r[5]) + (r[6] + r[7])
            let pairwise: Float = ((quad1 + quad2) + r[8]) + r[9]
            #expect(mono.samples[f] == pairwise / 10)
        }
    }

    /// A mono file decodes to exactly what libsndfile reads (no arithmetic).
    @Test func monoFileIsPassedThrough() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("mono.au")
        let signal = Signal.tone(frequency: 220, sampleRate: 22050, count: 22050 * 2)
        try SoundFileWriter.write(signal, to: path, format: .auPCM16, sampleRate: 22050, channels: 1)
        let mono = try AudioDecoder.decodeMono(path: path)
        #expect(mono.sampleRate == 22050)
        #expect(mono.info == AudioInfo(sampleRate: 22050, channels: 1, frames: 44100, container: "AU", encoding: "PCM_16"))
        #expect(mono.info.seconds == 2)
        #expect(maxAbsDifference(mono.samples, signal) <= 1.0 / 32768)
        // 16-bit PCM is scaled by 1/32768: every sample is a multiple of it.
        #expect(mono.samples.allSatisfy { ($0 * 32768).rounded() == $0 * 32768 })
    }

    /// Longer than one read chunk, not a multiple of it: the chunked reader keeps every frame in order.
    @Test func decodingSpansSeveralChunks() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("long.flac")
        let frames = AudioDecoder.chunkFrames(channels: 2) * 2 + 1234
        let ramp = (0..<frames).map { Float($0 % 60000 - 30000) / 32768 }
        try SoundFileWriter.write(Signal.interleave([ramp, ramp]), to: path, format: .flacPCM16, sampleRate: 44100, channels: 2)
        let mono = try AudioDecoder.decodeMono(path: path)
        #expect(mono.samples == ramp)
    }

    /// libsndfile identifies the format from the content: the file name's case or extension does not matter.
    @Test func formatComesFromContentNotName() throws {
        let dir = try TemporaryDirectory()
        let signal = Signal.tone(frequency: 440, sampleRate: 8000, count: 800)
        let upper = dir.file("CLIP.WAV")
        try SoundFileWriter.write(signal, to: upper, format: .wavPCM16, sampleRate: 8000, channels: 1)
        #expect(try AudioDecoder.info(path: upper).container == "WAV")
        let misnamed = dir.file("really-au.WAV")
        try SoundFileWriter.write(signal, to: misnamed, format: .auPCM16, sampleRate: 8000, channels: 1)
        #expect(try AudioDecoder.info(path: misnamed).container == "AU")
        #expect(try AudioDecoder.decodeMono(path: misnamed).samples.count == 800)
    }

    /// `frames:` decodes exactly the requested slice (seeking first), and clips at the end of the file.
    @Test(arguments: [AudioFileFormat.wavFloat, .flacPCM16, .auPCM16, .aiffPCM16])
    func frameRangeReadsTheSlice(format: AudioFileFormat) throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("ramp.\(format.fileExtension)")
        let frames = 10_000
        let ramp = (0..<frames).map { Float($0 - 5000) / 8192 }  // exact in 16-bit and float
        try SoundFileWriter.write(Signal.interleave([ramp, ramp]), to: path, format: format, sampleRate: 8000, channels: 2)

        let slice = try AudioDecoder.decodeMono(path: path, frames: 1234..<5678)
        #expect(slice.samples == Array(ramp[1234..<5678]))
        let head = try AudioDecoder.decodeMono(path: path, frames: 0..<10)
        #expect(head.samples == Array(ramp[0..<10]))
        let tail = try AudioDecoder.decodeMono(path: path, frames: 9_000..<20_000)
        #expect(tail.samples == Array(ramp[9_000...]))
        #expect(throws: AudioError.self) { try AudioDecoder.decodeMono(path: path, frames: 10_000..<10_100) }
        #expect(throws: AudioError.self) { try AudioDecoder.decodeMono(path: path, frames: 5..<5) }

        var file = try SoundFile(readingFrom: path)
        try file.seek(toFrame: 7777)
        var buffer = [Float](repeating: 0, count: 6)
        let got = try buffer.withUnsafeMutableBufferPointer { (b) throws(AudioError) in try file.read(into: b) }
        #expect(got == 3)
        #expect(buffer == [ramp[7777], ramp[7777], ramp[7778], ramp[7778], ramp[7779], ramp[7779]])
        #expect(throws: AudioError.self) { try file.seek(toFrame: -1) }
    }

    /// Files decode correctly when many are decoded at once (tests run in parallel; so do workers).
    @Test func parallelDecodesAgree() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("p.flac")
        let signal = Signal.noise(count: 50_000, seed: 3)
        try SoundFileWriter.write(signal, to: path, format: .flacPCM16, sampleRate: 22050, channels: 1)
        let expected = try AudioDecoder.decodeMono(path: path).samples
        try await withThrowingTaskGroup(of: [Float].self) { group in
            for _ in 0..<8 { group.addTask { try AudioDecoder.decodeMono(path: path).samples } }
            for try await samples in group { #expect(samples == expected) }
        }
    }
}
