import GenreCore
import Testing
@testable import Net

/// The fused conv -> ReLU -> batch norm -> max-pool stage (the musicnn block, any pooling window) against the four
/// layers run one by one: the same numbers up to float32 summation order, bounded by ``RoundingBounds``; in
/// evaluation the pooling-first shortcut gives exactly the plain layers' numbers.
@Suite struct MusicnnFusionTests {
    /// Two musicnn-style blocks with odd sizes and a third with a tall rectangular window:
    /// [1, 13, 22] -> conv 3 -> pool 1x4 / 2x2 -> [3, 7, 10] -> conv 4 -> pool 2x2 -> [4, 3, 5] -> conv 3 ->
    /// pool 3x2 / 1x2 -> [3, 1, 2] -> flatten -> linear 3.
    static let spec = ModelSpec(
        inputShape: [1, 13, 22],
        layers: [
            .batchNorm2dEpsilon(0.001),
            .conv2d(outChannels: 3, kernel: 3, padding: 1, stride: 1), .relu, .batchNorm2dEpsilon(0.001),
            .maxPool2dRect(kernelHeight: 1, kernelWidth: 4, strideHeight: 2, strideWidth: 2), .dropout(0.25),
            .conv2d(outChannels: 4, kernel: 3, padding: 1, stride: 1), .relu, .batchNorm2dEpsilon(0.001), .maxPool2d(kernel: 2, stride: 2),
            .conv2d(outChannels: 3, kernel: 3, padding: 1, stride: 1), .relu, .batchNorm2d,
            .maxPool2dRect(kernelHeight: 3, kernelWidth: 2, strideHeight: 1, strideWidth: 2),
            .flatten, .dropout(0.5), .linear(outFeatures: 3),
        ],
        classes: 3)

    /// Gives one batch-norm channel of each block a negative gamma (evaluation then pools by minimum).
    static func makeSomeGammasNegative(_ model: Sequential) {
        for p in model.parameters where p.name.hasSuffix("bn.weight") && p.count > 1 { p.values[1] = -0.8 }
    }

    @Test(arguments: [1, 2])
    func fusedAndPlainPathsAgree(threads: Int) throws {
        let fused = try Sequential(spec: Self.spec, seed: 71, fusing: true)
        let plain = try Sequential(spec: Self.spec, seed: 71, fusing: false)
        #expect(fused.stages.count == 8 && plain.stages.count == 17)
        #expect(fused.stages[1] is ConvReLUBatchNormPool && fused.stages[3] is ConvReLUBatchNormPool && fused.stages[4] is ConvReLUBatchNormPool)
        Self.makeSomeGammasNegative(fused)
        Self.makeSomeGammasNegative(plain)
        var g = SplitMix64(seed: 72)
        let x = Tensor(shape: [3, 1, 13, 22], normalStandardDeviation: 1, generator: &g)
        FusionTests.expectFusedMatchesPlain(fused, plain, input: x, labels: [2, 0, 1], threads: threads)
    }

    /// Evaluation pools the raw conv output first (maximum, or minimum for a negative scale) and normalises only
    /// the pooled values: monotone float32 operations commute with the maximum, so the result is bit-identical.
    @Test func evaluationIsExactlyThePlainLayers() throws {
        for (cin, pool) in [(1, (1, 4, 2, 2)), (2, (2, 2, 2, 2)), (1, (3, 2, 1, 2)), (3, (4, 4, 4, 4))] {
            func layers() -> (Conv2D, ReLU, BatchNorm2D, MaxPool2D) {
                var g = SplitMix64(seed: 73)
                let conv = Conv2D(name: "1.conv", inputShape: [cin, 9, 14], outChannels: 4, kernel: 3, padding: 1, stride: 1, generator: &g)
                for c in 0..<4 { conv.bias.values[c] = 0.1 * Float(c) - 0.15 }
                let bn = BatchNorm2D(name: "3.bn", inputShape: conv.outputShape, epsilon: 0.001)
                for c in 0..<4 {
                    bn.gamma.values[c] = [1.3, -0.7, 0, 0.4][c]
                    bn.beta.values[c] = [0.2, -0.1, 0.3, 0][c]
                    bn.runningMean.values[c] = 0.05 * Float(c)
                    bn.runningVariance.values[c] = 0.5 + 0.25 * Float(c)
                }
                let maxPool = MaxPool2D(inputShape: conv.outputShape, kernelHeight: pool.0, kernelWidth: pool.1, strideHeight: pool.2, strideWidth: pool.3)
                return (conv, ReLU(inputShape: conv.outputShape), bn, maxPool)
            }
            let (conv, _, bn, maxPool) = layers()
            let block = ConvReLUBatchNormPool(conv: conv, norm: bn, pool: maxPool)
            let x = Harness.normals(3 * cin * 126, seed: 74)
            let fused = Harness.forward(block, x, batch: 3, training: false)
            let (conv2, relu2, bn2, pool2) = layers()
            var y = Harness.forward(conv2, x, batch: 3, training: false)
            y = Harness.forward(relu2, y, batch: 3, training: false)
            y = Harness.forward(bn2, y, batch: 3, training: false)
            y = Harness.forward(pool2, y, batch: 3, training: false)
            #expect(fused == y, "Cin \(cin), pool \(pool)")
        }
    }

