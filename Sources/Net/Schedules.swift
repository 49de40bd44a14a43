import Foundation

/// A learning-rate schedule: the factor applied to the base learning rate at a given step.
///
/// `step` is the 0-based index of the update about to be made (or of the epoch, if the caller schedules per
/// epoch): set `optimizer.learningRate = schedule.learningRate(base: lr, step: optimizer.stepCount)` before
/// each `optimizer.step()`.
public enum LearningRateSchedule: Sendable, Equatable, Hashable, Codable {
    /// The base rate throughout.
    case constant
    /// Linear warm-up from `base / warmupSteps` to `base` over the first `warmupSteps` steps (factor
    /// `(step + 1) / warmupSteps`), then cosine decay from `base` to `minimumFactor · base` at `totalSteps`
    /// (factor `m + (1 - m) · (1 + cos(π · (step - warmup) / (total - warmup))) / 2`), constant afterwards.
    case cosine(warmupSteps: Int, totalSteps: Int, minimumFactor: Double)
    /// Step decay (PyTorch `StepLR`): factor `gamma ^ (step / stepSize)` (integer division).
    case stepDecay(stepSize: Int, gamma: Double)

    /// The multiplier of the base learning rate at `step` (>= 0).
    public func factor(step: Int) -> Double {
        let step = max(0, step)
        switch self {
        case .constant:
            return 1
        case .cosine(let warmup, let total, let minimum):
            if step < warmup { return Double(step + 1) / Double(warmup) }
            let span = max(1, total - max(0, warmup))
            let progress = min(1, Double(step - max(0, warmup)) / Double(span))
            return minimum + (1 - minimum) * 0.5 * (1 + cos(Double.pi * progress))
        case .stepDecay(let size, let gamma):
            return pow(gamma, Double(step / max(1, size)))
        }
    }

    /// `base · factor(step:)`.
    public func learningRate(base: Double, step: Int) -> Double { base * factor(step: step) }
}
