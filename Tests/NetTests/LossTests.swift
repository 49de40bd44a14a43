import Foundation
import Testing
@testable import Net

@Suite struct LossTests {
    @Test func hardLabelLossAndGradientMatchTheFormula() {
        let logits = Tensor(shape: [2, 3], scalars: [1, 2, 3, 0.5, -1, 0])
        let (loss, gradient) = SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: [2, 0])
        func softmax(_ z: [Double]) -> [Double] { let e = z.map { exp($0) }; return e.map { $0 / e.reduce(0, +) } }
        let p0 = softmax([1, 2, 3]), p1 = softmax([0.5, -1, 0])
        #expect(abs(loss - (-(log(p0[2]) + log(p1[0])) / 2)) < 1e-9)
        let expected = [p0[0], p0[1], p0[2] - 1, p1[0] - 1, p1[1], p1[2]].map { $0 / 2 }
        // Computed in Double and rounded to Float once: half a Float ulp, plus the Double noise (far below).
        expectClose(gradient.scalars, expected.map { Float($0) }, bound: expected.map { Double(Float.ulpOfOne) * abs($0) }, "gradient")
    }

    @Test(arguments: [false, true])
    func gradientMatchesFiniteDifferences(soft: Bool) {
        let logits = Harness.normals(4 * 5, seed: 40, scale: 2)
        var targets = [Float](repeating: 0, count: 20)
        let labels = [1, 4, 0, 2]
        for n in 0..<4 {
            if soft {
                targets[n * 5 + labels[n]] = 0.65
                targets[n * 5 + (labels[n] + 2) % 5] = 0.35
            } else {
                targets[n * 5 + labels[n]] = 1
            }
        }
        let t = Tensor(shape: [4, 5], scalars: targets)
        func loss(_ z: [Float]) -> Double { SoftmaxCrossEntropy.lossAndGradient(logits: Tensor(shape: [4, 5], scalars: z), targets: t).loss }
        let analytic = SoftmaxCrossEntropy.lossAndGradient(logits: Tensor(shape: [4, 5], scalars: logits), targets: t).gradient.scalars
        var numeric = [Float](repeating: 0, count: 20)
        for i in 0..<20 {
            var z = logits
            z[i] += 1e-3
            let plus = loss(z)
            z[i] -= 2e-3
            numeric[i] = Float((plus - loss(z)) / 2e-3)
        }
        // The loss is computed in Double (its rounding over the step, ~1e-16·|L|/h, is negligible: 1e-12 covers
        // it). What separates the two: the float32 steps (z + h, then - 2h: the step is 2h within 2u·(|z| + 2h),
        // a relative error u·(|z| + 2h)/h of the derivative); the truncation h²/6·|f‴| where f‴ of the mean
        // cross-entropy along one logit is (Σt/N)·p(1 - p)(1 - 2p), at most (1/N)·1/(6√3) in size; and the two
        // roundings to Float (u each).
        let h = 1e-3, u = ErrorBound.unitRoundoff
        let bound = (0..<20).map { i in
            Double(abs(numeric[i])) * u * (Double(abs(logits[i])) + 2 * h) / h + h * h / 6 * (1.0 / 4) / (6 * 3.0.squareRoot())
                + u * Double(abs(analytic[i]) + abs(numeric[i])) + 1e-12
        }
        expectClose(analytic, numeric, bound: bound, "analytic vs finite differences")
        if !soft {
            let viaLabels = SoftmaxCrossEntropy.lossAndGradient(logits: Tensor(shape: [4, 5], scalars: logits), labels: labels)
            #expect(viaLabels.gradient.scalars == analytic)
        }
    }

    @Test func hugeLogitsStayFinite() {
        let logits = Tensor(shape: [2, 3], scalars: [1000, -1000, 0, 88, 89, -3e4])
        let (loss, gradient) = SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: [1, 0])
        #expect(loss.isFinite && abs(loss - (2000 + log1p(exp(-1.0)) + 1) / 2) < 1e-6)
        #expect(gradient.scalars.allSatisfy { $0.isFinite })
        let rowSums = [gradient.scalars[0..<3].reduce(0, +), gradient.scalars[3..<6].reduce(0, +)]
        // Each element is a Double rounded to Float (u·|g|); the Float sum of 3 adds γ(2)·Σ|g|.
        let rowMagnitudes = [gradient.scalars[0..<3], gradient.scalars[3..<6]].map { $0.reduce(0.0) { $0 + abs(Double($1)) } }
        for (sum, magnitude) in zip(rowSums, rowMagnitudes) { #expect(abs(Double(sum)) <= ErrorBound.gamma(3) * magnitude) }
    }
}
