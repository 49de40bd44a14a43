import Testing
@testable import Net

/// Forward, backward and optimizer steps of a tiny CNN against PyTorch (`scripts/make_net_golden.py`,
/// `Golden/tiny_cnn.json`), through the fused and the plain execution paths.
@Suite struct GoldenTests {
    static let tolerance: Float = 1e-4

    static func expectClose(_ actual: Tensor, _ expected: Golden.Array, _ what: String, tolerance: Float = tolerance) {
        #expect(actual.shape == expected.shape, "\(what) shape")
        let worst = Harness.maxAbsDifference(actual.scalars, expected.data)
        #expect(worst <= tolerance, "\(what): max |Net - PyTorch| = \(worst)")
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
        let (model, logits, loss, gradient) = try Self.trained(golden, fusing: fusing)
        Self.expectClose(logits, golden.logits, "logits")
        #expect(abs(loss - golden.loss) < 1e-5, "loss \(loss) vs \(golden.loss)")
        Self.expectClose(gradient, golden.grad_logits, "dLoss/dLogits")
        for parameter in model.parameters {
            let expected = try #require(golden.grads[parameter.name], "\(parameter.name) missing from the golden file")
            Self.expectClose(parameter.gradient, expected, "grad \(parameter.name)")
        }
        let state = model.stateDictionary()
        for (name, expected) in golden.running_after { Self.expectClose(state[name]!, expected, name) }
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
        optimizer.step()
        for parameter in model.parameters {
            Self.expectClose(parameter.value, step.params[parameter.name]!, "\(kind) \(parameter.name)", tolerance: 1e-5)
        }
        if kind == "adam" {
            Self.expectClose(model.forward(golden.input.tensor, training: false), golden.eval_logits_after_adam, "evaluation logits after Adam")
        }
    }

    @Test func softTargetLoss() throws {
        let golden = try Golden.load()
        let (loss, gradient) = SoftmaxCrossEntropy.lossAndGradient(logits: golden.logits.tensor, targets: golden.soft.targets.tensor)
        #expect(abs(loss - golden.soft.loss) < 1e-5)
        Self.expectClose(gradient, golden.soft.grad, "soft-target gradient", tolerance: 1e-6)
    }
}
