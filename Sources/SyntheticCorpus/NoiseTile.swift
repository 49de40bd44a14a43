internal import GenreCore
internal import Foundation

/// A few seconds of band-limited noise, generated once per clip and read from random offsets (cheaper than
/// running the noise filters at every output sample).
struct NoiseTile {
    static let length = 1 << 17
    let samples: [Float]

    init(noise: inout NoiseSource, highPassHz: Double, lowPassHz: Double, sampleRate: Double) {
        let highPole = Float(exp(-2 * Double.pi * highPassHz / sampleRate))
        let lowCoefficient = Float(1 - exp(-2 * Double.pi * min(lowPassHz, sampleRate * 0.45) / sampleRate))
        var samples = [Float](repeating: 0, count: Self.length)
        var high: Float = 0, previous: Float = 0, low: Float = 0
        let warmUp = 4096
        for n in 0..<(Self.length + warmUp) {
            let x = noise.sample()
            high = highPole * (high + x - previous)
            previous = x
            low += lowCoefficient * (high - low)
            if n >= warmUp { samples[n - warmUp] = low }
        }
        self.samples = samples
    }
}
