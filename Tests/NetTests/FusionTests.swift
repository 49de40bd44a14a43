import GenreCore
import Testing
@testable import Net

/// The fused conv -> BN -> ReLU -> pool stage must give the same numbers as the four layers run one by one, up to
/// float32 rounding: the two paths sum the same terms in different orders (and through different BLAS calls), so
/// each comparison is bounded by ``RoundingBounds`` from the actual operands, never by a fixed number.
@Suite struct FusionTests {
    /// Compares every parameter gradient of `fused` and `plain` within `bounds`.
    static func expectGradientsClose(_ fused: Sequential, _ plain: Sequential, _ bounds: RoundingBounds, _ what: String) {
        for (p, q) in zip(fused.parameters, plain.parameters) {
            #expect(p.name == q.name)
            expectClose(p.gradient.scalars, q.gradient.scalars, bound: bounds.gradients[q.name]!,
                        floor: ErrorBound.underflow(operations: 1000), "\(what) \(p.name)")
        }
    }

    static let spec = ModelSpec(
        inputShape: [2, 12, 10],
        layers: [
            .conv2d(outChannels: 4, kernel: 3, padding: 1, stride: 1), .batchNorm2d, .relu, .maxPool2d(kernel: 2, stride: 2),
            .conv2d(outChannels: 6, kernel: 3, padding: 1, stride: 1), .batchNorm2d, .relu, .maxPool2d(kernel: 2, stride: 2),
            .globalAveragePool, .dropout(0.2), .linear(outFeatures: 3),
        ],
        classes: 3)

    @Test(arguments: [1, 2])
    func fusedAndPlainPathsAgree(threads: Int) throws {
        let fused = try Sequential(spec: Self.spec, seed: 5, fusing: true)
        let plain = try Sequential(spec: Self.spec, seed: 5, fusing: false)
        #expect(fused.stages.count == 5 && plain.stages.count == 11)
        var g = SplitMix64(seed: 6)
        let x = Tensor(shape: [3, 2, 12, 10], normalStandardDeviation: 1, generator: &g)
        Self.expectFusedMatchesPlain(fused, plain, input: x, labels: [0, 2, 1], threads: threads)
    }

    /// Two rounds of training forward, backward and evaluation forward through `fused` and `plain` (the same spec
    /// and seed): logits, gradients and running statistics agree within their rounding bounds.
    static func expectFusedMatchesPlain(_ fused: Sequential, _ plain: Sequential, input x: Tensor, labels: [Int], threads: Int) {
        fused.parallelism = .batch(threads: threads)
        plain.parallelism = .batch(threads: threads)
        let batch = x.shape[0]
        var stateBounds = [String: [Double]]()
        for round in 0..<2 {
            let bounds = RoundingBounds(stages: plain.stages, input: x.scalars, batch: batch, objective: .crossEntropy(labels: labels))
            let a = fused.forward(x, training: true), b = plain.forward(x, training: true)
            expectClose(a.scalars, b.scalars, bound: bounds.logits, "round \(round) training logits")
            fused.zeroGradients()
            plain.zeroGradients()
            fused.backward(SoftmaxCrossEntropy.lossAndGradient(logits: a, labels: labels).gradient)
            plain.backward(SoftmaxCrossEntropy.lossAndGradient(logits: b, labels: labels).gradient)
            expectGradientsClose(fused, plain, bounds, "round \(round)")
            // running = 0.9·running + 0.1·batch statistic: the earlier rounds' differences shrink by 0.9 each.
            for (name, bound) in bounds.state {
                stateBounds[name] = zip(stateBounds[name] ?? bound.map { _ in 0 }, bound).map { 0.9 * $0 + $1 }
            }
            let evaluation = RoundingBounds(stages: plain.stages, input: x.scalars, batch: batch, training: false, objective: .none)
            let e1 = fused.forward(x, training: false), e2 = plain.forward(x, training: false)
            expectClose(e1.scalars, e2.scalars, bound: evaluation.logits, "round \(round) evaluation logits")
        }
        let s1 = fused.stateDictionary(), s2 = plain.stateDictionary()
        #expect(Set(s1.keys) == Set(s2.keys))
        for (name, value) in s1 {
            // Parameters are untouched (no optimizer step): equal. Running statistics: within their bounds.
            expectClose(value.scalars, s2[name]!.scalars, bound: stateBounds[name] ?? value.scalars.map { _ in 0 }, "\(name)")
        }
    }

