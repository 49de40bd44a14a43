internal import GenreCore
internal import Foundation

/// An attack (linear) / decay (exponential towards sustain) / release (exponential) amplitude envelope, applied
/// chunk by chunk to a rendered oscillator. Times in seconds; `heldSamples` is when the release starts.
struct Envelope {
    private let attackSamples: Int
    private let attackStep: Float
    private let heldSamples: Int
    private let sustain: Float
    private let decayFactor: Float
    private let releaseFactor: Float
    private var position = 0
    private var level: Float = 0

    init(attack: Double, decay: Double, sustain: Float, release: Double, heldSamples: Int, sampleRate: Double) {
        attackSamples = max(1, Int(attack * sampleRate))
        attackStep = 1 / Float(attackSamples)
        self.heldSamples = heldSamples
        self.sustain = sustain
        decayFactor = Float(exp(-1 / (max(decay, 1e-4) * sampleRate)))
        releaseFactor = Float(exp(-1 / (max(release, 1e-4) * sampleRate)))
    }

    /// Adds `wave[0..<count] * envelope * gain` to `out[0..<count]` and advances the envelope by `count` samples.
    mutating func apply(_ wave: UnsafePointer<Float>, count: Int, gain: Float, into out: UnsafeMutablePointer<Float>) {
        var k = 0
        if position < attackSamples {
            let end = min(count, attackSamples - position)
            let base = position + 1
            for j in 0..<end {
                out[j] += wave[j] * (Float(base + j) * attackStep * gain)
            }
            level = Float(base + end - 1) * attackStep
            k = end
            position += end
        }
        if k < count, position < heldSamples {
            let end = min(count, k + heldSamples - position)
            var offset = level - sustain
            Envelope.addGeometric(wave + k, into: out + k, count: end - k, base: sustain, offset: &offset, factor: decayFactor, gain: gain)
            level = sustain + offset
            position += end - k
            k = end
        }
        if k < count {
            Envelope.addGeometric(wave + k, into: out + k, count: count - k, base: 0, offset: &level, factor: releaseFactor, gain: gain)
            position += count - k
        }
    }

    /// `out[j] += wave[j] * (base + offset * factor^(j + 1)) * gain` for j in 0..<count, four samples at a time
    /// (four geometric sequences stepped by factor^4, which breaks the sample-to-sample dependency); leaves
    /// `offset * factor^count` in `offset`.
    @inline(__always)
    static func addGeometric(_ wave: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int, base: Float,
                             offset: inout Float, factor: Float, gain: Float) {
        var j = 0
        var current = offset
        if count >= 4 {
            let step = factor * factor * factor * factor
            var c0 = current * factor
            var c1 = c0 * factor
            var c2 = c1 * factor
            var c3 = c2 * factor
            while j + 4 <= count {
                out[j] += wave[j] * ((base + c0) * gain)
                out[j + 1] += wave[j + 1] * ((base + c1) * gain)
                out[j + 2] += wave[j + 2] * ((base + c2) * gain)
                out[j + 3] += wave[j + 3] * ((base + c3) * gain)
                c0 *= step; c1 *= step; c2 *= step; c3 *= step
                current *= step
                j += 4
            }
        }
        while j < count {
            current *= factor
            out[j] += wave[j] * ((base + current) * gain)
            j += 1
        }
        offset = current
    }
}
