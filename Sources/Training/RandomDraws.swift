import Foundation
import GenreCore

/// The random draws training needs beyond integers and shuffles, all from GenreKit's one seeded generator
/// (``SplitMix64``) so that they depend only on the seed (never on the standard library's or the platform's
/// generators).
extension SplitMix64 {
    /// The generator of one epoch of a run: a hash of (`seed`, `epoch`), so epochs have unrelated streams and a
    /// resumed run draws exactly what an uninterrupted one would.
    static func forEpoch(seed: UInt64, epoch: Int) -> SplitMix64 {
        var base = SplitMix64(seed: seed)
        var mixed = SplitMix64(seed: base.next() ^ (UInt64(bitPattern: Int64(epoch)) &* 0xD1B5_4A32_D192_ED03))
        return SplitMix64(seed: mixed.next())
    }

    /// Uniform in the open interval (0, 1).
    mutating func openUnit() -> Double {
        (Double(next() >> 11) + 0.5) * 0x1.0p-53
    }

    /// A standard normal draw (Box–Muller, one of the pair) from two ``openUnit()`` draws: training's own stream
    /// (``SplitMix64/normal()`` draws its uniforms differently, and would change mixup's draws).
    mutating func openNormal() -> Double {
        let u = openUnit(), v = openUnit()
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
    }

    /// A Gamma(`shape`, 1) draw, `shape` > 0 (Marsaglia & Tsang 2000; shapes below 1 by boosting to `shape + 1`
    /// and scaling by `U^(1/shape)`).
    mutating func gamma(shape: Double) -> Double {
        precondition(shape > 0, "Gamma shape must be > 0")
        if shape < 1 {
            return gamma(shape: shape + 1) * pow(openUnit(), 1 / shape)
        }
        let d = shape - 1.0 / 3.0
        let c = 1 / (9 * d).squareRoot()
        while true {
            var x: Double, v: Double
            repeat {
                x = openNormal()
                v = 1 + c * x
            } while v <= 0
            v = v * v * v
            let u = openUnit()
            if u < 1 - 0.0331 * x * x * x * x { return d * v }
            if log(u) < 0.5 * x * x + d * (1 - v + log(v)) { return d * v }
        }
    }

    /// A Beta(`alpha`, `beta`) draw in [0, 1], both > 0: `X / (X + Y)` with `X ~ Gamma(alpha)`, `Y ~ Gamma(beta)`.
    mutating func beta(_ alpha: Double, _ beta: Double) -> Double {
        let x = gamma(shape: alpha), y = gamma(shape: beta)
        let sum = x + y
        // Both draws can underflow to 0 for tiny shapes: the distribution is then almost all at 0 and 1.
        guard sum > 0, sum.isFinite else { return unit() < alpha / (alpha + beta) ? 1 : 0 }
        return min(1, max(0, x / sum))
    }
}
