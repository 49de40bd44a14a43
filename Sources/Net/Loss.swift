import Foundation

/// Softmax cross-entropy over logits `[N, classes]`, averaged over the batch (PyTorch `CrossEntropyLoss`,
/// `reduction='mean'`), with its gradient with respect to the logits.
///
/// Numerically stable: each row is shifted by its maximum before exponentiation and the log-sum-exp is taken in
/// Double. With target distribution `t` (one-hot for hard labels, any non-negative weights for soft targets, e.g.
/// mixup's `λ·onehot(a) + (1 - λ)·onehot(b)`): `loss = -(1/N) Σ_n Σ_k t_nk · log softmax(z_n)_k` and
/// `∂loss/∂z_nk = (softmax(z_n)_k · Σ_j t_nj - t_nk) / N`.
public enum SoftmaxCrossEntropy {
    /// Loss and logit gradient for hard labels (`labels[n]` in `0..<classes`).
    public static func lossAndGradient(logits: Tensor, labels: [Int]) -> (loss: Double, gradient: Tensor) {
        precondition(logits.shape.count == 2, "SoftmaxCrossEntropy: logits must be [N, classes], got \(logits.shape)")
        let classes = logits.shape[1]
        precondition(labels.count == logits.shape[0], "SoftmaxCrossEntropy: \(labels.count) labels for \(logits.shape[0]) rows")
        precondition(labels.allSatisfy { $0 >= 0 && $0 < classes }, "SoftmaxCrossEntropy: labels must be in 0..<\(classes)")
        return compute(logits: logits) { row, k in labels[row] == k ? 1 : 0 }
    }

    /// Loss and logit gradient for soft targets `[N, classes]` (each row non-negative, normally summing to 1).
    public static func lossAndGradient(logits: Tensor, targets: Tensor) -> (loss: Double, gradient: Tensor) {
        precondition(logits.shape.count == 2, "SoftmaxCrossEntropy: logits must be [N, classes], got \(logits.shape)")
        precondition(targets.shape == logits.shape, "SoftmaxCrossEntropy: targets \(targets.shape) do not match logits \(logits.shape)")
        let classes = logits.shape[1]
        return targets.withUnsafeBufferPointer { t in
            compute(logits: logits) { row, k in Double(t[row * classes + k]) }
        }
    }

    private static func compute(logits: Tensor, target: (Int, Int) -> Double) -> (loss: Double, gradient: Tensor) {
        let rows = logits.shape[0], classes = logits.shape[1]
        var gradient = [Float](repeating: 0, count: rows * classes)
        var total = 0.0
        var probabilities = [Double](repeating: 0, count: classes)
        logits.withUnsafeBufferPointer { z in
            for n in 0..<rows {
                var maximum = -Double.infinity
                for k in 0..<classes { maximum = max(maximum, Double(z[n * classes + k])) }
                var sum = 0.0
                for k in 0..<classes {
                    probabilities[k] = exp(Double(z[n * classes + k]) - maximum)
                    sum += probabilities[k]
                }
                let logSumExp = maximum + log(sum)
                var targetMass = 0.0
                for k in 0..<classes {
                    let t = target(n, k)
                    targetMass += t
                    if t != 0 { total -= t * (Double(z[n * classes + k]) - logSumExp) }
                }
                for k in 0..<classes {
                    gradient[n * classes + k] = Float((probabilities[k] / sum * targetMass - target(n, k)) / Double(rows))
                }
            }
        }
        return (total / Double(rows), Tensor(shape: logits.shape, scalars: gradient))
    }
}
