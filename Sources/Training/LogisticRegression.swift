import Foundation

/// Multinomial logistic regression with an L2 penalty on the weights (not the biases), fitted in double precision
/// by L-BFGS: it minimises `C · Σ_i CE(softmax(W x_i + b), y_i) + ½ ‖W‖²`, scikit-learn's
/// `LogisticRegression(C=C)` objective (the same minimiser; it is strictly convex, so any solver that converges
/// finds it). Features are used as given: standardise them first (``LinearProbe`` does).
///
/// Layouts: samples `x` `[n, features]` row-major; ``weights`` `[classes, features]` row-major; ``bias`` `[classes]`.
public struct LogisticRegression: Sendable, Equatable {
    public let classes: Int
    public let features: Int
    public var weights: [Double]
    public var bias: [Double]
    /// L-BFGS iterations taken.
    public var iterations: Int
    /// Whether the gradient's largest component fell below the tolerance (false: stopped at the iteration limit or
    /// when the objective no longer decreased).
    public var converged: Bool

    /// Fits the model to `labels` (each in `0..<classes`). `tolerance` bounds the largest component of the gradient
    /// of the objective divided by `n` (the mean cross-entropy plus `‖W‖² / (2 C n)`).
    public static func fit(
        x: [Double], labels: [Int], classes: Int, c: Double, maxIterations: Int = 2000, tolerance: Double = 1e-7
    ) -> LogisticRegression {
        precondition(classes >= 1 && c > 0 && !labels.isEmpty && x.count % labels.count == 0,
                     "LogisticRegression: \(labels.count) labels for \(x.count) values, \(classes) classes, C \(c)")
        let n = labels.count, d = x.count / n, k = classes
        let problem = Objective(x: x, labels: labels, n: n, d: d, k: k, penalty: 1 / (c * Double(n)))
        var theta = [Double](repeating: 0, count: k * d + k)
        let (iterations, converged) = LBFGS.minimise(&theta, maxIterations: maxIterations, tolerance: tolerance) {
            problem.valueAndGradient($0)
        }
        return LogisticRegression(classes: k, features: d, weights: Array(theta[0..<(k * d)]),
                                  bias: Array(theta[(k * d)...]), iterations: iterations, converged: converged)
    }

    /// `W x + b` of one sample `[features]`.
    public func logits(_ sample: ArraySlice<Double>) -> [Double] {
        precondition(sample.count == features)
        var z = bias
        let base = sample.startIndex
        for j in 0..<classes {
            var s = 0.0
            for f in 0..<features { s += weights[j * features + f] * sample[base + f] }
            z[j] += s
        }
        return z
    }

    /// Accuracy and mean cross-entropy (natural log) on samples `x` `[n, features]` with `labels`.
    public func score(x: [Double], labels: [Int]) -> (accuracy: Double, logLoss: Double) {
        var correct = 0, loss = 0.0
        for (i, y) in labels.enumerated() {
            let z = logits(x[(i * features)..<((i + 1) * features)])
            let top = z.max()!
            let logSum = top + Foundation.log(z.reduce(0) { $0 + Foundation.exp($1 - top) })
            loss += logSum - z[y]
            if z.firstIndex(of: top) == y { correct += 1 }
        }
        return (Double(correct) / Double(labels.count), loss / Double(labels.count))
    }

    /// The objective divided by n: mean cross-entropy + `penalty/2 · ‖W‖²` with `penalty = 1 / (C n)`.
    struct Objective {
        let x: [Double], labels: [Int], n: Int, d: Int, k: Int, penalty: Double

