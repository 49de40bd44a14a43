import Foundation
import Testing
@testable import Spectral

@Suite struct DecibelsTests {
    static func db(_ values: [Float], amin: Float = 1e-10, ref: Float = 1, topDB: Float?) -> [Float] {
        var v = values
        v.withUnsafeMutableBufferPointer { Decibels.powerToDB($0, amin: amin, refPower: ref, topDB: topDB) }
        return v
    }

    @Test func aminFloorsAtMinus100dB() {
        let out = Self.db([0, 1e-12, 1e-10, 1, 10, 1000, .nan], topDB: nil)
        let expected: [Float] = [-100, -100, -100, 0, 10, 30, -100]
        for (a, b) in zip(out, expected) { #expect(abs(Double(a - b)) <= SpectralBounds.powerToDB(valueDB: Double(b)), "\(a) vs \(b)") }
    }

    @Test func topDBRaisesEverythingToMaxMinus80() {
        let out = Self.db([0, 1e-7, 1e-5, 1, 1000], topDB: 80)
        let expected: [Float] = [-50, -50, -50, 0, 30]
        // Clamped cells are max - 80: the maximum's bound (30 dB) plus the subtraction's rounding.
        for (a, b) in zip(out, expected) {
            let bound = SpectralBounds.powerToDB(valueDB: b == -50 ? 30 : Double(b)) + ErrorBound.unitRoundoff * 50
            #expect(abs(Double(a - b)) <= bound, "\(a) vs \(b)")
        }
        let narrow = Self.db([1, 100], topDB: 0)
        #expect(narrow.allSatisfy { abs(Double($0) - 20) <= SpectralBounds.powerToDB(valueDB: 20) + ErrorBound.unitRoundoff * 20 })
    }

    @Test func referencePowerShiftsTheScale() {
        let out = Self.db([1, 10, 100], ref: 10, topDB: nil)
        let expected: [Float] = [-10, 0, 10]
        for (a, b) in zip(out, expected) { #expect(abs(Double(a - b)) <= SpectralBounds.powerToDB(valueDB: Double(b) + 10, referenceDB: 10)) }
        // |ref| is used, floored at amin
        #expect(abs(Double(Self.db([1], ref: -10, topDB: nil)[0]) + 10) <= SpectralBounds.powerToDB(valueDB: 0, referenceDB: 10))
        #expect(abs(Double(Self.db([1], ref: 0, topDB: nil)[0]) - 100) <= SpectralBounds.powerToDB(valueDB: 0, referenceDB: -100))
    }

    @Test func silenceStaysAtTheFloor() {
        let out = Self.db([Float](repeating: 0, count: 37), topDB: 80)
        #expect(out.allSatisfy { abs(Double($0) + 100) <= SpectralBounds.powerToDB(valueDB: -100) })
    }

    @Test func vectorisedLogIsAccurateOverTheFloatRange() {
        // log-spaced normal floats from 1.26e-38 to 1e38, plus values around the mantissa split at sqrt(2) and powers of two
        var inputs = (0...20_000).map { Float(pow(10.0, -37.9 + 75.9 * Double($0) / 20_000)) }
        for e in -30...30 {
            let two = Float(pow(2.0, Double(e)))
            inputs += [two, two.nextUp, two.nextDown, two * 1.41421356, (two * 1.41421356).nextUp, two * 1.999999]
        }
        var worst = 0.0, worstRatio = 0.0
        var i = 0
        while i < inputs.count {
            var lane = SIMD4<Float>(repeating: 1)
            for j in 0..<min(4, inputs.count - i) { lane[j] = inputs[i + j] }
            let out = Decibels.tenLog10(lane)
            for j in 0..<min(4, inputs.count - i) {
                let exact = 10 * log10(Double(inputs[i + j]))
                worst = max(worst, abs(Double(out[j]) - exact))
                worstRatio = max(worstRatio, abs(Double(out[j]) - exact) / SpectralBounds.tenLog10(dB: exact))
            }
            i += 4
        }
        #expect(worstRatio <= 1, "max |10 log10 error| \(worst) dB, worst error / bound \(worstRatio)")
        print("vectorised 10*log10: max abs error \(worst) dB over \(inputs.count) values")
    }

    @Test func oddLengthBuffersAreConvertedEverywhere() {
        for count in [1, 2, 3, 5, 7, 9] {
            let out = Self.db([Float](repeating: 100, count: count), topDB: 80)
            #expect(out.allSatisfy { abs(Double($0) - 20) <= SpectralBounds.powerToDB(valueDB: 20) }, "count \(count)")
        }
        #expect(Self.db([], topDB: 80).isEmpty)
    }
}
