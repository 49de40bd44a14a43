/// Reductions over sample buffers (four independent accumulators, so the loop is not one dependency chain).
enum SampleMath {
    /// Sum of squares of `count` samples.
    static func sumOfSquares(_ samples: UnsafePointer<Float>, count: Int) -> Float {
        var a: Float = 0, b: Float = 0, c: Float = 0, d: Float = 0
        var n = 0
        while n + 4 <= count {
            a += samples[n] * samples[n]
            b += samples[n + 1] * samples[n + 1]
            c += samples[n + 2] * samples[n + 2]
            d += samples[n + 3] * samples[n + 3]
            n += 4
        }
        while n < count { a += samples[n] * samples[n]; n += 1 }
        return (a + b) + (c + d)
    }

    /// Largest |sample| of `count` samples.
    static func peakMagnitude(_ samples: UnsafePointer<Float>, count: Int) -> Float {
        var a: Float = 0, b: Float = 0, c: Float = 0, d: Float = 0
        var n = 0
        while n + 4 <= count {
            let x = abs(samples[n]), y = abs(samples[n + 1]), z = abs(samples[n + 2]), w = abs(samples[n + 3])
            if x > a { a = x }
            if y > b { b = y }
            if z > c { c = z }
            if w > d { d = w }
            n += 4
        }
        while n < count { let x = abs(samples[n]); if x > a { a = x }; n += 1 }
        return max(max(a, b), max(c, d))
    }
}
