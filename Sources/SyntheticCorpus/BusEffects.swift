internal import GenreCore
internal import Foundation

/// A tiny offset added inside recursive filters so decaying tails never reach subnormal floats, which are
/// orders of magnitude slower to compute with (about -300 dB: inaudible and below 16-bit resolution).
let denormalGuard: Float = 1e-15

/// In-place processing of one bus (`count` samples).
enum BusEffects {
    /// Normalises to a fixed RMS, multiplies by `drive` and clips (hard: clamp to ±1; soft: x / (1 + |x|)).
    static func distort(_ samples: UnsafeMutablePointer<Float>, count: Int, drive: Float, hardClip: Bool) {
        let rms = (SampleMath.sumOfSquares(samples, count: count) / Float(max(count, 1))).squareRoot()
        guard rms > 1e-9 else { return }
        let gain = drive * 0.3 / rms
        if hardClip {
            for n in 0..<count {
                let x = samples[n] * gain
                samples[n] = x > 1 ? 1 : (x < -1 ? -1 : x)
            }
        } else {
            for n in 0..<count {
                let x = samples[n] * gain
                samples[n] = x / (1 + abs(x))
            }
        }
    }

    /// Samples each segment's filter runs over the end of the previous segment before its own start, so its
    /// state has converged (the filters here have time constants of at most a few hundred samples; 2048
    /// samples leaves an error far below 16-bit resolution).
    static let segmentWarmUp = 2048

    /// Segment layout for ``lowPass(_:count:hz:sampleRate:)`` and ``highPass(_:count:hz:sampleRate:)``: the
    /// signal is cut into four consecutive segments filtered side by side (four independent recursions in one
    /// loop run about four times faster than one long dependency chain). nil when too short to split.
    private static func segments(count: Int) -> (length: Int, lastLength: Int, warmUp: Int)? {
        let length = (count + 3) / 4
        let lastLength = count - 3 * length
        guard count >= 64, lastLength > 0 else { return nil }
        return (length, lastLength, min(segmentWarmUp, length))
    }

    /// Two cascaded one-pole low-passes at `hz` (12 dB/octave).
    static func lowPass(_ samples: UnsafeMutablePointer<Float>, count: Int, hz: Double, sampleRate: Double) {
        let c = Float(1 - exp(-2 * Double.pi * min(hz, sampleRate * 0.45) / sampleRate)), keep = 1 - c
        guard let (length, lastLength, warmUp) = segments(count: count) else {
            var a: Float = 0, b: Float = 0
            for n in 0..<count {
                a = a * keep + (samples[n] + denormalGuard) * c
                b = b * keep + a * c
                samples[n] = b
            }
            return
        }
        let s0 = samples, s1 = samples + length, s2 = samples + 2 * length, s3 = samples + 3 * length
        var a0: Float = 0, a1: Float = 0, a2: Float = 0, a3: Float = 0
        var b0: Float = 0, b1: Float = 0, b2: Float = 0, b3: Float = 0
        // Warm-up: segments 1...3 run over the end of the previous segment (segment 0 starts from rest).
        for i in (length - warmUp)..<length {
            a1 = a1 * keep + (s0[i] + denormalGuard) * c; b1 = b1 * keep + a1 * c
            a2 = a2 * keep + (s1[i] + denormalGuard) * c; b2 = b2 * keep + a2 * c
            a3 = a3 * keep + (s2[i] + denormalGuard) * c; b3 = b3 * keep + a3 * c
        }
        for i in 0..<length {
            let last = i < lastLength
            a0 = a0 * keep + (s0[i] + denormalGuard) * c; b0 = b0 * keep + a0 * c
            a1 = a1 * keep + (s1[i] + denormalGuard) * c; b1 = b1 * keep + a1 * c
            a2 = a2 * keep + (s2[i] + denormalGuard) * c; b2 = b2 * keep + a2 * c
            a3 = a3 * keep + ((last ? s3[i] : 0) + denormalGuard) * c; b3 = b3 * keep + a3 * c
            s0[i] = b0; s1[i] = b1; s2[i] = b2
            if last { s3[i] = b3 }
        }
    }

    /// One-pole high-pass at `hz` (6 dB/octave).
    static func highPass(_ samples: UnsafeMutablePointer<Float>, count: Int, hz: Double, sampleRate: Double) {
        let pole = Float(exp(-2 * Double.pi * hz / sampleRate))
        // The tiny offset alternates in sign (a Nyquist-rate signal) so the high-pass does not remove it.
        var guardSign = denormalGuard
        guard let (length, lastLength, warmUp) = segments(count: count) else {
            var state: Float = 0, previous: Float = 0
            for n in 0..<count {
                let x = samples[n] + guardSign
                guardSign = -guardSign
                state = (state + x - previous) * pole
                previous = x
                samples[n] = state
            }
            return
        }
        let s0 = samples, s1 = samples + length, s2 = samples + 2 * length, s3 = samples + 3 * length
        var y0: Float = 0, y1: Float = 0, y2: Float = 0, y3: Float = 0
        var p0: Float = 0, p1: Float = 0, p2: Float = 0, p3: Float = 0
        for i in (length - warmUp)..<length {
            let x1 = s0[i] + guardSign, x2 = s1[i] + guardSign, x3 = s2[i] + guardSign
            guardSign = -guardSign
            y1 = (y1 + x1 - p1) * pole; p1 = x1
            y2 = (y2 + x2 - p2) * pole; p2 = x2
            y3 = (y3 + x3 - p3) * pole; p3 = x3
        }
        for i in 0..<length {
            let last = i < lastLength
            let x0 = s0[i] + guardSign, x1 = s1[i] + guardSign, x2 = s2[i] + guardSign
            let x3 = (last ? s3[i] : 0) + guardSign
            guardSign = -guardSign
            y0 = (y0 + x0 - p0) * pole; p0 = x0
            y1 = (y1 + x1 - p1) * pole; p1 = x1
            y2 = (y2 + x2 - p2) * pole; p2 = x2
            y3 = (y3 + x3 - p3) * pole; p3 = x3
            s0[i] = y0; s1[i] = y1; s2[i] = y2
            if last { s3[i] = y3 }
        }
    }
}