        func valueAndGradient(_ theta: [Double]) -> (Double, [Double]) {
            var gradient = [Double](repeating: 0, count: theta.count)
            var loss = 0.0
            var z = [Double](repeating: 0, count: k)
            let biasOffset = k * d
            theta.withUnsafeBufferPointer { t in
                x.withUnsafeBufferPointer { x in
                    gradient.withUnsafeMutableBufferPointer { g in
                        for i in 0..<n {
                            let row = x.baseAddress! + i * d
                            for j in 0..<k {
                                var s = t[biasOffset + j]
                                let w = t.baseAddress! + j * d
                                for f in 0..<d { s += w[f] * row[f] }
                                z[j] = s
                            }
                            let top = z.max()!
                            var sum = 0.0
                            for j in 0..<k {
                                z[j] = Foundation.exp(z[j] - top)
                                sum += z[j]
                            }
                            let y = labels[i]
                            loss += Foundation.log(sum) - Foundation.log(z[y])
                            for j in 0..<k {
                                let residual = (z[j] / sum - (j == y ? 1 : 0)) / Double(n)
                                g[biasOffset + j] += residual
                                let gw = g.baseAddress! + j * d
                                for f in 0..<d { gw[f] += residual * row[f] }
                            }
                        }
                        var squared = 0.0
                        for p in 0..<biasOffset {
                            squared += t[p] * t[p]
                            g[p] += penalty * t[p]
                        }
                        loss = loss / Double(n) + 0.5 * penalty * squared
                    }
                }
            }
            return (loss, gradient)
        }
    }
}

/// Limited-memory BFGS (Nocedal & Wright, algorithm 7.4: the two-loop recursion over the last 10 steps) with a
/// backtracking Armijo line search, for smooth convex objectives in double precision.
enum LBFGS {
    /// Minimises `f` from `x` (updated in place). Stops when the gradient's largest component is below `tolerance`
    /// (converged), after `maxIterations`, or when no step along the search direction decreases `f` any more. Returns the iterations taken.
    static func minimise(
        _ x: inout [Double], maxIterations: Int, tolerance: Double, memory: Int = 10,
        _ f: ([Double]) -> (Double, [Double])
    ) -> (iterations: Int, converged: Bool) {
        var (value, gradient) = f(x)
        var steps: [[Double]] = [], changes: [[Double]] = [], rhos: [Double] = []
        func dot(_ a: [Double], _ b: [Double]) -> Double {
            var s = 0.0
            for i in a.indices { s += a[i] * b[i] }
            return s
        }
        for iteration in 0..<maxIterations {
            if gradient.lazy.map(abs).max() ?? 0 < tolerance { return (iteration, true) }
            // Two-loop recursion: direction = -H g.
            var q = gradient
            var alphas = [Double](repeating: 0, count: steps.count)
            for i in stride(from: steps.count - 1, through: 0, by: -1) {
                alphas[i] = rhos[i] * dot(steps[i], q)
                for j in q.indices { q[j] -= alphas[i] * changes[i][j] }
            }
            if let s = steps.last, let y = changes.last {
                let gamma = dot(s, y) / dot(y, y)
                for j in q.indices { q[j] *= gamma }
            } else {
                let norm = dot(gradient, gradient).squareRoot()
                for j in q.indices { q[j] /= max(norm, 1) }
            }
            for i in steps.indices {
                let beta = rhos[i] * dot(changes[i], q)
                for j in q.indices { q[j] += steps[i][j] * (alphas[i] - beta) }
            }
            var direction = q.map { -$0 }
            var slope = dot(gradient, direction)
            if !(slope < 0) {
                // Not a descent direction (numerical trouble): restart from steepest descent.
                steps.removeAll(); changes.removeAll(); rhos.removeAll()
                direction = gradient.map { -$0 }
                slope = -dot(gradient, gradient)
            }
            var step = 1.0
            var accepted: (x: [Double], value: Double, gradient: [Double])? = nil
            for _ in 0..<60 {
                var candidate = x
                for j in candidate.indices { candidate[j] += step * direction[j] }
                let (v, g) = f(candidate)
                if v.isFinite && v <= value + 1e-4 * step * slope {
                    accepted = (candidate, v, g)
                    break
                }
                step *= 0.5
            }
            guard let next = accepted else { return (iteration, false) }
            var s = next.x, y = next.gradient
            for j in s.indices {
                s[j] -= x[j]
                y[j] -= gradient[j]
            }
            let curvature = dot(s, y)
            if curvature > 1e-12 {
                steps.append(s); changes.append(y); rhos.append(1 / curvature)
                if steps.count > memory {
                    steps.removeFirst(); changes.removeFirst(); rhos.removeFirst()
                }
            }
            x = next.x
            value = next.value
            gradient = next.gradient
        }
        return (maxIterations, gradient.lazy.map(abs).max() ?? 0 < tolerance)
    }
}
