import Foundation
import Testing
@testable import Spectral

@Suite struct FramingAndWindowTests {
    @Test func periodicHannMatchesScipyFormula() {
        let n = 2048
        let window = Window.hann(length: n)
        #expect(window.count == n)
        for k in 0..<n {
            let expected = 0.5 - 0.5 * cos(2 * Double.pi * Double(k) / Double(n))
            // Computed in Double and rounded to float32 once (libm's cos is within 1e-15 of the formula here).
            #expect(abs(Double(window[k]) - expected) <= ErrorBound.unitRoundoff * abs(expected) + 1e-15, "w[\(k)]")
        }
        #expect(window[0] == 0)
        #expect(window[n / 2] == 1)
        // periodic: symmetric about n/2, not about (n-1)/2
        #expect(window[1] == window[n - 1])
    }

    @Test func symmetricHannAndTinyLengths() {
        let window = Window.hann(length: 5, periodic: false)
        let expected: [Float] = [0, 0.5, 1, 0.5, 0]
        for (a, b) in zip(window, expected) { #expect(abs(Double(a - b)) <= ErrorBound.unitRoundoff * Double(b) + 1e-15) }
        #expect(Window.hann(length: 1) == [1])
        #expect(Window.hann(length: 0).isEmpty)
    }

    @Test(arguments: [(0, 1), (1, 1), (511, 1), (512, 2), (1000, 2), (2047, 4), (2048, 5), (661_500, 1292)])
    func centredFrameCountIsOnePlusSamplesOverHop(samples: Int, frames: Int) {
        #expect(LogMelParameters().frameCount(forSamples: samples) == frames)
    }

    @Test(arguments: [(0, 0), (1000, 0), (2047, 0), (2048, 1), (2559, 1), (2560, 2), (661_500, 1288)])
    func uncentredFrameCountNeedsAFullWindow(samples: Int, frames: Int) {
        #expect(LogMelParameters(center: false).frameCount(forSamples: samples) == frames)
    }

    @Test func oddFFTLengthPadsHalfTheLengthRoundedDown() {
        let p = LogMelParameters(nFFT: 5, hopLength: 2, nMels: 1)
        // padded length n + 4; frames = 1 + (n + 4 - 5) / 2
        #expect(p.frameCount(forSamples: 0) == 0)
        #expect(p.frameCount(forSamples: 1) == 1)
        #expect(p.frameCount(forSamples: 10) == 5)
    }

    @Test func validationNamesTheBadField() {
        #expect(throws: Never.self) { try LogMelParameters().validate() }
        let bad: [(LogMelParameters, String)] = [
            (LogMelParameters(sampleRate: 0), "sampleRate"),
            (LogMelParameters(nFFT: 1), "nFFT"),
            (LogMelParameters(hopLength: 0), "hopLength"),
            (LogMelParameters(nMels: 0), "nMels"),
            (LogMelParameters(fMin: 12000), "fMax"),
            (LogMelParameters(compression: .decibels(amin: 0)), "amin"),
            (LogMelParameters(compression: .decibels(topDB: -1)), "topDB"),
            (LogMelParameters(compression: .log1p(scale: 0)), "log1p scale"),
            (LogMelParameters(compression: .log1p(scale: .infinity)), "log1p scale"),
        ]
        for (parameters, field) in bad {
            do {
                try parameters.validate()
                Issue.record("\(field) accepted")
            } catch {
                #expect(error.description.hasPrefix("LogMelParameters: \(field)"), "\(error)")
            }
        }
    }

    @Test func parametersRoundTripThroughJSON() throws {
        let p = LogMelParameters(sampleRate: 16000, nFFT: 512, fMax: 7000, melScale: .htk, melNorm: .none,
                                 compression: .decibels(topDB: nil))
        let decoded = try JSONDecoder().decode(LogMelParameters.self, from: JSONEncoder().encode(p))
        #expect(decoded == p)
        let musicnn = LogMelParameters(sampleRate: 16000, nFFT: 512, hopLength: 256, nMels: 96, compression: .log1p())
        #expect(try JSONDecoder().decode(LogMelParameters.self, from: JSONEncoder().encode(musicnn)) == musicnn)
    }
}
