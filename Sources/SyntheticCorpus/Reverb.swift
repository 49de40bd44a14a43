internal import GenreCore
internal import Foundation

/// A small room reverb: four damped feedback combs (run side by side so their recursions overlap) into an
/// all-pass, processed block by block. The right output taps the combs with alternating signs, which
/// decorrelates it from the left. Above 32 kHz it runs at half rate (pairs of input samples averaged, output
/// linearly interpolated): its tail is dark anyway. Single owner of its delay lines (`~Copyable`).
struct Reverb: ~Copyable {
    private static let seconds = [0.0297, 0.0371, 0.0411, 0.0437, 0.005, 0.0017]
    private let storage: UnsafeMutablePointer<Float>
    private let lengths: [Int]
    private let halfRate: Bool
    private var positions = [Int](repeating: 0, count: 6)
    private var damping: (Float, Float, Float, Float) = (0, 0, 0, 0)
    private var guardSign = denormalGuard
    private var previous: (left: Float, right: Float) = (0, 0)

    init(sampleRate: Double) {
        halfRate = sampleRate > 32_000
        let internalRate = halfRate ? sampleRate / 2 : sampleRate
        lengths = Self.seconds.map { max(1, Int($0 * internalRate)) }
        let total = lengths.reduce(0, +)
        storage = .allocate(capacity: total)
        storage.initialize(repeating: 0, count: total)
    }

    deinit { storage.deallocate() }

    /// Reverberates `input[0..<count]` and adds the result to `left` (and `right`, if given).
    mutating func process(_ input: UnsafePointer<Float>, count: Int, addingTo left: UnsafeMutablePointer<Float>,
                          _ right: UnsafeMutablePointer<Float>?) {
        let line0 = storage, line1 = line0 + lengths[0], line2 = line1 + lengths[1], line3 = line2 + lengths[2]
        let allpassLeft = line3 + lengths[3], allpassRight = allpassLeft + lengths[4]
        let length0 = lengths[0], length1 = lengths[1], length2 = lengths[2], length3 = lengths[3]
        let lengthLeft = lengths[4], lengthRight = lengths[5]
        var p0 = positions[0], p1 = positions[1], p2 = positions[2], p3 = positions[3]
        var pl = positions[4], pr = positions[5]
        var (s0, s1, s2, s3) = damping
        var guardSign = self.guardSign
        var (previousLeft, previousRight) = previous
        let feedback: Float = 0.8, damp: Float = 0.3, keep: Float = 0.7
        let stride = halfRate ? 2 : 1
        var n = 0
        while n < count {
            let pair = halfRate && n + 1 < count
            let x = (pair ? (input[n] + input[n + 1]) * 0.5 : input[n]) + guardSign
            guardSign = -guardSign
            let d0 = line0[p0], d1 = line1[p1], d2 = line2[p2], d3 = line3[p3]
            s0 = d0 * keep + s0 * damp
            s1 = d1 * keep + s1 * damp
            s2 = d2 * keep + s2 * damp
            s3 = d3 * keep + s3 * damp
            line0[p0] = x + s0 * feedback
            line1[p1] = x + s1 * feedback
            line2[p2] = x + s2 * feedback
            line3[p3] = x + s3 * feedback
            let wetLeft = (d0 + d1 + d2 + d3) * 0.25
            let delayedLeft = allpassLeft[pl]
            allpassLeft[pl] = wetLeft + delayedLeft * 0.5
            let outLeft = delayedLeft - wetLeft * 0.5
            if halfRate {
                left[n] += (previousLeft + outLeft) * 0.5
                if pair { left[n + 1] += outLeft }
            } else {
                left[n] += outLeft
            }
            previousLeft = outLeft
            if let right {
                let wetRight = (d0 - d1 + d2 - d3) * 0.25
                let delayedRight = allpassRight[pr]
                allpassRight[pr] = wetRight + delayedRight * 0.5
                let outRight = delayedRight - wetRight * 0.5
                if halfRate {
                    right[n] += (previousRight + outRight) * 0.5
                    if pair { right[n + 1] += outRight }
                } else {
                    right[n] += outRight
                }
                previousRight = outRight
                pr += 1; if pr == lengthRight { pr = 0 }
            }
            p0 += 1; if p0 == length0 { p0 = 0 }
            p1 += 1; if p1 == length1 { p1 = 0 }
            p2 += 1; if p2 == length2 { p2 = 0 }
            p3 += 1; if p3 == length3 { p3 = 0 }
            pl += 1; if pl == lengthLeft { pl = 0 }
            n += stride
        }
        positions = [p0, p1, p2, p3, pl, pr]
        damping = (s0, s1, s2, s3)
        self.guardSign = guardSign
        previous = (previousLeft, previousRight)
    }
}
