import Foundation
/// The shared test support (TemporaryDirectory, ErrorBound, expectClose) for every file of this target.
@_exported import TestSupport

/// Error bounds of Spectral's float32 computations, from the operations they perform (see ``ErrorBound``).
enum SpectralBounds {
    /// Bound on `|Decibels.tenLog10(x) - 10·log10(x)|` for a result `d = 10·log10(x)` dB: the exponent part
    /// `e·fl(10·log10 2)` (|e·3.0103| <= |d| + 1.51; the constant and the product round: γ(3)), the mantissa part
    /// `(10/ln 10)·2·atanh(s)` of size at most 1.51 dB after about a dozen roundings (γ(12); the series' own
    /// truncation, 3e-10 relative, is far below), and the final addition (u·|d|).
    static func tenLog10(dB d: Double) -> Double {
        ErrorBound.gamma(3) * (abs(d) + 1.51) + ErrorBound.gamma(12) * 1.51 + ErrorBound.unitRoundoff * abs(d)
    }

    /// Bound on a `powerToDB` result `d = 10·log10(max(x, amin)) - 10·log10(max(amin, |ref|))`: both logarithms'
    /// bounds and the subtraction's rounding.
    static func powerToDB(valueDB: Double, referenceDB: Double = 0) -> Double {
        tenLog10(dB: valueDB) + tenLog10(dB: referenceDB) + ErrorBound.unitRoundoff * abs(valueDB - referenceDB)
    }

    /// The number of float32 roundings on the longest path through an FFT of `n` points as FFTW computes it: about
    /// 5 per butterfly level (a complex multiplication by a twiddle factor, itself rounded, and an addition), over
    /// `⌈log2 n⌉` levels, plus a direct O(p) sum for a prime factor p that no codelet covers, plus the window.
    static func fftRoundings(_ n: Int) -> Int {
        var largestPrime = 1, rest = n, factor = 2
        while rest > 1 {
            while rest % factor == 0 {
                largestPrime = factor
                rest /= factor
            }
            factor += 1
        }
        let levels = Int(ceil(log2(Double(max(n, 2)))))
        return 5 * (levels + largestPrime) + 4
    }
}
