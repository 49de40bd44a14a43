/// GenreKit's one seeded random number generator: SplitMix64 (Steele, Lea & Flood 2014).
///
/// Every random choice in GenreKit (splits, training order, crops, augmentation, weight initialisation, dropout
/// masks, the synthetic corpus) comes from one of these, seeded from the user's seed, so a seed reproduces a run bit
/// for bit. The sequence is fixed by this code, not by the standard library's version: SplitMix64 is pure integer
/// arithmetic, identical on every platform, and the derived draws below are exact conversions of its bits.
public struct SplitMix64: RandomNumberGenerator, Sendable, Equatable {
    /// The state, advanced by the golden-ratio increment on every draw.
    public var state: UInt64

    /// A generator whose sequence is determined by `seed` alone.
    @inlinable
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    @inlinable
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z &>> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z &>> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z &>> 31)
    }

    /// A uniform integer in `0..<bound` (Lemire's multiply-shift with rejection: unbiased, stable across platforms).
    @inlinable
    public mutating func below(_ bound: Int) -> Int {
        precondition(bound > 0)
        let b = UInt64(bound)
        var m = next().multipliedFullWidth(by: b)
        if m.low < b {
            let threshold = (0 &- b) % b
            while m.low < threshold { m = next().multipliedFullWidth(by: b) }
        }
        return Int(m.high)
    }

    /// A uniform Double in `[0, 1)` from the top 53 bits.
    @inlinable
    public mutating func unit() -> Double { Double(next() &>> 11) * 0x1.0p-53 }

    /// A uniform Float in `[0, 1)` from the top 24 bits.
    @inlinable
    public mutating func unitFloat() -> Float { Float(next() &>> 40) * 0x1.0p-24 }

    /// A standard normal deviate (mean 0, variance 1) by the Box–Muller transform; two uniforms per call (the second
    /// deviate of the pair is discarded, so the stream stays a pure function of the call count).
    public mutating func normal() -> Double {
        let u1 = 1.0 - unit()  // (0, 1]: log is finite
        let u2 = unit()
        return (-2.0 * _log(u1)).squareRoot() * _cos(2.0 * Double.pi * u2)
    }

    /// A new generator for a sub-stream, seeded from this generator's next output: sub-streams are independent of
    /// each other and reproducible.
    @inlinable
    public mutating func split() -> SplitMix64 { SplitMix64(seed: next()) }

    /// Fisher–Yates shuffle with this generator (the standard library's algorithm may change between versions).
    @inlinable
    public mutating func shuffle<T>(_ items: inout [T]) {
        guard items.count > 1 else { return }
        for i in stride(from: items.count - 1, to: 0, by: -1) {
            items.swapAt(i, below(i + 1))
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

@usableFromInline func _log(_ x: Double) -> Double { log(x) }
@usableFromInline func _cos(_ x: Double) -> Double { cos(x) }
