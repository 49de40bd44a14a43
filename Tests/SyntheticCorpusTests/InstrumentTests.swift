import GenreCore
import Foundation
import Testing
@testable import SyntheticCorpus

/// Unit checks of the synthesis building blocks (internal API).
@Suite struct InstrumentTests {
    /// Renders one note into a fresh 1 s studio at `sampleRate`, starting at the clip's first sample, and
    /// returns the bus it was written to.
    static func renderNote(sampleRate: Int, _ play: (inout Studio, Double) -> Void) -> [Float] {
        var buffers = RenderBuffers()
        let buses = buffers.buses(samples: Studio.samplesPerBus(sampleRate: sampleRate, seconds: 1))
        var studio = Studio(sampleRate: sampleRate, seconds: 1, tempo: 60, beatsPerBar: 4,
                            random: SplitMix64(seed: 1), buses: buses)
        play(&studio, studio.startSeconds / studio.secondsPerBeat)
        let bus = Bus.allCases.compactMap { studio.writtenBus($0) }.first!
        return Array(UnsafeBufferPointer(start: bus, count: studio.frames))
    }

    /// Fundamental frequency (Hz) of `samples[range]` from the autocorrelation peak between 300 and 600 Hz,
    /// refined by parabolic interpolation.
    static func pitch(_ samples: [Float], sampleRate: Int, range: Range<Int>) -> Double {
        let segment = samples[range].map(Double.init)
        func correlation(_ lag: Int) -> Double {
            var sum = 0.0
            for i in 0..<(segment.count - lag) { sum += segment[i] * segment[i + lag] }
            return sum
        }
        let lags = (sampleRate / 600)...(sampleRate / 300)
        let values = lags.map(correlation)
        let best = values.indices.max { values[$0] < values[$1] }!
        var lag = Double(lags.lowerBound + best)
        if best > 0, best < values.count - 1 {
            let (a, b, c) = (values[best - 1], values[best], values[best + 1])
            lag += 0.5 * (a - c) / (a - 2 * b + c)
        }
        return Double(sampleRate) / lag
    }

    @Test(arguments: [22_050, 44_100])
    func pluckedStringIsInTune(sampleRate: Int) {
        for brightness in [0.0, 0.6, 1.0] {
            let samples = Self.renderNote(sampleRate: sampleRate) { studio, beat in
                studio.pluck(PluckInstrument(brightness: brightness, ringSeconds: 3), midi: 69, beat: beat, beats: 0.9,
                             velocity: 1, bus: .lead)
            }
            let hz = Self.pitch(samples, sampleRate: sampleRate, range: (sampleRate / 10)..<(sampleRate / 2))
            #expect(abs(hz / 440 - 1) < 0.003, "brightness \(brightness): \(hz) Hz")
        }
    }

    @Test(arguments: [22_050, 44_100])
    func wavetableAndFMNotesAreInTune(sampleRate: Int) {
        let tone = Self.renderNote(sampleRate: sampleRate) { studio, beat in
            let instrument = ToneInstrument(body: Wavetable(harmonics: Wavetable.sawtooth(harmonics: 32, rolloff: 1)),
                                            attack: 0.01, decay: 1, sustain: 1, release: 0.05)
            studio.play(instrument, midi: 69, beat: beat, beats: 0.9, velocity: 1, bus: .lead)
        }
        let fm = Self.renderNote(sampleRate: sampleRate) { studio, beat in
            studio.playFM(FMInstrument(ratio: 1, index: 1.5), midi: 69, beat: beat, beats: 0.9, velocity: 1, bus: .harmony)
        }
        for samples in [tone, fm] {
            let hz = Self.pitch(samples, sampleRate: sampleRate, range: (sampleRate / 10)..<(sampleRate / 2))
            #expect(abs(hz / 440 - 1) < 0.002, "\(hz) Hz")
        }
    }

    @Test func bendGlidesUpToThePitch() {
        let samples = Self.renderNote(sampleRate: 44_100) { studio, beat in
            let instrument = ToneInstrument(body: Wavetable(harmonics: [1]), attack: 0.005, decay: 1, sustain: 1, release: 0.05)
            studio.play(instrument, midi: 69, beat: beat, beats: 0.9, velocity: 1, bus: .lead, bendFrom: -2, bendTime: 0.2)
        }
        let early = Self.pitch(samples, sampleRate: 44_100, range: 0..<2_205)
        let late = Self.pitch(samples, sampleRate: 44_100, range: 13_230..<22_050)
        #expect(early < 410 && early > 385, "starts near a whole tone below: \(early) Hz")
        #expect(abs(late / 440 - 1) < 0.002, "ends on pitch: \(late) Hz")
    }

