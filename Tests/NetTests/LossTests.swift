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

    // MARK: Class weights

    @Test func weightedLossAndGradientMatchTheFormula() {
        // Rows with labels 2 and 0, weights (0.5, 2, 3): D = w_2 + w_0 = 3.5.
        let logits = Tensor(shape: [2, 3], scalars: [1, 2, 3, 0.5, -1, 0])
        let w = [0.5, 2.0, 3.0]
        let (loss, gradient) = SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: [2, 0], weights: w)
        func softmax(_ z: [Double]) -> [Double] { let e = z.map { exp($0) }; return e.map { $0 / e.reduce(0, +) } }
        let p0 = softmax([1, 2, 3]), p1 = softmax([0.5, -1, 0])
        #expect(abs(loss - (-(3 * log(p0[2]) + 0.5 * log(p1[0])) / 3.5)) < 1e-12)
        let expected = [3 * p0[0], 3 * p0[1], 3 * (p0[2] - 1), 0.5 * (p1[0] - 1), 0.5 * p1[1], 0.5 * p1[2]].map { $0 / 3.5 }
        expectClose(gradient.scalars, expected.map { Float($0) }, bound: expected.map { Double(Float.ulpOfOne) * abs($0) }, "gradient")
    }

    @Test func unitWeightsGiveTheUnweightedLoss() {
        let logits = Tensor(shape: [3, 4], scalars: Harness.normals(12, seed: 41, scale: 2))
        let plain = SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: [3, 0, 1])
        let weighted = SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: [3, 0, 1], weights: [1, 1, 1, 1])
        #expect(plain.loss == weighted.loss && plain.gradient.scalars == weighted.gradient.scalars)
    }

    @Test func zeroWeightClassesAreIgnored() {
        // Class 1 weighs 0: its row adds nothing to the loss, the denominator or the gradient.
        let logits = Tensor(shape: [2, 3], scalars: [1, 2, 3, 0.5, -1, 0])
        let both = SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: [2, 1], weights: [1, 0, 1])
        let one = SoftmaxCrossEntropy.lossAndGradient(logits: Tensor(shape: [1, 3], scalars: [1, 2, 3]), labels: [2])
        #expect(abs(both.loss - one.loss) < 1e-12)
        expectClose(Array(both.gradient.scalars[0..<3]), one.gradient.scalars, bound: [1e-7, 1e-7, 1e-7], "kept row")
        #expect(both.gradient.scalars[3..<6].allSatisfy { $0 == 0 })
        let none = SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: [1, 1], weights: [1, 0, 1])
        #expect(none.loss == 0 && none.gradient.scalars.allSatisfy { $0 == 0 })
    }

    /// The expected numbers were computed once with PyTorch 2.13 (float64) and are written here as literals:
    /// `z = [[1, 2, 3], [0.5, -1, 0], [-2, 0.25, 1.5], [0, 0, 0]]`, `w = [0.5, 2, 1.25]`;
    /// hard labels `[2, 0, 1, 0]`: `torch.nn.functional.cross_entropy(z, y, weight=w)` and its gradient;
    /// soft targets `t = [[0, 0.3, 0.7], [1, 0, 0], [0.6, 0.4, 0], [0, 0, 1]]`:
    /// `cross_entropy(z, t, weight=w, reduction='sum') / (t * w).sum()` (PyTorch's own 'mean' divides soft targets
    /// by N instead; GenreKit divides by the targets' total weight, the hard-label semantics extended).
    @Test(arguments: [false, true])
    func weightedLossMatchesPyTorch(soft: Bool) {
        let logits = Tensor(shape: [4, 3], scalars: [1, 2, 3, 0.5, -1, 0, -2, 0.25, 1.5, 0, 0, 0])
        let w = [0.5, 2.0, 1.25]
        let loss: Double, gradient: [Double], result: (loss: Double, gradient: Tensor)
        if soft {
            let t = Tensor(shape: [4, 3], scalars: [0, 0.3, 0.7, 1, 0, 0, 0.6, 0.4, 0, 0, 0, 1])
            result = SoftmaxCrossEntropy.lossAndGradient(logits: logits, targets: t, weights: w)
            loss = 1.209061907406095
            gradient = [0.03070406830666154, -0.05526601276165861, 0.02456194445499702, -0.052422036154198895,
                        0.014098456914419523, 0.03832357923977937, -0.06353121079780476, -0.12962959953900002,
                        0.1931608103368048, 0.09633911368015416, 0.09633911368015416, -0.19267822736030835]
        } else {
            result = SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: [2, 0, 1, 0], weights: w)
            loss = 1.0379151593066271
            gradient = [0.02647958034422954, 0.07197896207494049, -0.09845854241917007, -0.05334713090986122,
                        0.014347253212909276, 0.03899987769695194, 0.010792519058607264, -0.3681916654571872,
                        0.3573991463985799, -0.0784313725490196, 0.0392156862745098, 0.0392156862745098]
        }
        // The targets 0.3, 0.7, 0.6, 0.4 are Float in GenreKit (a relative 3e-8 from the Double ones): 1e-7
        // relative covers them; the gradient is rounded to Float once more.
        #expect(abs(result.loss - loss) <= 1e-7 * loss)
        expectClose(result.gradient.scalars, gradient.map { Float($0) },
                    bound: gradient.map { 2e-7 * abs($0) + 1e-9 }, "gradient vs PyTorch")
    }

    @Test(arguments: [false, true])
    func weightedGradientMatchesFiniteDifferences(soft: Bool) {
        let logits = Harness.normals(4 * 5, seed: 42, scale: 2)
        var targets = [Float](repeating: 0, count: 20)
        let labels = [1, 4, 0, 2], w = [0.4, 1.7, 0.9, 0, 2.5]
        for n in 0..<4 {
            if soft {
                targets[n * 5 + labels[n]] = 0.65
                targets[n * 5 + (labels[n] + 2) % 5] = 0.35
            } else {
                targets[n * 5 + labels[n]] = 1
            }
        }
        let t = Tensor(shape: [4, 5], scalars: targets)
        func loss(_ z: [Float]) -> Double {
            SoftmaxCrossEntropy.lossAndGradient(logits: Tensor(shape: [4, 5], scalars: z), targets: t, weights: w).loss
        }
        let analytic = SoftmaxCrossEntropy.lossAndGradient(logits: Tensor(shape: [4, 5], scalars: logits), targets: t,
                                                           weights: w).gradient.scalars
        var numeric = [Float](repeating: 0, count: 20)
        for i in 0..<20 {
            var z = logits
            z[i] += 1e-3
            let plus = loss(z)
            z[i] -= 2e-3
            numeric[i] = Float((plus - loss(z)) / 2e-3)
        }
        // As in the unweighted check, with the row's weight over D in place of 1/N: the third derivative along one
        // logit is (Σ_k w_k t_nk / D)·p(1 - p)(1 - 2p), and Σ_k w_k t_nk / D <= max(w) / D; D >= the smallest
        // row weight sum. Bound it generously by max(w) / min(row weight) = 2.5 / 0.4 (times 1/(6√3)).
        let h = 1e-3, u = ErrorBound.unitRoundoff
        let bound = (0..<20).map { i in
            Double(abs(numeric[i])) * u * (Double(abs(logits[i])) + 2 * h) / h + h * h / 6 * (2.5 / 0.4) / (6 * 3.0.squareRoot())
                + u * Double(abs(analytic[i]) + abs(numeric[i])) + 1e-12
        }
        expectClose(analytic, numeric, bound: bound, "weighted analytic vs finite differences")
        if !soft {
            let viaLabels = SoftmaxCrossEntropy.lossAndGradient(logits: Tensor(shape: [4, 5], scalars: logits),
                                                                labels: labels, weights: w)
            #expect(viaLabels.gradient.scalars == analytic)
        }
    }
}
