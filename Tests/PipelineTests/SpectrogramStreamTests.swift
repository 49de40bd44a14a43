import AudioIO
import Foundation
import Testing
@testable import Pipeline

/// The streaming front end (prediction on long files) against the whole-file spectrogram.
@Suite struct SpectrogramStreamTests {
    /// A stereo 44.1 kHz file long enough for several decode blocks, with loud and quiet parts.
    static func writeFile(_ path: String, seconds: Double = 7, rate: Int = 44100, sampleAt: ((Int) -> Float)? = nil) throws {
        let frames = Int(seconds * Double(rate))
        var state: UInt64 = 77
        var interleaved = [Float](repeating: 0, count: 2 * frames)
        for i in 0..<frames {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let noise = Float(Int64(bitPattern: state) >> 40) / Float(1 << 23)
            let level: Float = (i / rate) % 3 == 2 ? 0.0005 : 0.3
            interleaved[2 * i] = sampleAt?(i) ?? level * noise
            interleaved[2 * i + 1] = sampleAt?(i) ?? 0.25 * sinf(Float(i) * 0.031)
        }
        try SoundFileWriter.write(interleaved, to: path, format: .wavFloat, sampleRate: rate, channels: 2)
    }

    static func streamed(_ path: String, _ configuration: PipelineConfiguration, blockFrames: Int) throws -> ([Float], Int) {
        let nMels = configuration.mel.nMels
        var blocks: [(Range<Int>, [Float])] = []
        let summary = try SpectrogramStream(configuration: configuration, blockFrames: blockFrames).forEachBlock(path: path) {
            blocks.append(($1, Array($0)))
        }
        var joined = [Float](repeating: .nan, count: nMels * summary.frames)
        var expectedStart = 0
        for (range, block) in blocks {
            #expect(range.lowerBound == expectedStart)
            expectedStart = range.upperBound
            for b in 0..<nMels {
                for t in range { joined[b * summary.frames + t] = block[b * range.count + t - range.lowerBound] }
            }
        }
        #expect(expectedStart == summary.frames)
        return (joined, summary.frames)
    }

    @Test(arguments: ["", "[db]\nkind = \"log1p\"\nscale = 10000\n", "[audio]\nresampler = \"sinc-fastest\"\n",
                      "[db]\ntop_db = 60\n"])
    func blocksEqualTheWholeFile(toml: String) throws {
        let dir = try TemporaryDirectory("stream")
        let path = dir.file("long.wav")
        try Self.writeFile(path)
        let configuration = try PipelineConfiguration.parse(toml: "[mel]\nn_mels = 64\n" + toml)
        let (whole, frames) = try ClipFeatureExtractor.wholeFileSpectrogram(path: path, configuration: configuration)
        for blockFrames in [64, 1000] {
            let (streamed, streamedFrames) = try Self.streamed(path, configuration, blockFrames: blockFrames)
            #expect(streamedFrames == frames)
            #expect(streamed == whole, "\(toml) blocks of \(blockFrames): max diff \(maxAbsDifference(streamed, whole))")
        }
    }

    @Test func aFileShorterThanAFrameAndAFileAtTheTargetRate() throws {
        let dir = try TemporaryDirectory("stream-short")
        let configuration = try PipelineConfiguration.parse(toml: "[mel]\nn_mels = 32\n")
        for (name, seconds, rate) in [("tiny.wav", 0.01, 44100), ("native.wav", 2.5, 22050)] {
            try Self.writeFile(dir.file(name), seconds: seconds, rate: rate)
            let (whole, frames) = try ClipFeatureExtractor.wholeFileSpectrogram(path: dir.file(name), configuration: configuration)
            let (streamed, streamedFrames) = try Self.streamed(dir.file(name), configuration, blockFrames: 16)
            #expect(streamedFrames == frames)
            #expect(streamed == whole, "\(name)")
        }
    }

    @Test func damagedAndUndecodableFilesAreOneLineErrorsNamingThem() throws {
        let dir = try TemporaryDirectory("stream-bad")
        let configuration = PipelineConfiguration()
        try Self.writeFile(dir.file("nan.wav"), seconds: 1, sampleAt: { $0 == 500 ? .nan : 0.1 })
        try "not audio".write(toFile: dir.file("text.wav"), atomically: true, encoding: .utf8)
        for name in ["nan.wav", "text.wav", "missing.wav"] {
            #expect { _ = try SpectrogramStream(configuration: configuration).forEachBlock(path: dir.file(name)) { _, _ in } }
                throws: { "\($0)".contains(name) && !"\($0)".contains("\n") }
        }
    }
}
