/// The corpus's own deterministic random number generator (SplitMix64).
///
/// Every random choice in a clip comes from one of these, seeded from (corpus seed, genre, clip index) only, so a clip
/// renders bit-identically whatever order or thread it is rendered in. Never replaced by the system generator.
struct CorpusRandom {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    /// The generator for clip `index` of genre `genre` in the corpus seeded with `seed`.
    init(seed: UInt64, genre: Int, index: Int) {
        var mixer = CorpusRandom(seed: seed ^ 0x5EED_C0DE_0000_0000)
        let first = mixer.next() &+ UInt64(truncatingIfNeeded: genre) &* 0xD1B5_4A32_D192_ED03
        mixer = CorpusRandom(seed: first)
        let second = mixer.next() &+ UInt64(truncatingIfNeeded: index) &* 0x8CB9_2BA7_2F3D_8DD7
        mixer = CorpusRandom(seed: second)
        state = mixer.next()
    }

    /// The next 64 random bits.
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z &>> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z &>> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z &>> 31)
    }

    /// A uniform value in [0, 1).
    mutating func unit() -> Double { Double(next() &>> 11) * 0x1.0p-53 }

    /// A uniform value in [low, high).
    mutating func uniform(_ low: Double, _ high: Double) -> Double { low + (high - low) * unit() }

    /// A uniform `Float` in [low, high).
    mutating func uniformFloat(_ low: Float, _ high: Float) -> Float { Float(uniform(Double(low), Double(high))) }

    /// A uniform integer in 0..<count (count > 0).
    mutating func below(_ count: Int) -> Int { Int(next() % UInt64(count)) }

    /// True with probability `probability`.
    mutating func chance(_ probability: Double) -> Bool { unit() < probability }

    /// One element of a non-empty array.
    mutating func pick<Element>(_ choices: [Element]) -> Element { choices[below(choices.count)] }

    /// A value with mean 0 and standard deviation `deviation` (sum of uniforms; bounded, cheap).
    mutating func jitter(_ deviation: Double) -> Double {
        (unit() + unit() + unit() - 1.5) * 2 * deviation
    }
}

/// A very cheap white-noise source for audio-rate loops (xorshift32), seeded from a ``CorpusRandom``.
struct NoiseSource {
    private var state: UInt32

    init(seed: UInt64) { state = UInt32(truncatingIfNeeded: seed | 1) | 1 }

    /// A uniform sample in [-1, 1).
    @inline(__always)
    mutating func sample() -> Float {
        state ^= state &<< 13
        state ^= state &>> 17
        state ^= state &<< 5
        return Float(Int32(bitPattern: state)) * (1.0 / 2_147_483_648.0)
    }
}
