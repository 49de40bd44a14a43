import Foundation

/// Power to decibel conversion, librosa's `power_to_db`.
public enum Decibels {
    /// Converts powers to dB in place, as `librosa.power_to_db(S, ref=refPower, amin=amin, top_db=topDB)`:
    /// `10 * log10(max(S, amin)) - 10 * log10(max(amin, |refPower|))`, then, when `topDB` is given, every value is
    /// raised to at least `max - topDB` (the maximum over the whole buffer). Powers must be finite; NaN powers are
    /// treated as `amin`.
    ///
    /// - Parameters:
    ///   - values: powers in, dB out (any layout; the top-dB floor is taken over the whole buffer).
    ///   - amin: power floor, a positive normal float (1e-10 gives a -100 dB floor).
    ///   - refPower: power that maps to 0 dB.
    ///   - topDB: dynamic range kept below the maximum, dB (`nil` = no clamp). Must be >= 0.
    public static func powerToDB(_ values: UnsafeMutableBufferPointer<Float>, amin: Float, refPower: Float, topDB: Float?) {
        precondition(amin.isFinite && amin >= Float.leastNormalMagnitude, "powerToDB: amin must be a positive normal float (got \(amin))")
        precondition(topDB.map { $0.isFinite && $0 >= 0 } ?? true, "powerToDB: topDB must be >= 0 (got \(String(describing: topDB)))")
        guard let base = values.baseAddress, values.count > 0 else { return }
        let maximum = convertInPlace(base, count: values.count, amin: amin, offsetDB: referenceDB(amin: amin, refPower: refPower))
        if let topDB { clampBelow(base, count: values.count, floor: maximum - topDB) }
    }

    /// `10 * log10(max(amin, |refPower|))`, the dB value subtracted from every cell.
    static func referenceDB(amin: Float, refPower: Float) -> Float {
        tenLog10(SIMD4<Float>(repeating: max(amin, abs(refPower))))[0]
    }

    /// `x = 10 * log10(max(x, amin)) - offsetDB` over `count` floats; returns the maximum result.
    @inline(__always)
    static func convertInPlace(_ x: UnsafeMutablePointer<Float>, count: Int, amin: Float, offsetDB: Float) -> Float {
        let floor = SIMD4<Float>(repeating: amin), offset = SIMD4<Float>(repeating: offsetDB)
        var maximum = SIMD4<Float>(repeating: -.infinity)
        var cursor = UnsafeMutableRawPointer(x)
        var i = 0
        while i + 4 <= count {
            var v = cursor.loadUnaligned(as: SIMD4<Float>.self)
            v.replace(with: floor, where: .!(v .>= floor))
            let db = tenLog10(v) - offset
            maximum.replace(with: db, where: db .> maximum)
            cursor.storeBytes(of: db, as: SIMD4<Float>.self)
            cursor += 16
            i &+= 4
        }
        var result = maximum.max()
        if i < count {
            var tail = SIMD4<Float>(repeating: amin)
            for lane in 0..<(count - i) { tail[lane] = x[i + lane] }
            tail.replace(with: floor, where: .!(tail .>= floor))
            let db = tenLog10(tail) - offset
            for lane in 0..<(count - i) {
                x[i + lane] = db[lane]
                result = max(result, db[lane])
            }
        }
        return result
    }

    /// `x = max(x, floor)` over `count` floats.
    @inline(__always)
    static func clampBelow(_ x: UnsafeMutablePointer<Float>, count: Int, floor: Float) {
        let lowest = SIMD4<Float>(repeating: floor)
        var cursor = UnsafeMutableRawPointer(x)
        var i = 0
        while i + 4 <= count {
            var v = cursor.loadUnaligned(as: SIMD4<Float>.self)
            v.replace(with: lowest, where: v .< lowest)
            cursor.storeBytes(of: v, as: SIMD4<Float>.self)
            cursor += 16
            i &+= 4
        }
        while i < count {
            x[i] = max(x[i], floor)
            i += 1
        }
    }

    /// `10 * log10(x)` for positive normal floats, 4 at a time, without calling libm.
    ///
    /// `x = m * 2^e` with `m` in `[sqrt(1/2), sqrt(2))`; `ln m = 2 atanh(s)`, `s = (m - 1) / (m + 1)`,
    /// `|s| <= 0.1716`, summed to the `s^9` term (truncation error < 3e-10 relative). The result is
    /// `e * 10 log10(2) + (10 / ln 10) ln m`; its error is float rounding, a few 1e-6 dB at most over the whole
    /// float range (checked against Double in the tests). Zero, negative, subnormal, infinite and NaN inputs give
    /// meaningless values: callers floor at a positive normal `amin` first.
    @inline(__always)
    static func tenLog10(_ x: SIMD4<Float>) -> SIMD4<Float> {
        let (exponent, lnMantissa) = exponentAndLogMantissa(x)
        let tenLog10Of2: Float = 3.0102999566398120, tenOverLn10: Float = 4.3429448190325183
        return exponent * tenLog10Of2 + lnMantissa * tenOverLn10
    }

    /// `log10(x)` for positive normal floats, 4 at a time: ``tenLog10(_:)``'s method with the constants
    /// `log10(2)` and `1 / ln 10` (error: float rounding, a few 1e-7 at most over the whole float range).
    @inline(__always)
    static func log10(_ x: SIMD4<Float>) -> SIMD4<Float> {
        let (exponent, lnMantissa) = exponentAndLogMantissa(x)
        let log10Of2: Float = 0.30102999566398120, oneOverLn10: Float = 0.43429448190325183
        return exponent * log10Of2 + lnMantissa * oneOverLn10
    }

    /// `x = m * 2^e` with `m` in `[sqrt(1/2), sqrt(2))`: returns `e` (as floats) and `ln m = 2 atanh(s)`,
    /// `s = (m - 1) / (m + 1)`, summed to the `s^9` term, for positive normal floats.
    @inline(__always)
    static func exponentAndLogMantissa(_ x: SIMD4<Float>) -> (exponent: SIMD4<Float>, lnMantissa: SIMD4<Float>) {
        let bits = unsafeBitCast(x, to: SIMD4<Int32>.self)
        var exponent = (bits &>> 23) &- 127
        var mantissa = unsafeBitCast((bits & 0x007F_FFFF) | 0x3F80_0000, to: SIMD4<Float>.self)
        let high = mantissa .> 1.41421356
        mantissa.replace(with: mantissa * 0.5, where: high)
        exponent.replace(with: exponent &+ 1, where: high)
        let s = (mantissa - 1) / (mantissa + 1)
        let s2 = s * s
        // 2 (1 + s2/3 + s2^2/5 + s2^3/7 + s2^4/9), Horner form
        var series = s2 * Float(2.0 / 9) + Float(2.0 / 7)
        series = series * s2 + Float(2.0 / 5)
        series = series * s2 + Float(2.0 / 3)
        series = series * s2 + Float(2)
        return (SIMD4<Float>(exponent), s * series)
    }
}
