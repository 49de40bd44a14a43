import GenreCore

/// A residual block that keeps the image size (``LayerSpec/residualBlock(outChannels:kernel:)``):
/// `[Cin, H, W]` -> `[Cout, H, W]`,
///
///     y = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))
///
/// `conv1` (`Cin -> Cout`) and `conv2` (`Cout -> Cout`) are `k`x`k` convolutions with bias, padding `k / 2`,
/// stride 1 (`k` odd); `shortcut` is the identity when `Cin == Cout`, otherwise a 1x1 convolution with bias
/// (`Cin -> Cout`) followed by batch norm. The sub-layers are the ordinary ``Conv2D`` and ``BatchNorm2D`` (their
/// BLAS im2col products, their training and evaluation modes and running statistics); this class only chains
/// them, adds the shortcut, and applies the two ReLUs.
///
/// Parameter and state names, for spec index `i` — the attribute names of the equivalent PyTorch module
/// (`conv1`, `bn1`, `conv2`, `bn2`, `shortcut_conv`, `shortcut_bn`), so a PyTorch state dict of the same
/// structure maps 1:1 by replacing the module prefix `"<i>."` with `"<i>.residual."`:
/// `"i.residual.conv1.weight"` `[Cout, Cin, k, k]`, `"i.residual.conv1.bias"`, `"i.residual.bn1.weight"`,
/// `".bn1.bias"`, `".bn1.running_mean"`, `".bn1.running_var"`, the same for `conv2` (`[Cout, Cout, k, k]`) and
/// `bn2`, and with a projection `"i.residual.shortcut_conv.weight"` `[Cout, Cin, 1, 1]`, `".shortcut_conv.bias"`,
/// `".shortcut_bn.*"`. Parameters are listed in that order (PyTorch's `named_parameters` order).
///
/// Initialisation: every convolution He-normal (`sqrt(2 / fan_in)`, the 1x1 shortcut's fan-in being `Cin`) with
/// zero bias, drawn in the order conv1, conv2, shortcut_conv from the layer's generator; batch norms gamma 1,
/// beta 0.
///
/// A training forward keeps `conv1(x)`, `relu(bn1(·))`, `conv2(·)` and the shortcut's conv output for the
/// backward pass (four `[N, Cout, H, W]` buffers at most), reused from batch to batch.
final class ResidualBlock: Layer {
    let inputShape: [Int]
    let outputShape: [Int]
    let conv1: Conv2D
    let norm1: BatchNorm2D
    let conv2: Conv2D
    let norm2: BatchNorm2D
    /// The projection shortcut (nil: identity).
    let shortcut: (conv: Conv2D, norm: BatchNorm2D)?
    /// Applies `max(0, ·)` in place and masks the gradient of `relu(bn1(·))`.
    private let relu: ReLU
    private let inCount: Int, outCount: Int
    /// `conv1(x)`, `relu(bn1(conv1(x)))`, `conv2(·)`, `shortcut_conv(x)`, each `[N, Cout, H, W]`.
    private let conv1Output = Buffer<Float>(), hidden = Buffer<Float>(), conv2Output = Buffer<Float>()
    private let shortcutConvOutput = Buffer<Float>()
    /// Backward scratch: the gradient at the sum (before the last ReLU) and two working gradients `[N, Cout, H, W]`
    /// (the first one also holds the shortcut's batch-norm output during the forward), the shortcut's input
    /// gradient `[N, Cin, H, W]`.
    private let sumGradient = Buffer<Float>(), work = Buffer<Float>(), hiddenGradient = Buffer<Float>()
    private let shortcutInputGradient = Buffer<Float>()
    private var trainedForward = false

    init(name: String, inputShape: [Int], outChannels: Int, kernel: Int, generator: inout SplitMix64) {
        self.inputShape = inputShape
        let (inChannels, height, width) = (inputShape[0], inputShape[1], inputShape[2])
        outputShape = [outChannels, height, width]
        conv1 = Conv2D(
            name: "\(name).conv1", inputShape: inputShape, outChannels: outChannels, kernel: kernel, padding: kernel / 2,
            stride: 1, generator: &generator)
        norm1 = BatchNorm2D(name: "\(name).bn1", inputShape: outputShape)
        conv2 = Conv2D(
            name: "\(name).conv2", inputShape: outputShape, outChannels: outChannels, kernel: kernel, padding: kernel / 2,
            stride: 1, generator: &generator)
        norm2 = BatchNorm2D(name: "\(name).bn2", inputShape: outputShape)
        if inChannels == outChannels {
            shortcut = nil
        } else {
            let conv = Conv2D(
                name: "\(name).shortcut_conv", inputShape: inputShape, outChannels: outChannels, kernel: 1, padding: 0,
                stride: 1, generator: &generator)
            shortcut = (conv, BatchNorm2D(name: "\(name).shortcut_bn", inputShape: outputShape))
        }
        relu = ReLU(inputShape: outputShape)
        inCount = inputShape.reduce(1, *)
        outCount = outputShape.reduce(1, *)
    }

