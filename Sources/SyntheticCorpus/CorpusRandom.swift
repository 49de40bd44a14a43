internal import GenreCore

/// The corpus's random draws, on GenreKit's one seeded generator (``SplitMix64``).
///
/// Every random choice in a clip comes from a generator seeded from (corpus seed, genre, clip index) only, so a clip
/// renders bit-identically whatever order or thread it is rendered in. Never replaced by the system generator. The
/// draws below are the corpus's own arithmetic (integers by modulo, not ``SplitMix64/below(_:)``'s Lemire method):
/// changing any of them changes every clip.
extension SplitMix64 {
    /// The generator for clip `index` of genre `genre` in the corpus seeded with `seed`.
    init(seed: UInt64, genre: Int, index: Int) {
        var mixer = SplitMix64(seed: seed ^ 0x5EED_C0DE_0000_0000)
        let first = mixer.next() &+ UInt64(truncatingIfNeeded: genre) &* 0xD1B5_4A32_D192_ED03
        mixer = SplitMix64(seed: first)
        let second = mixer.next() &+ UInt64(truncatingIfNeeded: index) &* 0x8CB9_2BA7_2F3D_8DD7
        mixer = SplitMix64(seed: second)
        self.init(seed: mixer.next())
    }

    /// A uniform value in [low, high).
    mutating func uniform(_ low: Double, _ high: Double) -> Double { low + (high - low) * unit() }

    /// A uniform `Float` in [low, high).
    mutating func uniformFloat(_ low: Float, _ high: Float) -> Float { Float(uniform(Double(low), Double(high))) }

    /// An integer in 0..<count (count > 0) as the next 64 bits modulo `count` (slightly biased for counts that do
    /// not divide 2^64, negligibly so for the small counts used here; kept because the corpus is defined by it).
    mutating func belowByModulo(_ count: Int) -> Int { Int(next() % UInt64(count)) }

    /// True with probability `probability`.
    mutating func chance(_ probability: Double) -> Bool { unit() < probability }

    /// One element of a non-empty array.
    mutating func pick<Element>(_ choices: [Element]) -> Element { choices[belowByModulo(choices.count)] }

    /// A value with mean 0 and standard deviation `deviation` (sum of uniforms; bounded, cheap).
    mutating func jitter(_ deviation: Double) -> Double {
        (unit() + unit() + unit() - 1.5) * 2 * deviation
    }
}

/// A very cheap white-noise source for audio-rate loops (xorshift32), seeded from the clip's ``SplitMix64``.
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
