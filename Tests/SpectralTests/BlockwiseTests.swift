import Foundation
import Testing
@testable import Spectral

/// The building blocks of streaming extraction: mel powers of a frame range of a buffer that holds part of the
/// signal, and the compression split into its per-cell part and its clamp, against one call over the whole signal.
@Suite struct BlockwiseTests {
    static func signal(_ count: Int) -> [Float] {
        var state: UInt64 = 0x9E37_79B9
        return (0..<count).map { i in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let noise = Float(Int64(bitPattern: state) >> 40) / Float(1 << 23)
            return 0.3 * noise * (i % 20000 < 9000 ? 1 : 0.001) + 0.2 * sinf(Float(i) * 0.05)
        }
    }

    @Test(arguments: [
        SpectrogramCompression.librosaDecibels, .decibels(refPower: 1, amin: 1e-10, topDB: nil), .log1p(scale: 10000),
    ], [true, false])
    func blocksEqualTheWholeSignal(compression: SpectrogramCompression, center: Bool) {
        let parameters = LogMelParameters(nMels: 64, center: center, compression: compression)
        let samples = Self.signal(22050 * 4 + 333)
        var spectrogram = LogMelSpectrogram(parameters: parameters)
        let whole = spectrogram.compute(samples)
        let frames = spectrogram.frameCount(forSamples: samples.count)
        let nMels = parameters.nMels, hop = parameters.hopLength, nFFT = parameters.nFFT
        let padding = center ? nFFT / 2 : 0

        // Blocks of 38 frames, each computed from only the samples it reads (the last block: up to the end).
        var blocks: [(Range<Int>, [Float])] = []
        var maximum: Float = -.infinity
        var first = 0
        while first < frames {
            let range = first..<min(frames, first + 38)
            let lower = max(0, first * hop - padding)
            let upper = range.upperBound == frames ? samples.count : (range.upperBound - 1) * hop - padding + nFFT
            var block = [Float](repeating: 0, count: nMels * range.count)
            Array(samples[lower..<upper]).withUnsafeBufferPointer { buffer in
                block.withUnsafeMutableBufferPointer {
                    spectrogram.melPowers(of: buffer, startingAt: lower, frames: range, into: $0)
                }
            }
            maximum = max(maximum, block.withUnsafeMutableBufferPointer { compression.compressUnclamped($0) })
            blocks.append((range, block))
            first = range.upperBound
        }
        #expect(compression.needsWholeSpectrogramMaximum == (compression == .librosaDecibels))
        var joined = [Float](repeating: .nan, count: nMels * frames)
        for (range, var block) in blocks {
            block.withUnsafeMutableBufferPointer { compression.clamp($0, maximum: maximum) }
            for b in 0..<nMels {
                for t in range { joined[b * frames + t] = block[b * range.count + t - range.lowerBound] }
            }
        }
        #expect(joined == whole)
    }
}