    @Test func wavetableVersionsStayBelowNyquist() {
        // A bright sawtooth played high must use a version whose partials stay below 0.45 * sample rate.
        let table = Wavetable(harmonics: Wavetable.sawtooth(harmonics: 64, rolloff: 1))
        let offset = table.cycleOffset(maximumFrequency: 1_000, sampleRate: 22_050)
        let cycle = Array(table.cycles[offset..<(offset + TableGeometry.size)]).map(Double.init)
        var real = cycle, imaginary = [Double](repeating: 0, count: cycle.count)
        fft(&real, &imaginary)
        let magnitude = (0..<(cycle.count / 2)).map { (real[$0] * real[$0] + imaginary[$0] * imaginary[$0]).squareRoot() }
        let allowed = Int(0.45 * 22_050 / 1_000)  // 9 harmonics fit; the richest stored version that fits has 8
        #expect(magnitude[1] > 100)
        #expect(magnitude[(allowed + 1)...].allSatisfy { $0 < 1e-3 * magnitude[1] })
        #expect(magnitude[8] > 0.05 * magnitude[1])
    }

    @Test func segmentedFiltersMatchTheSequentialRecursions() {
        var noise = NoiseSource(seed: 3)
        let signal = (0..<100_003).map { _ in noise.sample() }
        for hz in [80.0, 700, 5_000] {
            var lowPassed = signal, highPassed = signal
            lowPassed.withUnsafeMutableBufferPointer { BusEffects.lowPass($0.baseAddress!, count: $0.count, hz: hz, sampleRate: 44_100) }
            highPassed.withUnsafeMutableBufferPointer { BusEffects.highPass($0.baseAddress!, count: $0.count, hz: hz, sampleRate: 44_100) }
            // Reference: the same filters as one sequential recursion, in Double.
            let c = 1 - exp(-2 * Double.pi * hz / 44_100), pole = exp(-2 * Double.pi * hz / 44_100)
            var a = 0.0, b = 0.0, state = 0.0, previous = 0.0
            var worstLow = 0.0, worstHigh = 0.0
            for (n, x) in signal.enumerated() {
                a += c * (Double(x) - a); b += c * (a - b)
                state = pole * (state + Double(x) - previous); previous = Double(x)
                worstLow = max(worstLow, abs(b - Double(lowPassed[n])))
                worstHigh = max(worstHigh, abs(state - Double(highPassed[n])))
            }
            // A float32 first-order recursion forgets an error by the factor (1 - c) per sample, so its rounding
            // (at most 4 roundings per sample, relative to max|x| = 1 here, and the coefficient's own rounding)
            // accumulates to at most γ(4)·max|x|/c; the low-pass cascades two of them (the second also carries the
            // first's error), the high-pass is one with pole 1 - c.
            let maxInput = signal.reduce(0.0) { max($0, abs(Double($1))) }
            let bound = 2 * ErrorBound.gamma(4) * maxInput / c + ErrorBound.gamma(2) * maxInput
            #expect(worstLow <= 2 * bound && worstHigh <= bound,
                    "\(hz) Hz: low-pass error \(worstLow), high-pass error \(worstHigh), bound \(bound)")
        }
    }

    @Test func envelopeFollowsItsClosedForm() {
        let rate = 1_000.0
        var envelope = Envelope(attack: 0.01, decay: 0.05, sustain: 0.5, release: 0.02, heldSamples: 100, sampleRate: rate)
        let ones = [Float](repeating: 1, count: 300)
        var out = [Float](repeating: 0, count: 300)
        ones.withUnsafeBufferPointer { wave in
            out.withUnsafeMutableBufferPointer { target in
                // Uneven chunks exercise the segment boundaries.
                var position = 0
                for length in [7, 1, 50, 3, 139, 100] {
                    envelope.apply(wave.baseAddress!, count: length, gain: 2, into: target.baseAddress! + position)
                    position += length
                }
            }
        }
        for n in 0..<300 {
            let expected: Double
            if n < 10 { expected = Double(n + 1) / 10 }
            else if n < 100 { expected = 0.5 + 0.5 * exp(-Double(n - 9) / 50) }
            else { expected = (0.5 + 0.5 * exp(-90.0 / 50)) * exp(-Double(n - 99) / 20) }
            // Float32 ramp and exponential decay by repeated steps: at most 3 roundings per sample so far (the step
            // factor's own rounding compounds once per sample too), relative to the value.
            let bound = ErrorBound.gamma(3 * (n + 1) + 4) * 2 * expected
            #expect(abs(Double(out[n]) - 2 * expected) <= bound, "sample \(n): \(out[n]) vs \(2 * expected), bound \(bound)")
        }
    }

    @Test func randomGeneratorIsStableAndWellSpread() {
        var random = SplitMix64(seed: 0, genre: 0, index: 0)
        let first = (0..<3).map { _ in random.next() }
        var again = SplitMix64(seed: 0, genre: 0, index: 0)
        #expect((0..<3).map { _ in again.next() } == first)
        var other = SplitMix64(seed: 0, genre: 0, index: 1)
        #expect(other.next() != first[0])
        var counts = [Int](repeating: 0, count: 10)
        for _ in 0..<10_000 { counts[random.belowByModulo(10)] += 1 }
        #expect(counts.allSatisfy { $0 > 900 && $0 < 1_100 })
    }
}
