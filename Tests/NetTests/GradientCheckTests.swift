import GenreCore
import Testing
@testable import Net

/// Every layer's backward pass against central finite differences of `L = Σ r ⊙ layer(x)` (Float forward passes,
/// Double accumulation of L). Each element is compared within its own bound (see ``Harness/gradientErrors``:
/// float32 rounding of the analytic gradient and of the loss, the step, truncation), so the checker reports the
/// worst ratio of difference to bound: at most 1 for a correct backward on every CPU. A wrong backward (a
/// transposed weight, a dropped term, a missing batch-norm correction) is off by the size of the gradient itself.
@Suite struct GradientCheckTests {
    /// The largest allowed ratio of |analytic - numeric| to the element's derived bound.
    static let tolerance = 1.0

    struct ConvCase: CustomTestStringConvertible, Sendable {
        let inChannels: Int, outChannels: Int, size: Int, kernel: Int, padding: Int, stride: Int, workers: Int
        var testDescription: String { "Cin \(inChannels) Cout \(outChannels) \(size)x\(size) k\(kernel) p\(padding) s\(stride) w\(workers)" }
    }

    @Test(arguments: [
        ConvCase(inChannels: 3, outChannels: 4, size: 6, kernel: 3, padding: 1, stride: 1, workers: 2),
        ConvCase(inChannels: 3, outChannels: 4, size: 6, kernel: 3, padding: 1, stride: 1, workers: 1),
        ConvCase(inChannels: 2, outChannels: 3, size: 7, kernel: 3, padding: 0, stride: 2, workers: 2),
        ConvCase(inChannels: 3, outChannels: 2, size: 6, kernel: 1, padding: 0, stride: 1, workers: 2),
        ConvCase(inChannels: 2, outChannels: 3, size: 5, kernel: 5, padding: 2, stride: 1, workers: 2),
        ConvCase(inChannels: 1, outChannels: 3, size: 6, kernel: 3, padding: 2, stride: 3, workers: 2),
        ConvCase(inChannels: 2, outChannels: 2, size: 4, kernel: 2, padding: 0, stride: 1, workers: 2),
    ])
    func conv2D(_ c: ConvCase) {
        var g = SplitMix64(seed: 11)
        let conv = Conv2D(
            name: "0.conv", inputShape: [c.inChannels, c.size, c.size], outChannels: c.outChannels, kernel: c.kernel,
            padding: c.padding, stride: c.stride, generator: &g)
        for i in 0..<conv.bias.count { conv.bias.values[i] = Float(i) * 0.1 - 0.05 }
        let batch = 3  // with 2 workers, one of them accumulates over 2 samples
        let x = Harness.normals(batch * c.inChannels * c.size * c.size, seed: 3)
        let errors = Harness.gradientErrors(conv, parameters: conv.parameters, input: x, batch: batch, workers: c.workers)
        #expect(errors.input <= Self.tolerance, "dX error / bound \(errors.input)")
        for (name, error) in errors.parameters { #expect(error <= Self.tolerance, "\(name) error / bound \(error)") }
    }

    @Test func convForwardMatchesDirectSum() {
        // y[o, i, j] = b[o] + Σ w[o, c, ky, kx] · x[c, i·s - p + ky, j·s - p + kx] (zero outside).
        var g = SplitMix64(seed: 5)
        let (cin, cout, h, w, k, p, s) = (2, 3, 7, 6, 3, 1, 2)
        let conv = Conv2D(name: "c", inputShape: [cin, h, w], outChannels: cout, kernel: k, padding: p, stride: s, generator: &g)
        for i in 0..<cout { conv.bias.values[i] = Float(i) }
        let x = Harness.normals(2 * cin * h * w, seed: 9)
        let y = Harness.forward(conv, x, batch: 2)
        let (oh, ow) = (conv.outHeight, conv.outWidth)
        #expect(oh == 4 && ow == 3)
        var worst = 0.0  // the largest ratio of |difference| to the element's bound
        for n in 0..<2 {
            for o in 0..<cout {
                for i in 0..<oh {
                    for j in 0..<ow {
                        var sum = Double(conv.bias.values[o]), magnitude = abs(sum)
                        for c in 0..<cin {
                            for ky in 0..<k {
                                for kx in 0..<k {
                                    let iy = i * s - p + ky, ix = j * s - p + kx
                                    guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                                    let term = Double(conv.weight.values[((o * cin + c) * k + ky) * k + kx]) * Double(x[((n * cin + c) * h + iy) * w + ix])
                                    sum += term
                                    magnitude += abs(term)
                                }
                            }
                        }
                        // The Double sum is exact to ~1e-16; the layer's float32 sum of cin·k² + 1 terms is off by
                        // at most γ(cin·k² + 1)·Σ|terms|.
                        let bound = ErrorBound.sum(count: cin * k * k + 1, absoluteSum: magnitude)
                        worst = max(worst, abs(sum - Double(y[((n * cout + o) * oh + i) * ow + j])) / bound)
                    }
                }
            }
        }
        #expect(worst <= 1, "worst |difference| / bound \(worst)")
    }

    @Test func batchNormTraining() {
        let bn = BatchNorm2D(name: "1.bn", inputShape: [3, 6, 6])
        for c in 0..<3 {
            bn.gamma.values[c] = 0.5 + Float(c) * 0.4
            bn.beta.values[c] = Float(c) * 0.2 - 0.1
        }
        let batch = 2
        // Per-channel offsets and scales so that the mean and variance terms matter.
        var x = Harness.normals(batch * 3 * 36, seed: 4)
        for n in 0..<batch { for c in 0..<3 { for i in 0..<36 { x[(n * 3 + c) * 36 + i] = x[(n * 3 + c) * 36 + i] * Float(c + 1) + Float(c) - 1 } } }
        let errors = Harness.gradientErrors(bn, parameters: bn.parameters, input: x, batch: batch)
        #expect(errors.input <= Self.tolerance, "dX error / bound \(errors.input)")
        for (name, error) in errors.parameters { #expect(error <= Self.tolerance, "\(name) error / bound \(error)") }
    }

    @Test func relu() {
        // Inputs at least 0.05 away from the kink; epsilon 1e-3.
        var x = Harness.normals(2 * 3 * 36, seed: 8)
        x = x.map { $0 >= 0 ? $0 + 0.05 : $0 - 0.05 }
        let errors = Harness.gradientErrors(ReLU(inputShape: [3, 6, 6]), parameters: [], input: x, batch: 2, epsilon: 1e-3)
        #expect(errors.input <= Self.tolerance)
    }

    @Test(arguments: [(2, 2), (3, 2), (2, 1), (3, 3)])
    func maxPool(kernel: Int, stride: Int) {
        let pool = MaxPool2D(inputShape: [3, 7, 6], kernel: kernel, stride: stride)
        let x = Harness.distinct(2 * 3 * 42, seed: 12)
        let errors = Harness.gradientErrors(pool, parameters: [], input: x, batch: 2, epsilon: 1e-3)
        #expect(errors.input <= Self.tolerance, "k\(kernel) s\(stride): \(errors.input)")
    }

    @Test func maxPoolTiesGoToTheFirstMaximumInRowMajorOrder() {
        // PyTorch's rule: the first maximum (strictly greater replaces) gets the gradient.
        let pool = MaxPool2D(inputShape: [1, 2, 2], kernel: 2, stride: 2)
        for (x, expected) in [([Float](arrayLiteral: 5, 5, 5, 5), 0), ([1, 3, 3, 0], 1), ([1, 0, 3, 3], 2), ([-1, -2, -3, -1], 0)] {
            let dx = Harness.backward(pool, x, gradOutput: [1], batch: 1)
            #expect(dx == (0..<4).map { $0 == expected ? 1 : 0 }, "\(x)")
        }
    }

    @Test func globalAveragePool() {
        let x = Harness.normals(2 * 3 * 30, seed: 13)
        let errors = Harness.gradientErrors(GlobalAveragePool(inputShape: [3, 5, 6]), parameters: [], input: x, batch: 2)
        #expect(errors.input <= Self.tolerance)
        let y = Harness.forward(GlobalAveragePool(inputShape: [3, 5, 6]), x, batch: 2)
        let expected = Float(x[30..<60].reduce(0.0) { $0 + Double($1) } / 30)
        // A float32 mean of 30 terms against a Double one: γ(31)·Σ|x|/30.
        #expect(abs(Double(y[1]) - Double(expected)) <= ErrorBound.sum(count: 31, absoluteSum: x[30..<60].reduce(0.0) { $0 + abs(Double($1)) } / 30) + ErrorBound.unitRoundoff * abs(Double(expected)))
    }

    @Test func linear() {
        var g = SplitMix64(seed: 14)
        let layer = Linear(name: "5.linear", inFeatures: 7, outFeatures: 4, generator: &g)
        for i in 0..<4 { layer.bias.values[i] = Float(i) * 0.3 }
        let x = Harness.normals(3 * 7, seed: 15)
        let errors = Harness.gradientErrors(layer, parameters: layer.parameters, input: x, batch: 3)
        #expect(errors.input <= Self.tolerance, "dX \(errors.input)")
        for (name, error) in errors.parameters { #expect(error <= Self.tolerance, "\(name) error / bound \(error)") }
        // y = W x + b, W stored [out, in].
        let y = Harness.forward(layer, x, batch: 3)
        var expected: Float = layer.bias.values[2], magnitude = abs(Double(expected))
        for f in 0..<7 {
            expected += layer.weight.values[2 * 7 + f] * x[7 + f]
            magnitude += abs(Double(layer.weight.values[2 * 7 + f]) * Double(x[7 + f]))
        }
        // Both sides: float32 sums of 8 terms in their own order.
        #expect(abs(Double(y[4 + 2]) - Double(expected)) <= 2 * ErrorBound.sum(count: 8, absoluteSum: magnitude))
    }

    @Test func flatten() {
        let x = Harness.normals(2 * 24, seed: 16)
        let errors = Harness.gradientErrors(Flatten(inputShape: [2, 3, 4]), parameters: [], input: x, batch: 2)
        #expect(errors.input <= Self.tolerance)
    }

    @Test func dropoutScalesKeptElementsAndPassesGradientThroughTheMask() {
        let dropout = Dropout(inputShape: [1000], probability: 0.3, generator: SplitMix64(seed: 17))
        let x = Harness.normals(2000, seed: 18, offset: 3)
        let dy = Harness.normals(2000, seed: 19)
        // backward runs its own training forward; reproduce that mask by a forward with a same-seeded twin.
        let twin = Dropout(inputShape: [1000], probability: 0.3, generator: SplitMix64(seed: 17))
        let y = Harness.forward(twin, x, batch: 2)
        let dx = Harness.backward(dropout, x, gradOutput: dy, batch: 2)
        var dropped = 0
        for i in 0..<2000 {
            if y[i] == 0 {
                dropped += 1
                #expect(dx[i] == 0)
            } else {
                // Scaling by 1/(1 - p): the scale's rounding and the product's, against one division (3 roundings).
                #expect(abs(Double(y[i]) - Double(x[i] / 0.7)) <= ErrorBound.gamma(3) * abs(Double(x[i])) / 0.7)
                #expect(abs(Double(dx[i]) - Double(dy[i] / 0.7)) <= ErrorBound.gamma(3) * abs(Double(dy[i])) / 0.7)
            }
        }
        #expect(dropped > 520 && dropped < 680, "dropped \(dropped) of 2000 at p = 0.3")
        // Evaluation is the identity; a second training forward draws a new mask.
        #expect(Harness.forward(dropout, x, batch: 2, training: false) == x)
        #expect(Harness.forward(twin, x, batch: 2) != y)
    }

    @Test func fusedConvBlock() {
        // The fused conv -> BN -> ReLU -> pool stage, inputs and epsilon small enough that no ReLU or pooling
        // decision flips (checked: the fused and unfused paths agree separately, see FusionTests).
        var g = SplitMix64(seed: 21)
        let conv = Conv2D(name: "0.conv", inputShape: [3, 6, 6], outChannels: 4, kernel: 3, padding: 1, stride: 1, generator: &g)
        let bn = BatchNorm2D(name: "1.bn", inputShape: conv.outputShape)
        for c in 0..<4 {
            bn.gamma.values[c] = 0.6 + 0.3 * Float(c)
            bn.beta.values[c] = 0.4 - 0.2 * Float(c)
        }
        let block = ConvBatchNormReLUPool(conv: conv, norm: bn)
        let x = Harness.normals(2 * 3 * 36, seed: 22)
        let errors = Harness.gradientErrors(block, parameters: conv.parameters + bn.parameters, input: x, batch: 2, epsilon: 1e-3)
        #expect(errors.input <= Self.tolerance, "dX \(errors.input)")
        // The conv bias gradient is 0 in exact arithmetic (batch norm removes the mean): both sides are rounding
        // noise, which the bounds cover.
        for (name, error) in errors.parameters { #expect(error <= Self.tolerance, "\(name) error / bound \(error)") }
    }

    @Test func theCheckerCatchesAWrongBackward() {
        // A ReLU whose backward drops the mask: the checker must report a large error.
        final class LeakyBackwardReLU: Stage, ModelledByPlainLayers {
            var plainLayers: [any Stage] { [inner] }
            let inner = ReLU(inputShape: [3, 6, 6])
            var inputShape: [Int] { inner.inputShape }
            var outputShape: [Int] { inner.outputShape }
            func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int, training: Bool, workers: Workers) {
                inner.forward(input: input, output: output, batch: batch, training: training, workers: workers)
            }
            func backward(
                input: UnsafePointer<Float>, output: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
                gradInput: UnsafeMutablePointer<Float>?, batch: Int, workers: Workers
            ) {
                gradInput?.update(from: gradOutput, count: batch * 108)
            }
        }
        let x = Harness.normals(2 * 108, seed: 23).map { $0 >= 0 ? $0 + 0.05 : $0 - 0.05 }
        let errors = Harness.gradientErrors(LeakyBackwardReLU(), parameters: [], input: x, batch: 2, epsilon: 1e-3)
        #expect(errors.input > 100, "a wrong backward must exceed its bound by far: \(errors.input)")
    }
}