    @Test func fusedBlockInputGradientMatchesThePlainLayers() {
        // Block input gradients (the first stage never computes one, so compare the stage directly).
        func layers() -> (Conv2D, BatchNorm2D) {
            var g = SplitMix64(seed: 31)
            let conv = Conv2D(name: "0.conv", inputShape: [3, 8, 9], outChannels: 5, kernel: 3, padding: 1, stride: 1, generator: &g)
            let bn = BatchNorm2D(name: "1.bn", inputShape: conv.outputShape)
            for c in 0..<5 { bn.gamma.values[c] = c == 2 ? -0.7 : 0.5 + 0.2 * Float(c) }
            return (conv, bn)
        }
        let (conv, bn) = layers()
        let block = ConvBatchNormReLUPool(conv: conv, norm: bn)
        let (conv2, bn2) = layers()
        let relu = ReLU(inputShape: conv2.outputShape), pool = MaxPool2D(inputShape: conv2.outputShape, kernel: 2, stride: 2)
        let x = Harness.normals(2 * 3 * 72, seed: 32)
        let dy = Harness.normals(2 * 5 * 16, seed: 33)
        let dxFused = Harness.backward(block, x, gradOutput: dy, batch: 2)
        // Plain chain, step by step.
        let y1 = Harness.forward(conv2, x, batch: 2), y2 = Harness.forward(bn2, y1, batch: 2)
        let y3 = Harness.forward(relu, y2, batch: 2)
        let g3 = Harness.backward(pool, y3, gradOutput: dy, batch: 2)
        let g2 = Harness.backward(relu, y2, gradOutput: g3, batch: 2)
        let g1 = Harness.backward(bn2, y1, gradOutput: g2, batch: 2)
        let dxPlain = Harness.backward(conv2, x, gradOutput: g1, batch: 2)
        let bounds = RoundingBounds(stages: [conv2, bn2, relu, pool], input: x, batch: 2, objective: .linear(gradOutput: dy))
        expectClose(dxFused, dxPlain, bound: bounds.inputGradient, floor: ErrorBound.underflow(operations: 1000), "dX")
        expectClose(Harness.forward(block, x, batch: 2), Harness.forward(pool, y3, batch: 2), bound: bounds.logits, "output")
    }

    @Test func tiesRouteTheGradientToTheFirstMaximumLikeThePlainLayers() {
        // A 1x1 identity convolution on small integers: many exact ties inside the 2x2 windows, so the pooling
        // gradient must go to the first maximum in row-major order (PyTorch's rule), as the plain MaxPool2D does.
        func layers() -> (Conv2D, BatchNorm2D) {
            var g = SplitMix64(seed: 41)
            let conv = Conv2D(name: "0.conv", inputShape: [2, 6, 8], outChannels: 2, kernel: 1, padding: 0, stride: 1, generator: &g)
            conv.weight.values.update(from: [1, 0, 0, 1], count: 4)
            conv.bias.values.update(from: [0, 0], count: 2)
            let bn = BatchNorm2D(name: "1.bn", inputShape: conv.outputShape)
            bn.gamma.values.update(from: [1.5, 0.5], count: 2)
            return (conv, bn)
        }
        var g = SplitMix64(seed: 42)
        let x = (0..<(3 * 2 * 48)).map { _ in Float(Int(g.next() % 4)) - 1 }
        let dy = Harness.normals(3 * 2 * 12, seed: 43)
        let (conv, bn) = layers()
        let dxFused = Harness.backward(ConvBatchNormReLUPool(conv: conv, norm: bn), x, gradOutput: dy, batch: 3)
        let (conv2, bn2) = layers()
        let relu = ReLU(inputShape: conv2.outputShape), pool = MaxPool2D(inputShape: conv2.outputShape, kernel: 2, stride: 2)
        let y1 = Harness.forward(conv2, x, batch: 3), y2 = Harness.forward(bn2, y1, batch: 3)
        let y3 = Harness.forward(relu, y2, batch: 3)
        let g3 = Harness.backward(pool, y3, gradOutput: dy, batch: 3)
        let g2 = Harness.backward(relu, y2, gradOutput: g3, batch: 3)
        let g1 = Harness.backward(bn2, y1, gradOutput: g2, batch: 3)
        let dxPlain = Harness.backward(conv2, x, gradOutput: g1, batch: 3)
        let bounds = RoundingBounds(stages: [conv2, bn2, relu, pool], input: x, batch: 3, objective: .linear(gradOutput: dy))
        expectClose(dxFused, dxPlain, bound: bounds.inputGradient, floor: ErrorBound.underflow(operations: 1000), "dX")
        for (p, q) in zip(conv.parameters + bn.parameters, conv2.parameters + bn2.parameters) {
            expectClose(p.gradient.scalars, q.gradient.scalars, bound: bounds.gradients[q.name]!,
                        floor: ErrorBound.underflow(operations: 1000), "\(p.name)")
        }
    }

    @Test func oddSizedConvOutputsDropTheLastRowAndColumnLikeFloorMode() throws {
        var spec = Self.spec
        spec.inputShape = [2, 11, 9]
        let fused = try Sequential(spec: spec, seed: 8, fusing: true)
        let plain = try Sequential(spec: spec, seed: 8, fusing: false)
        var g = SplitMix64(seed: 9)
        let x = Tensor(shape: [2, 2, 11, 9], normalStandardDeviation: 1, generator: &g)
        let bounds = RoundingBounds(stages: plain.stages, input: x.scalars, batch: 2, objective: .crossEntropy(labels: [1, 2]))
        let a = fused.forward(x, training: true), b = plain.forward(x, training: true)
        expectClose(a.scalars, b.scalars, bound: bounds.logits, "logits")
        fused.backward(SoftmaxCrossEntropy.lossAndGradient(logits: a, labels: [1, 2]).gradient)
        plain.backward(SoftmaxCrossEntropy.lossAndGradient(logits: b, labels: [1, 2]).gradient)
        Self.expectGradientsClose(fused, plain, bounds, "odd-sized")
    }
}
