import Foundation

/// Softmax cross-entropy over logits `[N, classes]`, averaged over the batch (PyTorch `CrossEntropyLoss`,
/// `reduction='mean'`), with its gradient with respect to the logits; optionally class-weighted.
///
/// Numerically stable: each row is shifted by its maximum before exponentiation and the log-sum-exp is taken in
/// Double. With target distribution `t` (one-hot for hard labels, any non-negative weights for soft targets, e.g.
/// mixup's `λ·onehot(a) + (1 - λ)·onehot(b)`): `loss = -(1/N) Σ_n Σ_k t_nk · log softmax(z_n)_k` and
/// `∂loss/∂z_nk = (softmax(z_n)_k · Σ_j t_nj - t_nk) / N`.
///
/// With class weights `w` (`[classes]`, non-negative): `loss = -Σ_n Σ_k w_k t_nk log p_nk / D` with
/// `D = Σ_n Σ_k w_k t_nk`, PyTorch's `CrossEntropyLoss(weight=w)` with `reduction='mean'` (the weighted mean: for
/// hard labels `D` is the sum of the rows' class weights), extended to soft targets; the gradient is
/// `∂loss/∂z_nj = (p_nj · Σ_k w_k t_nk - w_j t_nj) / D`. When `D` is 0 (every target on a zero-weight class) the
/// loss and the gradient are 0 (PyTorch gives NaN).
public enum SoftmaxCrossEntropy {
    /// Loss and logit gradient for hard labels (`labels[n]` in `0..<classes`); `weights`, when given, are the
    /// per-class weights `[classes]` (see the type's description).
    public static func lossAndGradient(
        logits: Tensor, labels: [Int], weights: [Double]? = nil
    ) -> (loss: Double, gradient: Tensor) {
        precondition(logits.shape.count == 2, "SoftmaxCrossEntropy: logits must be [N, classes], got \(logits.shape)")
        let classes = logits.shape[1]
        precondition(labels.count == logits.shape[0], "SoftmaxCrossEntropy: \(labels.count) labels for \(logits.shape[0]) rows")
        precondition(labels.allSatisfy { $0 >= 0 && $0 < classes }, "SoftmaxCrossEntropy: labels must be in 0..<\(classes)")
        checkWeights(weights, classes: classes)
        return compute(logits: logits, weights: weights) { row, k in labels[row] == k ? 1 : 0 }
    }

    /// Loss and logit gradient for soft targets `[N, classes]` (each row non-negative, normally summing to 1);
    /// `weights`, when given, are the per-class weights `[classes]` (see the type's description).
    public static func lossAndGradient(
        logits: Tensor, targets: Tensor, weights: [Double]? = nil
    ) -> (loss: Double, gradient: Tensor) {
        precondition(logits.shape.count == 2, "SoftmaxCrossEntropy: logits must be [N, classes], got \(logits.shape)")
        precondition(targets.shape == logits.shape, "SoftmaxCrossEntropy: targets \(targets.shape) do not match logits \(logits.shape)")
        let classes = logits.shape[1]
        checkWeights(weights, classes: classes)
        return targets.withUnsafeBufferPointer { t in
            compute(logits: logits, weights: weights) { row, k in Double(t[row * classes + k]) }
        }
    }

    private static func checkWeights(_ weights: [Double]?, classes: Int) {
        guard let weights else { return }
        precondition(weights.count == classes, "SoftmaxCrossEntropy: \(weights.count) class weights for \(classes) classes")
        precondition(weights.allSatisfy { $0 >= 0 && $0.isFinite }, "SoftmaxCrossEntropy: class weights must be finite and >= 0")
    }

    private static func compute(
        logits: Tensor, weights: [Double]?, target: (Int, Int) -> Double
    ) -> (loss: Double, gradient: Tensor) {
        let rows = logits.shape[0], classes = logits.shape[1]
        var gradient = [Float](repeating: 0, count: rows * classes)
        // Without weights the denominator is N (as before: also for soft rows that do not sum to 1).
        var denominator = Double(rows)
        if let weights {
            denominator = 0
            for n in 0..<rows { for k in 0..<classes { denominator += weights[k] * target(n, k) } }
            guard denominator > 0 else { return (0, Tensor(shape: logits.shape, scalars: gradient)) }
        }
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
                    let t = target(n, k) * (weights?[k] ?? 1)
                    targetMass += t
                    if t != 0 { total -= t * (Double(z[n * classes + k]) - logSumExp) }
                }
                for k in 0..<classes {
                    let t = target(n, k) * (weights?[k] ?? 1)
                    gradient[n * classes + k] = Float((probabilities[k] / sum * targetMass - t) / denominator)
                }
            }
        }
        return (total / denominator, Tensor(shape: logits.shape, scalars: gradient))
    }
}
