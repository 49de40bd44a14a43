import Foundation
import Testing

/// Rounding-error bounds of float32 computations, from the standard model of floating-point arithmetic
/// (Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed., ch. 2–3): every float32 operation returns
/// the exact result times `(1 + δ)` with `|δ| <= u`, `u = 2^-24` (round to nearest), and a sum of `k` terms
/// computed in ANY order — left to right, blocked, pairwise, SIMD lanes, split across threads, with or without
/// fused multiply-adds — has an error of at most `γ(k - 1) · Σ|terms|`, where `γ(n) = n·u / (1 - n·u)`.
///
/// That order-independence is why these bounds hold on every CPU: OpenBLAS's kernels (Prescott, Sandybridge,
/// Haswell, SkylakeX, Neoverse) and Net's own loops differ only in the order and grouping of the same sums.
/// Tests compare two float32 results by `|a - b| <= bound(a) + bound(b)`, each bound computed from the actual
/// operands (their absolute values, summed in Double), never from what one machine happened to give.
public enum ErrorBound {
    /// The unit roundoff of float32, `u = 2^-24 ≈ 5.96e-8` (half of `Float.ulpOfOne`).
    public static let unitRoundoff = Double(Float.ulpOfOne) / 2

    /// `γ(n) = n·u / (1 - n·u)`: the relative error bound of `n` successive roundings (`n·u < 1`).
    public static func gamma(_ n: Int) -> Double {
        let nu = Double(max(n, 0)) * unitRoundoff
        precondition(nu < 0.5, "γ(\(n)) is only meaningful for n·u < 1/2")
        return nu / (1 - nu)
    }

    /// Error bound of a float32 sum of `count` terms whose absolute values add up to `absoluteSum`
    /// (`γ(count)·Σ|terms|`; `count` rather than `count - 1` also covers one rounding of each product when the
    /// terms are products `a·b` and the input conversion of the result). Any summation order.
    public static func sum(count: Int, absoluteSum: Double) -> Double {
        gamma(count) * absoluteSum
    }

    /// ``sum(count:absoluteSum:)`` of the given terms (their magnitudes are summed here in Double).
    public static func sum(terms: some Sequence<Double>, count: Int? = nil) -> Double {
        var absoluteSum = 0.0, seen = 0
        for term in terms {
            absoluteSum += abs(term)
            seen += 1
        }
        return sum(count: count ?? seen, absoluteSum: absoluteSum)
    }

    /// The absolute error that gradual underflow may add to `operations` float32 operations (half the smallest
    /// subnormal each): the floor to add to a relative bound where exact zeros or subnormal results can occur.
    public static func underflow(operations: Int) -> Double {
        Double(max(operations, 1)) * Double(Float.leastNonzeroMagnitude)
    }

    /// Error bound of a dot product `Σ a_i·b_i` of float32 vectors: `γ(n)·Σ|a_i·b_i|`.
    public static func dot(_ a: [Float], _ b: [Float]) -> Double {
        precondition(a.count == b.count)
        var absoluteSum = 0.0
        for i in a.indices { absoluteSum += abs(Double(a[i]) * Double(b[i])) }
        return sum(count: a.count, absoluteSum: absoluteSum)
    }
}

/// The largest absolute elementwise difference of two arrays of equal length.
public func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "maxAbsDifference: \(a.count) vs \(b.count) elements")
    var worst: Float = 0
    for i in a.indices { worst = max(worst, abs(a[i] - b[i])) }
    return worst
}

/// Expects `|actual[i] - expected[i]| <= bound[i]` for every element, and reports the worst element (by its
/// ratio of difference to bound) when one is not. `bound` comes from ``ErrorBound`` (already the sum of the
/// bounds of both sides when both are computed); `floor` is added to every bound: a few float32 ulps of the
/// smallest normal magnitude the comparison cares about, so that exact zeros on one side do not demand exact
/// zeros on the other.
public func expectClose(
    _ actual: [Float], _ expected: [Float], bound: [Double], floor: Double = 0, _ what: @autoclosure () -> String = "",
    sourceLocation: SourceLocation = #_sourceLocation
) {
    guard actual.count == expected.count, bound.count == actual.count else {
        Issue.record("\(what()): \(actual.count) values, \(expected.count) expected, \(bound.count) bounds", sourceLocation: sourceLocation)
        return
    }
    var worst = -1, worstRatio = 1.0
    var largestRatio = 0.0, largestAt = 0
    for i in actual.indices {
        let difference = abs(Double(actual[i]) - Double(expected[i]))
        let limit = bound[i] + floor
        if limit > 0, difference / limit > largestRatio { (largestRatio, largestAt) = (difference / limit, i) }
        // NaN differences fail too (the comparison is false).
        if !(difference <= limit) {
            let ratio = limit > 0 ? difference / limit : .infinity
            if worst < 0 || !(ratio <= worstRatio) { worst = i; worstRatio = ratio }
        }
    }
    if ProcessInfo.processInfo.environment["GENREKIT_PRINT_BOUNDS"] != nil, !actual.isEmpty {
        // Diagnostics on request: how much of its bound the worst element uses.
        let i = largestAt
        print("bound \(what()): worst |diff| / bound \(largestRatio) at element \(i) (|diff| \(abs(Double(actual[i]) - Double(expected[i]))), bound \(bound[i] + floor), value \(expected[i]))")
    }
    if worst >= 0 {
        Issue.record(
            "\(what()): element \(worst): \(actual[worst]) vs \(expected[worst]), |diff| \(abs(Double(actual[worst]) - Double(expected[worst]))) > bound \(bound[worst] + floor) (\(worstRatio)x)",
            sourceLocation: sourceLocation)
    }
}

/// ``expectClose(_:_:bound:floor:_:sourceLocation:)`` with one bound for every element.
public func expectClose(
    _ actual: [Float], _ expected: [Float], bound: Double, _ what: @autoclosure () -> String = "",
    sourceLocation: SourceLocation = #_sourceLocation
) {
    expectClose(actual, expected, bound: [Double](repeating: bound, count: actual.count), what(), sourceLocation: sourceLocation)
}
