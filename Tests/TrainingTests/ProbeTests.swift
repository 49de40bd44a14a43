import Foundation
import Net
import Testing
@testable import Training

/// The linear probe's solver and selection: scikit-learn's optimum, the gradient by finite differences, the
/// standardisation folded into one linear layer, and the choice of C on the valid split.
@Suite struct ProbeTests {
    /// 30 samples of 3 features, 3 classes: `x = [sin(0.7 i) + [y = 0], cos(1.3 i) + [y = 1], (i mod 5) / 5 - 0.4]`.
    static func smallProblem() -> (x: [Double], y: [Int]) {
        var x: [Double] = [], y: [Int] = []
        for i in 0..<30 {
            let label = i % 3
            x += [Foundation.sin(Double(i) * 0.7) + (label == 0 ? 1 : 0), Foundation.cos(Double(i) * 1.3) + (label == 1 ? 1 : 0),
                  Double(i % 5) / 5 - 0.4]
            y.append(label)
        }
        return (x, y)
    }

    @Test("the fit equals scikit-learn 1.9's LogisticRegression(C) on the same data", arguments: [
        (0.5, [[0.762431, -0.337227, -0.030033], [-0.449615, 0.825548, 0.026556], [-0.312816, -0.488321, 0.003477]],
         [-0.161243, -0.255058, 0.416302]),
        (10.0, [[1.27539, -0.595451, -0.106366], [-0.971799, 1.418828, 0.156501], [-0.303592, -0.823377, -0.050135]],
         [-0.196091, -0.537056, 0.733146]),
    ])
    func matchesScikitLearn(c: Double, coefficients: [[Double]], intercepts: [Double]) {
        let (x, y) = Self.smallProblem()
        let model = LogisticRegression.fit(x: x, labels: y, classes: 3, c: c, tolerance: 1e-8)
        #expect(model.converged)
        for j in 0..<3 {
            for f in 0..<3 { #expect(abs(model.weights[j * 3 + f] - coefficients[j][f]) < 2e-5) }
            #expect(abs(model.bias[j] - intercepts[j]) < 2e-5)
        }
    }

    @Test("the objective's gradient matches central finite differences")
    func gradientByFiniteDifferences() {
        let (x, y) = Self.smallProblem()
        let objective = LogisticRegression.Objective(x: x, labels: y, n: 30, d: 3, k: 3, penalty: 1 / (0.7 * 30))
        let theta = (0..<12).map { Foundation.sin(Double($0) * 1.7) * 0.8 }
        let (_, gradient) = objective.valueAndGradient(theta)
        for p in theta.indices {
            var plus = theta, minus = theta
            plus[p] += 1e-6
            minus[p] -= 1e-6
            let numeric = (objective.valueAndGradient(plus).0 - objective.valueAndGradient(minus).0) / 2e-6
            #expect(abs(numeric - gradient[p]) < 1e-7, "parameter \(p)")
        }
    }

    /// Embeddings of `clips` clips of `features` features where the class shifts a few features.
    static func embeddings(clips: Int, features: Int, classes: Int, seed: Int) -> ClipEmbeddings {
        var values: [Float] = [], labels: [Int] = []
        for i in 0..<clips {
            let label = i % classes
            for f in 0..<features {
                let noise = Foundation.sin(Double(i * 31 + f * 17 + seed * 7) * 0.91) * 2
                values.append(Float(10 + Double(f) + noise * Double(f + 1) + (f % classes == label ? 3.0 : 0)))
            }
            labels.append(label)
        }
        return ClipEmbeddings(features: features, values: values, labels: labels)
    }

    @Test("the folded linear layer gives the standardised model's logits on raw embeddings")
    func foldingIsExact() {
        let train = Self.embeddings(clips: 40, features: 6, classes: 4, seed: 1)
        let valid = Self.embeddings(clips: 20, features: 6, classes: 4, seed: 2)
        let fit = LinearProbe.fit(train: train, valid: valid, classes: 4, cGrid: [0.1, 1], maxIterations: 500)
        let (weight, bias) = fit.foldedLinear()
        #expect(weight.shape == [4, 6] && bias.shape == [4])
        for i in 0..<valid.clips {
            let raw = (0..<6).map { Double(valid.values[i * 6 + $0]) }
            let standardised = (0..<6).map { (raw[$0] - fit.mean[$0]) / fit.std[$0] }
            let expected = fit.model.logits(standardised[...])
            for j in 0..<4 {
                var folded = Double(bias.scalars[j])
                for f in 0..<6 { folded += Double(weight.scalars[j * 6 + f]) * raw[f] }
                #expect(abs(folded - expected[j]) < 1e-4 * max(1, abs(expected[j])))
            }
        }
    }

    @Test("C is chosen by valid accuracy, then valid log-loss; the grid records every fit")
    func chooseCOnValid() {
        let train = Self.embeddings(clips: 60, features: 8, classes: 3, seed: 3)
        let valid = Self.embeddings(clips: 30, features: 8, classes: 3, seed: 4)
        let grid = [10, 0.001, 0.1, 1]
        let fit = LinearProbe.fit(train: train, valid: valid, classes: 3, cGrid: grid, maxIterations: 1000)
        #expect(fit.grid.map(\.c) == grid.sorted())
        let best = fit.grid.max { a, b in
            a.validAccuracy != b.validAccuracy ? a.validAccuracy < b.validAccuracy : a.validLogLoss > b.validLogLoss
        }!
        #expect(fit.c == best.c)
        // The chosen model reproduces its recorded valid accuracy.
        let d = 8
        var correct = 0
        for i in 0..<valid.clips {
            let x = (0..<d).map { (Double(valid.values[i * d + $0]) - fit.mean[$0]) / fit.std[$0] }
            let z = fit.model.logits(x[...])
            if z.firstIndex(of: z.max()!) == valid.labels[i] { correct += 1 }
        }
        #expect(Double(correct) / Double(valid.clips) == best.validAccuracy)
        // A constant feature is standardised with a deviation of 1, not a division by zero.
        var constant = train
        for i in 0..<constant.clips { constant.values[i * d] = 5 }
        let withConstant = LinearProbe.fit(train: constant, valid: valid, classes: 3, cGrid: [1], maxIterations: 200)
        #expect(withConstant.std[0] == 1 && withConstant.model.weights.allSatisfy(\.isFinite))
    }
}