    struct BlockCase: CustomTestStringConvertible, Sendable {
        let inChannels: Int, pool: [Int]
        var testDescription: String { "Cin \(inChannels) pool \(pool[0])x\(pool[1]) / \(pool[2])x\(pool[3])" }
    }

    @Test(arguments: [
        BlockCase(inChannels: 1, pool: [1, 4, 2, 2]), BlockCase(inChannels: 2, pool: [2, 2, 2, 2]),
        BlockCase(inChannels: 1, pool: [3, 2, 1, 2]), BlockCase(inChannels: 2, pool: [4, 4, 4, 4]),
    ])
    func fusedBlockGradient(_ c: BlockCase) {
        var g = SplitMix64(seed: 75)
        let conv = Conv2D(name: "1.conv", inputShape: [c.inChannels, 8, 9], outChannels: 3, kernel: 3, padding: 1, stride: 1, generator: &g)
        for i in 0..<3 { conv.bias.values[i] = 0.2 * Float(i) - 0.1 }
        let bn = BatchNorm2D(name: "3.bn", inputShape: conv.outputShape, epsilon: 0.001)
        for i in 0..<3 {
            bn.gamma.values[i] = [0.8, -0.6, 1.2][i]
            bn.beta.values[i] = 0.1 * Float(i)
        }
        let pool = MaxPool2D(inputShape: conv.outputShape, kernelHeight: c.pool[0], kernelWidth: c.pool[1], strideHeight: c.pool[2], strideWidth: c.pool[3])
        let block = ConvReLUBatchNormPool(conv: conv, norm: bn, pool: pool)
        let x = Harness.normals(2 * c.inChannels * 72, seed: 76)
        let errors = Harness.gradientErrors(block, parameters: conv.parameters + bn.parameters, input: x, batch: 2, epsilon: 1e-3)
        #expect(errors.input <= GradientCheckTests.tolerance, "dX \(errors.input)")
        for (name, error) in errors.parameters { #expect(error <= GradientCheckTests.tolerance, "\(name) error / bound \(error)") }
    }

    @Test func tiesRouteTheGradientLikeThePlainLayers() {
        // A 1x1 identity convolution on small integers: many exact ties in the overlapping 1x4 windows and many
        // zeros from the ReLU; the winners (and so the gradients) must be the plain layers' (first maximum of the
        // batch-norm output in row-major window order).
        func layers() -> (Conv2D, BatchNorm2D, MaxPool2D) {
            var g = SplitMix64(seed: 77)
            let conv = Conv2D(name: "0.conv", inputShape: [2, 5, 12], outChannels: 2, kernel: 1, padding: 0, stride: 1, generator: &g)
            conv.weight.values.update(from: [1, 0, 0, 1], count: 4)
            conv.bias.values.update(from: [0, 0], count: 2)
            let bn = BatchNorm2D(name: "2.bn", inputShape: conv.outputShape, epsilon: 0.001)
            bn.gamma.values.update(from: [1.5, -0.5], count: 2)
            let pool = MaxPool2D(inputShape: conv.outputShape, kernelHeight: 1, kernelWidth: 4, strideHeight: 2, strideWidth: 2)
            return (conv, bn, pool)
        }
        var g = SplitMix64(seed: 78)
        let x = (0..<(3 * 2 * 60)).map { _ in Float(Int(g.next() % 4)) - 1 }
        let dy = Harness.normals(3 * 2 * 3 * 5, seed: 79)
        let (conv, bn, pool) = layers()
        let dxFused = Harness.backward(ConvReLUBatchNormPool(conv: conv, norm: bn, pool: pool), x, gradOutput: dy, batch: 3)
        let (conv2, bn2, pool2) = layers()
        let relu = ReLU(inputShape: conv2.outputShape)
        let y1 = Harness.forward(conv2, x, batch: 3), y2 = Harness.forward(relu, y1, batch: 3)
        let y3 = Harness.forward(bn2, y2, batch: 3)
        let g3 = Harness.backward(pool2, y3, gradOutput: dy, batch: 3)
        let g2 = Harness.backward(bn2, y2, gradOutput: g3, batch: 3)
        let g1 = Harness.backward(relu, y1, gradOutput: g2, batch: 3)
        let dxPlain = Harness.backward(conv2, x, gradOutput: g1, batch: 3)
        let bounds = RoundingBounds(stages: [conv2, relu, bn2, pool2], input: x, batch: 3, objective: .linear(gradOutput: dy))
        expectClose(dxFused, dxPlain, bound: bounds.inputGradient, floor: ErrorBound.underflow(operations: 1000), "dX")
        for (p, q) in zip(conv.parameters + bn.parameters, conv2.parameters + bn2.parameters) {
            expectClose(p.gradient.scalars, q.gradient.scalars, bound: bounds.gradients[q.name]!,
                        floor: ErrorBound.underflow(operations: 1000), "\(p.name)")
        }
    }
}
