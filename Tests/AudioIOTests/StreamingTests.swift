import Testing
import TestSupport
@testable import AudioIO

/// Block-wise decoding and resampling (for long files in bounded memory) against the whole-file calls.
@Suite struct StreamingTests {
    /// A stereo file of several read blocks decodes, block by block, to decodeMono's samples exactly.
    @Test func blockReaderConcatenatesToDecodeMono() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("stereo.wav")
        let frames = 3 * AudioDecoder.chunkFrames(channels: 2) + 123
        let left = Signal.noise(count: frames, seed: 3), right = Signal.tone(frequency: 440, sampleRate: 44100, count: frames)
        try SoundFileWriter.write(Signal.interleave([left, right]), to: path, format: .wavFloat, sampleRate: 44100, channels: 2)
        var reader = try MonoBlockReader(path: path)
        var all: [Float] = [], block: [Float] = [], blocks = 0
        repeat {
            try reader.next(into: &block)
            all += block
            blocks += block.isEmpty ? 0 : 1
        } while !block.isEmpty
        #expect(blocks == 4)
        #expect(reader.framesRead == frames)
        #expect(reader.decodeError == nil)
        #expect(all == (try AudioDecoder.decodeMono(path: path)).samples)
        // A range reads only its frames.
        var ranged = try MonoBlockReader(path: path, frames: 1000..<2000)
        try ranged.next(into: &block)
        #expect(block == Array(all[1000..<2000]))
        try ranged.next(into: &block)
        #expect(block.isEmpty)
    }

    @Test func blockReaderRefusesAFileWithoutFrames() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("empty.wav")
        try SoundFileWriter.write([], to: path, format: .wavPCM16, sampleRate: 8000, channels: 1)
        var reader = try MonoBlockReader(path: path)
        var block: [Float] = []
        #expect { try reader.next(into: &block) } throws: { "\($0)".contains("empty.wav") && "\($0)".contains("no audio frames") }
    }

    /// Every resampler fed in ragged blocks gives the whole-signal resampler's output: same length, and the same
    /// samples (the library's state machine does not depend on how its input is cut).
    @Test(arguments: ResamplerKind.allCases)
    func resamplingStreamEqualsWholeSignal(kind: ResamplerKind) throws {
        let input = Signal.noise(count: 44100 * 3 + 17, seed: 5)
        for (from, to) in [(44100, 22050), (48000, 22050), (8000, 22050), (22050, 22050)] {
            let whole = try kind.makeResampler().resample(input, from: from, to: to)
            for blockSize in [997, 4096, 65536] {
                var stream = try ResamplingStream(kind: kind, from: from, to: to)
                var output: [Float] = []
                var start = 0
                while start < input.count {
                    let end = min(input.count, start + blockSize)
                    try input[start..<end].withUnsafeBufferPointer { (block) throws(AudioError) in
                        try stream.process(block, appendingTo: &output)
                    }
                    start = end
                }
                try stream.finish(appendingTo: &output)
                #expect(output.count == whole.count, "\(kind) \(from)->\(to) blocks of \(blockSize)")
                #expect(stream.outputCount == whole.count)
                #expect(output == whole, "\(kind) \(from)->\(to) blocks of \(blockSize)")
            }
        }
    }

    @Test func resamplingStreamOfNothingIsEmpty() throws {
        var stream = try ResamplingStream(kind: .soxrHQ, from: 44100, to: 22050)
        var output: [Float] = []
        try stream.finish(appendingTo: &output)
        #expect(output.isEmpty)
        #expect { _ = try ResamplingStream(kind: .sincBest, from: 0, to: 22050) } throws: { "\($0)".contains("positive") }
    }
}
