import Foundation
import Testing
@testable import Net

/// Forward, backward and optimizer steps of a tiny CNN against PyTorch (`scripts/make_net_golden.py`,
/// `Golden/tiny_cnn.json`), through the fused and the plain execution paths.
///
/// PyTorch computes the same float32 sums in its own order (its own conv and BLAS kernels), so each comparison is
/// bounded by ``RoundingBounds`` (the running error analysis of both float32 evaluations from the actual operands),
/// not by a fixed number: a wrong formula (a missing batch-norm term, a transposed weight) is off by the size of
/// the value itself, orders of magnitude above these bounds.
@Suite struct GoldenTests {
    static func expectClose(
        _ actual: Tensor, _ expected: Golden.Array, _ what: String, bound: [Double],
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(actual.shape == expected.shape, "\(what) shape", sourceLocation: sourceLocation)
        TestSupport.expectClose(actual.scalars, expected.data, bound: bound, floor: ErrorBound.underflow(operations: 1000),
                                "\(what): Net vs PyTorch", sourceLocation: sourceLocation)
    }

    /// The rounding bounds of one training step of the golden model (plain layers, golden state).
    static func bounds(_ golden: Golden.File) throws -> RoundingBounds {
        let plain = try model(golden, fusing: false)
        return RoundingBounds(stages: plain.stages, input: golden.input.data, batch: golden.input.shape[0],
                              objective: .crossEntropy(labels: golden.labels))
    }

    static func model(_ golden: Golden.File, fusing: Bool) throws -> Sequential {
        let model = try Sequential(spec: Golden.spec, seed: 0, fusing: fusing)
        try model.load(stateDictionary: golden.state.mapValues { $0.tensor })
        return model
    }