    var parameters: [Parameter] {
        conv1.parameters + norm1.parameters + conv2.parameters + norm2.parameters
            + (shortcut.map { $0.conv.parameters + $0.norm.parameters } ?? [])
    }

    var persistentState: [StateArray] {
        norm1.persistentState + norm2.persistentState + (shortcut?.norm.persistentState ?? [])
    }

    func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int, training: Bool, workers: Workers) {
        let count = batch * outCount
        let a1 = conv1Output.reserve(count), z1 = hidden.reserve(count), a2 = conv2Output.reserve(count)
        conv1.forward(input: input, output: a1, batch: batch, training: training, workers: workers)
        norm1.forward(input: a1, output: z1, batch: batch, training: training, workers: workers)
        relu.forward(input: z1, output: z1, batch: batch, training: training, workers: workers)
        conv2.forward(input: z1, output: a2, batch: batch, training: training, workers: workers)
        norm2.forward(input: a2, output: output, batch: batch, training: training, workers: workers)
        let shortcutOutput: UnsafePointer<Float>
        if case let (conv, norm)? = shortcut {
            let aS = shortcutConvOutput.reserve(count), s = work.reserve(count)
            conv.forward(input: input, output: aS, batch: batch, training: training, workers: workers)
            norm.forward(input: aS, output: s, batch: batch, training: training, workers: workers)
            shortcutOutput = UnsafePointer(s)
        } else {
            shortcutOutput = input
        }
        let size = outCount
        workers.run(batch: batch) { _, samples in
            let start = samples.lowerBound * size
            Self.addAndRectify(shortcutOutput + start, output + start, count: samples.count * size)
        }
        trainedForward = training
    }

    func backward(
        input: UnsafePointer<Float>, output: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
        gradInput: UnsafeMutablePointer<Float>?, batch: Int, workers: Workers
    ) {
        precondition(trainedForward, "ResidualBlock.backward needs a preceding training-mode forward")
        let count = batch * outCount
        let g = sumGradient.reserve(count), gA = work.reserve(count), gZ = hiddenGradient.reserve(count)
        let a1 = conv1Output.pointer, z1 = hidden.pointer, a2 = conv2Output.pointer
        // Through the last ReLU: the same masking as ReLU's backward (positive output passes the gradient).
        relu.backward(input: output, output: output, gradOutput: gradOutput, gradInput: g, batch: batch, workers: workers)
        // Main branch: bn2, conv2, relu, bn1, conv1 (the `output` arguments are not read by these layers).
        norm2.backward(input: a2, output: output, gradOutput: g, gradInput: gA, batch: batch, workers: workers)
        conv2.backward(input: z1, output: output, gradOutput: gA, gradInput: gZ, batch: batch, workers: workers)
        relu.backward(input: z1, output: z1, gradOutput: gZ, gradInput: gZ, batch: batch, workers: workers)
        norm1.backward(input: a1, output: z1, gradOutput: gZ, gradInput: gA, batch: batch, workers: workers)
        conv1.backward(input: input, output: a1, gradOutput: gA, gradInput: gradInput, batch: batch, workers: workers)
        // Shortcut: its input gradient is added to the main branch's.
        let size = inCount
        if case let (conv, norm)? = shortcut {
            let aS = shortcutConvOutput.pointer
            norm.backward(input: aS, output: output, gradOutput: g, gradInput: gZ, batch: batch, workers: workers)
            guard let gradInput else {
                conv.backward(input: input, output: aS, gradOutput: gZ, gradInput: nil, batch: batch, workers: workers)
                return
            }
            let gX = shortcutInputGradient.reserve(batch * inCount)
            conv.backward(input: input, output: aS, gradOutput: gZ, gradInput: gX, batch: batch, workers: workers)
            workers.run(batch: batch) { _, samples in
                let start = samples.lowerBound * size
                Vector.add(gX + start, into: gradInput + start, count: samples.count * size)
            }
        } else if let gradInput {
            workers.run(batch: batch) { _, samples in
                let start = samples.lowerBound * size
                Vector.add(g + start, into: gradInput + start, count: samples.count * size)
            }
        }
    }

    /// `y[i] = max(0, y[i] + s[i])`.
    @inline(__always)
    static func addAndRectify(_ s: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        let src = UnsafeRawPointer(s), dst = UnsafeMutableRawPointer(y)
        let zero = SIMD8<Float>(repeating: 0)
        var i = 0
        while i + 8 <= count {
            let v = src.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                + dst.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            // A select, not pointwiseMax (which is not inlined here); NaN -> 0 as in ReLU.
            dst.storeBytes(of: zero.replacing(with: v, where: v .> zero), toByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        while i < count {
            let v = y[i] + s[i]
            y[i] = v > 0 ? v : 0
            i += 1
        }
    }
}
