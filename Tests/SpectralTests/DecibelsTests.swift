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
        for (a, b) in zip(out, expected) { #expect(abs(a - b) <= 1e-4, "\(a) vs \(b)") }
    }

    @Test func topDBRaisesEverythingToMaxMinus80() {
        let out = Self.db([0, 1e-7, 1e-5, 1, 1000], topDB: 80)
        let expected: [Float] = [-50, -50, -50, 0, 30]
        for (a, b) in zip(out, expected) { #expect(abs(a - b) <= 1e-4, "\(a) vs \(b)") }
        let narrow = Self.db([1, 100], topDB: 0)
        #expect(narrow.allSatisfy { abs($0 - 20) <= 1e-4 })
    }

    @Test func referencePowerShiftsTheScale() {
        let out = Self.db([1, 10, 100], ref: 10, topDB: nil)
        let expected: [Float] = [-10, 0, 10]
        for (a, b) in zip(out, expected) { #expect(abs(a - b) <= 1e-4) }
        // |ref| is used, floored at amin
        #expect(abs(Self.db([1], ref: -10, topDB: nil)[0] + 10) <= 1e-4)
        #expect(abs(Self.db([1], ref: 0, topDB: nil)[0] - 100) <= 1e-3)
    }

    @Test func silenceStaysAtTheFloor() {
        let out = Self.db([Float](repeating: 0, count: 37), topDB: 80)
        #expect(out.allSatisfy { abs($0 + 100) <= 1e-4 })
    }

    @Test func vectorisedLogIsAccurateOverTheFloatRange() {
        // log-spaced normal floats from 1.26e-38 to 1e38, plus values around the mantissa split at sqrt(2) and powers of two
        var inputs = (0...20_000).map { Float(pow(10.0, -37.9 + 75.9 * Double($0) / 20_000)) }
        for e in -30...30 {
            let two = Float(pow(2.0, Double(e)))
            inputs += [two, two.nextUp, two.nextDown, two * 1.41421356, (two * 1.41421356).nextUp, two * 1.999999]
        }
        var worst = 0.0
        var i = 0
        while i < inputs.count {
            var lane = SIMD4<Float>(repeating: 1)
            for j in 0..<min(4, inputs.count - i) { lane[j] = inputs[i + j] }
            let out = Decibels.tenLog10(lane)
            for j in 0..<min(4, inputs.count - i) {
                worst = max(worst, abs(Double(out[j]) - 10 * log10(Double(inputs[i + j]))))
            }
            i += 4
        }
        #expect(worst <= 5e-5, "max |10 log10 error| \(worst) dB")
        print("vectorised 10*log10: max abs error \(worst) dB over \(inputs.count) values")
    }

    @Test func oddLengthBuffersAreConvertedEverywhere() {
        for count in [1, 2, 3, 5, 7, 9] {
            let out = Self.db([Float](repeating: 100, count: count), topDB: 80)
            #expect(out.allSatisfy { abs($0 - 20) <= 1e-4 }, "count \(count)")
        }
        #expect(Self.db([], topDB: 80).isEmpty)
    }
}
