import Foundation

/// Net's seeded random number generator: SplitMix64 for bits, Box–Muller for normal deviates.
///
/// Every random choice in Net (weight initialisation, dropout masks) comes from a `NetRandom` derived from the
/// seed given to ``Sequential/init(spec:seed:)``, so a seed reproduces a model bit for bit. SplitMix64 is pure
/// integer arithmetic, identical on every platform; uniform floats are exact conversions of the top bits; normal
/// deviates use `log`, `sqrt` and `cos` in Double and are rounded to Float by the callers, so platform libm
/// differences (at most an ulp in Double) practically never show.
public struct NetRandom: RandomNumberGenerator, Sendable, Equatable {
    /// The SplitMix64 state (advanced by the golden-ratio increment on every draw).
    public private(set) var state: UInt64

    /// A generator whose sequence is determined by `seed` alone.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits (SplitMix64, Steele, Lea & Flood 2014).
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform Double in `[0, 1)` from the top 53 bits.
    public mutating func nextUniform() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A uniform Float in `[0, 1)` from the top 24 bits.
    public mutating func nextUniformFloat() -> Float {
        Float(next() >> 40) * 0x1.0p-24
    }

    /// A standard normal deviate (mean 0, variance 1) by the Box–Muller transform; uses two uniforms per call
    /// (the second deviate of the pair is discarded, so the stream stays a pure function of the call count).
    public mutating func nextNormal() -> Double {
        let u1 = 1.0 - nextUniform()  // (0, 1]: log is finite
        let u2 = nextUniform()
        return (-2.0 * log(u1)).squareRoot() * cos(2.0 * Double.pi * u2)
    }

    /// A new generator for a sub-stream (a layer's initialisation, a dropout layer's masks): seeded from this
    /// generator's next output, so sub-streams are independent of each other and reproducible.
    public mutating func split() -> NetRandom {
        NetRandom(seed: next())
    }
}
