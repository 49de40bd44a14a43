import GenreCore
import Testing
@testable import Net

/// Fine-tuning controls: a frozen layer prefix (``Sequential/frozenLayerCount``), batch norm with fixed statistics
/// (``Sequential/batchNormInEvaluationMode``), and per-parameter learning-rate scales
/// (``Parameter/learningRateScale``).
@Suite struct FreezingTests {
    static let spec = FusionTests.spec  // block (0-3), block (4-7), gap 8, dropout 9, linear 10
    static let labels = [0, 2, 1]

    static func input(seed: UInt64 = 61) -> Tensor {
        var g = SplitMix64(seed: seed)
        return Tensor(shape: [3, 2, 12, 10], normalStandardDeviation: 1, generator: &g)
    }

    /// Moves every batch norm's running statistics away from 0 / 1 (one training forward, then restores nothing
    /// else: no backward, no step), so that evaluation-mode normalisation is not the identity.
    static func warmRunningStatistics(_ model: Sequential) {
        _ = model.forward(input(seed: 62), training: true)
    }

    @Test func frozenPrefixGetsNoGradientAndDoesNotMove() throws {
        let model = try Sequential(spec: Self.spec, seed: 7)
        Self.warmRunningStatistics(model)
        model.frozenLayerCount = 4
        #expect(model.stages.count == 5 && model.frozenStageCount == 1)
        #expect(model.trainableParameters.map(\.name) == ["4.conv.weight", "4.conv.bias", "5.bn.weight", "5.bn.bias", "10.linear.weight", "10.linear.bias"])
        #expect(model.parameters.count == 10)
        let before = model.stateDictionary()
        let optimizer = Adam.adamW(parameters: model.trainableParameters, learningRate: 0.01, weightDecay: 0.1)
        for _ in 0..<3 {
            let logits = model.forward(Self.input(), training: true)
            model.zeroGradients()
            model.backward(SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: Self.labels).gradient)
            for p in model.parameters where p.name.hasPrefix("0.") || p.name.hasPrefix("1.") {
                #expect(p.gradient.scalars.allSatisfy { $0 == 0 }, "\(p.name) has a gradient")
            }
            #expect(model.parameters.first { $0.name == "4.conv.weight" }!.gradient.scalars.contains { $0 != 0 })
            optimizer.step()
        }
        let after = model.stateDictionary()
        for name in ["0.conv.weight", "0.conv.bias", "1.bn.weight", "1.bn.bias", "1.bn.running_mean", "1.bn.running_var"] {
            #expect(after[name] == before[name], "\(name) changed")
        }
        for name in ["4.conv.weight", "5.bn.weight", "5.bn.running_mean", "5.bn.running_var", "10.linear.weight"] {
            #expect(after[name] != before[name], "\(name) did not train")
        }
    }

    /// The unfrozen layers' gradients equal those of the same model without freezing whose frozen layers run in
    /// evaluation mode (here: no dropout in the prefix, its batch norms with fixed statistics), for boundaries
    /// between fused blocks and inside them.
    @Test(arguments: [1, 2, 4, 6, 8])
    func unfrozenGradientsMatchAModelWithTheFrozenLayersInEvaluationMode(frozen: Int) throws {
        let model = try Sequential(spec: Self.spec, seed: 8)
        let reference = try Sequential(spec: Self.spec, seed: 8, fusing: false)
        // Both warmed (so that their dropout streams stay in step), then the same state.
        Self.warmRunningStatistics(model)
        Self.warmRunningStatistics(reference)
        let warmed = model.stateDictionary()
        try reference.load(stateDictionary: warmed)
        model.frozenLayerCount = frozen
        for layer in reference.layers.prefix(frozen) { (layer as? BatchNorm2D)?.fixedStatistics = true }
        // No fused stage spans the boundary.
        #expect(model.stageLayers.allSatisfy { $0.upperBound <= frozen || $0.lowerBound >= frozen })
        let x = Self.input()
        let bounds = RoundingBounds(stages: reference.stages, input: x.scalars, batch: 3, objective: .crossEntropy(labels: Self.labels))
        let a = model.forward(x, training: true), b = reference.forward(x, training: true)
        expectClose(a.scalars, b.scalars, bound: bounds.logits, "frozen \(frozen) logits")
        model.zeroGradients()
        reference.zeroGradients()
        model.backward(SoftmaxCrossEntropy.lossAndGradient(logits: a, labels: Self.labels).gradient)
        reference.backward(SoftmaxCrossEntropy.lossAndGradient(logits: b, labels: Self.labels).gradient)
        let trainable = Set(model.trainableParameters.map(\.name))
        for (p, q) in zip(model.parameters, reference.parameters) {
            if trainable.contains(p.name) {
                expectClose(p.gradient.scalars, q.gradient.scalars, bound: bounds.gradients[q.name]!,
                            floor: ErrorBound.underflow(operations: 1000), "frozen \(frozen) \(p.name)")
            } else {
                #expect(p.gradient.scalars.allSatisfy { $0 == 0 }, "frozen \(frozen): \(p.name) has a gradient")
            }
        }
        // The frozen layers' running statistics did not move; the unfrozen ones' did.
        let state = model.stateDictionary()
        for name in state.keys where name.hasSuffix("running_mean") || name.hasSuffix("running_var") {
            let index = Int(name.split(separator: ".")[0])!
            #expect((state[name] == warmed[name]) == (index < frozen), "frozen \(frozen): \(name)")
        }
    }

    @Test func aFrozenDropoutIsTheIdentityAndAFrozenBodyTrainsLikeEvaluation() throws {
        let model = try Sequential(spec: Self.spec, seed: 9)
        Self.warmRunningStatistics(model)
        let x = Self.input()
        let evaluation = model.forward(x, training: false)
        model.frozenLayerCount = 10  // everything but the linear layer, dropout included
        let before = model.stateDictionary()
        #expect(model.forward(x, training: true) == evaluation)
        #expect(model.stateDictionary() == before)
        model.frozenLayerCount = 11  // all: backward visits nothing
        let logits = model.forward(x, training: true)
        model.zeroGradients()
        model.backward(SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: Self.labels).gradient)
        #expect(model.parameters.allSatisfy { $0.gradient.scalars.allSatisfy { $0 == 0 } } && model.trainableParameters.isEmpty)
        model.frozenLayerCount = 0
        #expect(model.stages.count == 5 && model.trainableParameters.count == model.parameters.count)
    }

    // MARK: Batch norm in evaluation mode

    @Test func batchNormWithFixedStatisticsGradient() {
        let bn = BatchNorm2D(name: "1.bn", inputShape: [3, 5, 6], epsilon: 0.001)
        bn.fixedStatistics = true
        for c in 0..<3 {
            bn.gamma.values[c] = 0.5 + Float(c) * 0.4
            bn.beta.values[c] = Float(c) * 0.2 - 0.1
            bn.runningMean.values[c] = Float(c) * 0.3 - 0.2
            bn.runningVariance.values[c] = 0.5 + Float(c)
        }
        let x = Harness.normals(2 * 3 * 30, seed: 63)
        let errors = Harness.gradientErrors(bn, parameters: bn.parameters, input: x, batch: 2)
        #expect(errors.input <= GradientCheckTests.tolerance, "dX error / bound \(errors.input)")
        for (name, error) in errors.parameters { #expect(error <= GradientCheckTests.tolerance, "\(name) error / bound \(error)") }
        // The input gradient is that of the affine map: dx = gamma / sqrt(running_var + eps) · dy.
        let dy = Harness.normals(2 * 3 * 30, seed: 64)
        let dx = Harness.backward(bn, x, gradOutput: dy, batch: 2)
        for i in 0..<dx.count {
            let c = (i / 30) % 3
            let expected = Double(bn.gamma.values[c]) / (Double(bn.runningVariance.values[c]) + 0.001).squareRoot() * Double(dy[i])
            #expect(abs(Double(dx[i]) - expected) <= 4 * ErrorBound.unitRoundoff * abs(expected) + 1e-30)
        }
        #expect(bn.runningMean.tensor.scalars == (0..<3).map { Float($0) * 0.3 - 0.2 }, "fixed statistics are not updated")
        #expect(bn.runningVariance.tensor.scalars == (0..<3).map { 0.5 + Float($0) })
    }

    @Test func fusedBlockWithFixedStatisticsGradient() {
        var g = SplitMix64(seed: 65)
        let conv = Conv2D(name: "0.conv", inputShape: [3, 6, 6], outChannels: 4, kernel: 3, padding: 1, stride: 1, generator: &g)
        let bn = BatchNorm2D(name: "1.bn", inputShape: conv.outputShape)
        bn.fixedStatistics = true
        for c in 0..<4 {
            bn.gamma.values[c] = 0.6 + 0.3 * Float(c)
            bn.beta.values[c] = 0.4 - 0.2 * Float(c)
            bn.runningMean.values[c] = 0.1 * Float(c)
            bn.runningVariance.values[c] = 2 + Float(c)
        }
        let block = ConvBatchNormReLUPool(conv: conv, norm: bn)
        let x = Harness.normals(2 * 3 * 36, seed: 66)
        let errors = Harness.gradientErrors(block, parameters: conv.parameters + bn.parameters, input: x, batch: 2, epsilon: 1e-3)
        #expect(errors.input <= GradientCheckTests.tolerance, "dX \(errors.input)")
        for (name, error) in errors.parameters { #expect(error <= GradientCheckTests.tolerance, "\(name) error / bound \(error)") }
    }

    @Test(arguments: [false, true])
    func batchNormInEvaluationModeKeepsStatisticsAndMatchesThePlainPath(residual: Bool) throws {
        let spec = residual ? ModelVariantTests.smallResidualSpec : Self.spec
        let shape = [3] + spec.inputShape
        var g = SplitMix64(seed: 67)
        let x = Tensor(shape: shape, normalStandardDeviation: 1, generator: &g)
        let fused = try Sequential(spec: spec, seed: 10)
        let plain = try Sequential(spec: spec, seed: 10, fusing: false)
        let warmUp = Tensor(shape: shape, normalStandardDeviation: 1, generator: &g)
        _ = fused.forward(warmUp, training: true)
        _ = plain.forward(warmUp, training: true)  // keeps the dropout streams in step
        try plain.load(stateDictionary: fused.stateDictionary())
        fused.batchNormInEvaluationMode = true
        plain.batchNormInEvaluationMode = true
        let before = fused.stateDictionary()
        let bounds = RoundingBounds(stages: plain.stages, input: x.scalars, batch: 3, objective: .crossEntropy(labels: Self.labels))
        let a = fused.forward(x, training: true), b = plain.forward(x, training: true)
        expectClose(a.scalars, b.scalars, bound: bounds.logits, "logits")
        #expect(fused.stateDictionary() == before, "running statistics must not change")
        fused.zeroGradients()
        plain.zeroGradients()
        fused.backward(SoftmaxCrossEntropy.lossAndGradient(logits: a, labels: Self.labels).gradient)
        plain.backward(SoftmaxCrossEntropy.lossAndGradient(logits: b, labels: Self.labels).gradient)
        FusionTests.expectGradientsClose(fused, plain, bounds, "evaluation-mode batch norm")
        #expect(fused.parameters.first { $0.name.hasSuffix("bn.weight") || $0.name.hasSuffix("bn1.weight") }!.gradient.scalars.contains { $0 != 0 })
        // Switching back restores batch statistics.
        fused.batchNormInEvaluationMode = false
        _ = fused.forward(x, training: true)
        #expect(fused.stateDictionary() != before)
    }

    // MARK: Learning-rate scales

    static let gradients: [Float] = [0.3, -1, 2, 0.01, -0.7, 1.5]

    static func twinParameters(scale: Float) -> Parameter {
        let p = Parameter(name: "p", shape: [6])
        p.values.update(from: [1, -0.5, 0.25, 2, -3, 0.75], count: 6)
        p.gradients.update(from: Self.gradients, count: 6)
        p.learningRateScale = scale
        return p
    }

    @Test func sgdLearningRateScaleMovesAParameterByThatFraction() {
        let full = Self.twinParameters(scale: 1), tenth = Self.twinParameters(scale: 0.1)
        let start = full.value.scalars
        SGD(parameters: [full], learningRate: 0.5).step()
        SGD(parameters: [tenth], learningRate: 0.5).step()
        for i in 0..<6 {
            let stepFull = Double(full.values[i]) - Double(start[i]), stepTenth = Double(tenth.values[i]) - Double(start[i])
            // Each step is p - lr·g rounded twice (the product and the difference): u·(|p| + |lr·g|) each.
            let bound = 2 * ErrorBound.gamma(2) * (abs(Double(start[i])) + abs(stepFull))
            #expect(abs(stepTenth - 0.1 * stepFull) <= bound, "element \(i): \(stepTenth) vs \(0.1 * stepFull)")
            #expect(abs(stepFull + 0.5 * Double(Self.gradients[i])) <= bound)
        }
    }

    @Test func adamScalesItsStepAndDecoupledDecayAndScaleZeroFreezes() {
        let full = Self.twinParameters(scale: 1), tenth = Self.twinParameters(scale: 0.1), none = Self.twinParameters(scale: 0)
        let start = full.value.scalars
        for p in [full, tenth, none] { Adam.adamW(parameters: [p], learningRate: 0.01, weightDecay: 0.5).step() }
        for i in 0..<6 {
            // First AdamW step: p·(1 - lr·λ) - lr·sign(g) (|m̂ / sqrt(v̂)| = 1 up to eps).
            for (p, scale) in [(full, 1.0), (tenth, 0.1)] {
                let lr = 0.01 * scale, g = Double(p.gradients[i])
                let expected = Double(start[i]) * (1 - lr * 0.5) - lr * g / (abs(g) + 1e-8)
                #expect(abs(Double(p.values[i]) - expected) <= 1e-6 * (abs(Double(start[i])) + 1), "scale \(scale) element \(i)")
            }
        }
        #expect(none.value.scalars == start, "scale 0 must leave the parameter unchanged, weight decay included")
        let sgdNone = Self.twinParameters(scale: 0)
        let sgd = SGD(parameters: [sgdNone], learningRate: 0.1, momentum: 0.9, weightDecay: 0.1)
        sgd.step()
        sgd.step()
        #expect(sgdNone.value.scalars == start)
    }
}