    /// Forward + backward on the golden input; returns the model with gradients in place.
    static func trained(_ golden: Golden.File, fusing: Bool) throws -> (Sequential, Tensor, Double, Tensor) {
        let model = try model(golden, fusing: fusing)
        let logits = model.forward(golden.input.tensor, training: true)
        let (loss, gradient) = SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: golden.labels)
        model.zeroGradients()
        model.backward(gradient)
        return (model, logits, loss, gradient)
    }

    @Test(arguments: [true, false])
    func forwardBackwardAndRunningStatistics(fusing: Bool) throws {
        let golden = try Golden.load()
        let bounds = try Self.bounds(golden)
        let (model, logits, loss, gradient) = try Self.trained(golden, fusing: fusing)
        Self.expectClose(logits, golden.logits, "logits", bound: bounds.logits)
        #expect(abs(loss - golden.loss) <= bounds.loss, "loss \(loss) vs \(golden.loss), bound \(bounds.loss)")
        Self.expectClose(gradient, golden.grad_logits, "dLoss/dLogits", bound: bounds.logitGradient)
        for parameter in model.parameters {
            let expected = try #require(golden.grads[parameter.name], "\(parameter.name) missing from the golden file")
            Self.expectClose(parameter.gradient, expected, "grad \(parameter.name)", bound: bounds.gradients[parameter.name]!)
        }
        let state = model.stateDictionary(), before = golden.state
        for (name, expected) in golden.running_after {
            // running = 0.9·before + 0.1·batch statistic: the statistic's bound plus two roundings of 0.9·before.
            let bound = zip(bounds.state[name]!, before[name]!.data).map { $0 + 2 * ErrorBound.gamma(2) * 0.9 * Double(abs($1)) }
            Self.expectClose(state[name]!, expected, name, bound: bound)
        }
    }

    @Test(arguments: ["adam", "adamw", "sgd"])
    func oneOptimizerStep(kind: String) throws {
        let golden = try Golden.load()
        let (model, _, _, _) = try Self.trained(golden, fusing: true)
        // Step from PyTorch's gradients, so that the comparison checks the update formulas alone: the conv bias
        // gradient is rounding noise (~1e-8, batch norm cancels it exactly), and Adam normalises noise to ±lr.
        for parameter in model.parameters {
            golden.grads[parameter.name]!.data.withUnsafeBufferPointer { parameter.gradients.update(from: $0.baseAddress!, count: parameter.count) }
        }
        let step: Golden.Step
        let optimizer: any Optimizer
        switch kind {
        case "adam":
            step = golden.adam
            optimizer = Adam(parameters: model.parameters, learningRate: step.lr)
        case "adamw":
            step = golden.adamw
            optimizer = Adam.adamW(parameters: model.parameters, learningRate: step.lr, weightDecay: step.weight_decay!)
        default:
            step = golden.sgd
            optimizer = SGD(parameters: model.parameters, learningRate: step.lr, momentum: step.momentum!, weightDecay: step.weight_decay!)
        }
        let before = model.parameters.map { ($0.value.scalars, $0.gradient.scalars) }
        optimizer.step()
        // One step is a handful of float32 operations per element on each side (Adam: m, v, their bias corrections,
        // the square root, the division, the update; under 12 roundings), each relative to the magnitudes of
        // |p| and of the update: Adam's first step is lr·g/(|g| + ε), at most lr; SGD's lr·(|g| + wd·|p|).
        let decay = step.weight_decay ?? 0
        for (parameter, (p, g)) in zip(model.parameters, before) {
            let bound = zip(p, g).map { p, g in
                let update = kind == "sgd" ? Double(abs(g)) + decay * Double(abs(p)) : 1 + decay * Double(abs(p))
                return 2 * ErrorBound.gamma(12) * (Double(abs(p)) + step.lr * update)
            }
            Self.expectClose(parameter.value, step.params[parameter.name]!, "\(kind) \(parameter.name)", bound: bound)
        }
        if kind == "adam" {
            // Evaluation with the running statistics; the parameters and statistics carry the bounds above, well
            // inside the relative error γ(depth) that RoundingBounds already gives every operand.
            let evaluation = RoundingBounds(stages: model.stages, input: golden.input.data, batch: golden.input.shape[0],
                                            training: false, objective: .none)
            Self.expectClose(model.forward(golden.input.tensor, training: false), golden.eval_logits_after_adam,
                             "evaluation logits after Adam", bound: evaluation.logits)
        }
    }

    @Test func softTargetLoss() throws {
        let golden = try Golden.load()
        let (loss, gradient) = SoftmaxCrossEntropy.lossAndGradient(logits: golden.logits.tensor, targets: golden.soft.targets.tensor)
        // From the same logits: loss = (1/N) Σ_n Σ_k t_k·(logsumexp(z_n) - z_nk), gradient = (softmax(z) - t) / N.
        // PyTorch rounds in float32: exp, the row sum, the log, the products and the sums (at most 2·classes + 6
        // roundings), each relative to the magnitudes |logsumexp| + |z| (loss) and p + t (gradient).
        let z = golden.logits.data, t = golden.soft.targets.data
        let (batch, classes) = (golden.logits.shape[0], golden.logits.shape[1])
        let rounding = 2 * ErrorBound.gamma(2 * classes + 6)
        var lossMagnitude = 0.0, gradientBound = [Double]()
        for n in 0..<batch {
            let row = z[(n * classes)..<((n + 1) * classes)].map(Double.init)
            let top = row.max()!, total = row.reduce(0) { $0 + exp($1 - top) }
            for k in 0..<classes {
                let p = exp(row[k] - top) / total, target = Double(t[n * classes + k])
                lossMagnitude += target * (abs(top) + log(total) + abs(row[k])) / Double(batch)
                gradientBound.append(rounding * (p + target) / Double(batch))
            }
        }
        #expect(abs(loss - golden.soft.loss) <= rounding * lossMagnitude, "loss \(loss) vs \(golden.soft.loss)")
        Self.expectClose(gradient, golden.soft.grad, "soft-target gradient", bound: gradientBound)
    }
}
