import Net

/// Translates a ``ModelSpec`` and its state dictionary into ONNX nodes that compute what GenreKit computes in
/// evaluation mode (running batch-norm statistics, no dropout), layer by layer:
///
/// | LayerSpec | ONNX |
/// | --- | --- |
/// | conv2d | Conv (pads on every side, strides, bias); a batch norm right after it is folded in |
/// | batchNorm2d, batchNorm2dEpsilon | folded into the preceding conv, else Mul + Add per channel `[C, 1, 1]` |
/// | relu | Relu |
/// | maxPool2d, maxPool2dRect | MaxPool, no padding, floor mode (`ceil_mode` 0), as Net's `MaxPool2D` |
/// | globalAveragePool, globalMaxPool | GlobalAveragePool / GlobalMaxPool, then Flatten to `[N, C]` |
/// | globalAverageMaxPool | Concat(GlobalAveragePool, GlobalMaxPool) on channels (means first), then Flatten |
/// | dropout | nothing (identity in evaluation) |
/// | linear | Gemm(x, W, b, transB = 1) |
/// | flatten | Flatten(axis 1) of NCHW: channel slowest, as GenreKit |
/// | residualBlock | Conv(+bn1) Relu Conv(+bn2), Add the shortcut (identity, or 1x1 Conv(+bn)), Relu |
/// | linearSigmoidAppended | Concat(x, Sigmoid(Gemm(x, W, b, transB = 1))) |
///
/// Records which batch norms were folded into a convolution and which became an affine map.
struct NetworkLowering {
    let spec: ModelSpec
    let state: [String: Tensor]
    /// The checkpoint, for error messages.
    let path: String
    private(set) var graph = GraphBuilder()
    /// `"<bn> into <conv>"` per folded batch norm (parameter-name prefixes, e.g. `"1.bn into 0.conv"`).
    private(set) var folded: [String] = []
    /// Prefixes of the batch norms exported as a per-channel affine map (`Mul`, `Add`).
    private(set) var affine: [String] = []

    /// PyTorch's `BatchNorm2d` default, which ``LayerSpec/batchNorm2d`` uses.
    static let defaultEpsilon = 1e-5

    init(spec: ModelSpec, state: [String: Tensor], path: String) {
        self.spec = spec
        self.state = state
        self.path = path
    }

    /// Lowers every layer on `input` and returns the name of the logits tensor `[N, classes]`.
    mutating func lower(input: String) throws(OnnxExportError) -> String {
        var x = input
        var index = 0
        let layers = spec.layers
        while index < layers.count {
            let layer = layers[index]
            if case .conv2d = layer, index + 1 < layers.count, let epsilon = Self.batchNormEpsilon(layers[index + 1]) {
                let bn = try statistics("\(index + 1).bn", epsilon: epsilon, layer: index + 1)
                x = try convolution(x, layer: index, prefix: "\(index).conv", batchNorm: (bn, "\(index + 1).bn"))
                index += 2
                continue
            }
            x = try lower(layer, index: index, input: x)
            index += 1
        }
        return x
    }

    /// The epsilon of a batch-norm layer spec, nil for any other layer.
    static func batchNormEpsilon(_ layer: LayerSpec) -> Double? {
        switch layer {
        case .batchNorm2d: defaultEpsilon
        case .batchNorm2dEpsilon(let epsilon): epsilon
        default: nil
        }
    }

    private mutating func lower(_ layer: LayerSpec, index i: Int, input x: String) throws(OnnxExportError) -> String {
        typealias G = GraphBuilder
        switch layer {
        case .conv2d:
            return try convolution(x, layer: i, prefix: "\(i).conv", batchNorm: nil)
        case .batchNorm2d, .batchNorm2dEpsilon:
            let bn = try statistics("\(i).bn", epsilon: Self.batchNormEpsilon(layer)!, layer: i)
            return affineBatchNorm(x, bn, prefix: "\(i).bn")
        case .relu:
            return graph.apply("Relu", name: "\(i).relu", x)
        case .maxPool2d(let kernel, let stride):
            return maxPool(x, name: "\(i).maxpool", kernel: [kernel, kernel], strides: [stride, stride])
        case .maxPool2dRect(let kh, let kw, let sh, let sw):
            return maxPool(x, name: "\(i).maxpool", kernel: [kh, kw], strides: [sh, sw])
        case .globalAveragePool:
            let pooled = graph.apply("GlobalAveragePool", name: "\(i).gap", x)
            return graph.apply("Flatten", name: "\(i).gap.flatten", pooled, attributes: [G.attribute("axis", int: 1)])
        case .globalMaxPool:
            let pooled = graph.apply("GlobalMaxPool", name: "\(i).gmp", x)
            return graph.apply("Flatten", name: "\(i).gmp.flatten", pooled, attributes: [G.attribute("axis", int: 1)])
        case .globalAverageMaxPool:
            // GenreKit's order: the C means, then the C maxima.
            let mean = graph.apply("GlobalAveragePool", name: "\(i).gamp.mean", x)
            let maximum = graph.apply("GlobalMaxPool", name: "\(i).gamp.max", x)
            let both = graph.apply("Concat", name: "\(i).gamp", mean, maximum, attributes: [G.attribute("axis", int: 1)])
            return graph.apply("Flatten", name: "\(i).gamp.flatten", both, attributes: [G.attribute("axis", int: 1)])
        case .dropout:
            return x
        case .linear:
            return try gemm(x, layer: i, prefix: "\(i).linear")
        case .flatten:
            return graph.apply("Flatten", name: "\(i).flatten", x, attributes: [G.attribute("axis", int: 1)])
        case .residualBlock:
            return try residualBlock(x, layer: i)
        case .linearSigmoidAppended:
            let z = try gemm(x, layer: i, prefix: "\(i).linear")
            let s = graph.apply("Sigmoid", name: "\(i).linear.sigmoid", z)
            return graph.apply("Concat", name: "\(i).linear.appended", x, s, attributes: [G.attribute("axis", int: 1)])
        }
    }

    /// `relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))`, every batch norm folded into its convolution.
    private mutating func residualBlock(_ x: String, layer i: Int) throws(OnnxExportError) -> String {
        let p = "\(i).residual"
        let eps = Self.defaultEpsilon
        let bn1 = try statistics("\(p).bn1", epsilon: eps, layer: i)
        let bn2 = try statistics("\(p).bn2", epsilon: eps, layer: i)
        let a1 = try convolution(x, layer: i, prefix: "\(p).conv1", batchNorm: (bn1, "\(p).bn1"))
        let z1 = graph.apply("Relu", name: "\(p).relu1", a1)
        let a2 = try convolution(z1, layer: i, prefix: "\(p).conv2", batchNorm: (bn2, "\(p).bn2"))
        var shortcut = x
        if state["\(p).shortcut_conv.weight"] != nil {
            let bnS = try statistics("\(p).shortcut_bn", epsilon: eps, layer: i)
            shortcut = try convolution(x, layer: i, prefix: "\(p).shortcut_conv", batchNorm: (bnS, "\(p).shortcut_bn"))
        }
        let sum = graph.apply("Add", name: "\(p).add", a2, shortcut)
        return graph.apply("Relu", name: "\(p).relu2", sum)
    }

    // MARK: - Layers with weights

    /// A square convolution read from `<prefix>.weight` `[Cout, Cin, k, k]` and `<prefix>.bias`, its padding and
    /// stride from the layer spec (a residual block's: padding `k / 2`, stride 1), optionally with a batch norm
    /// folded in.
    private mutating func convolution(
        _ x: String, layer i: Int, prefix: String, batchNorm: (BatchNormFolding.Statistics, String)?
    ) throws(OnnxExportError) -> String {
        let weight = try tensor("\(prefix).weight", layer: i)
        guard weight.shape.count == 4, weight.shape[2] == weight.shape[3] else {
            throw fail(i, "\(prefix).weight has shape \(weight.shape), expected [out, in, k, k]")
        }
        let outChannels = weight.shape[0], kernel = weight.shape[2]
        let bias = try tensor("\(prefix).bias", layer: i, shape: [outChannels])
        let (padding, stride): (Int, Int)
        switch spec.layers[i] {
        case .conv2d(_, _, let p, let s): (padding, stride) = (p, s)
        case .residualBlock: (padding, stride) = (prefix.hasSuffix("shortcut_conv") ? 0 : kernel / 2, 1)
        default: throw fail(i, "no convolution in this layer")
        }
        var (w, b) = (weight.scalars, bias.scalars)
        var suffix = ""
        if let (bn, bnPrefix) = batchNorm {
            guard bn.channels == outChannels else {
                throw fail(i, "\(bnPrefix) has \(bn.channels) channels, the convolution \(outChannels)")
            }
            (w, b) = BatchNormFolding.fold(weight: w, bias: b, into: bn)
            folded.append("\(bnPrefix) into \(prefix)")
            suffix = "+" + bnPrefix
        }
        let wName = graph.constant("\(prefix).weight\(suffix)", shape: weight.shape, values: w)
        let bName = graph.constant("\(prefix).bias\(suffix)", shape: [outChannels], values: b)
        return graph.node(
            "Conv", name: prefix + suffix, inputs: [x, wName, bName],
            attributes: [
                GraphBuilder.attribute("kernel_shape", ints: [kernel, kernel]),
                GraphBuilder.attribute("pads", ints: [padding, padding, padding, padding]),
                GraphBuilder.attribute("strides", ints: [stride, stride]),
                GraphBuilder.attribute("dilations", ints: [1, 1]),
                GraphBuilder.attribute("group", int: 1),
            ])[0]
    }

    /// `x · Wᵀ + b` from `<prefix>.weight` `[out, in]` and `<prefix>.bias` `[out]`.
    private mutating func gemm(_ x: String, layer i: Int, prefix: String) throws(OnnxExportError) -> String {
        let weight = try tensor("\(prefix).weight", layer: i)
        guard weight.shape.count == 2 else { throw fail(i, "\(prefix).weight has shape \(weight.shape), expected [out, in]") }
        let bias = try tensor("\(prefix).bias", layer: i, shape: [weight.shape[0]])
        let w = graph.constant("\(prefix).weight", shape: weight.shape, values: weight.scalars)
        let b = graph.constant("\(prefix).bias", shape: bias.shape, values: bias.scalars)
        return graph.node("Gemm", name: prefix, inputs: [x, w, b], attributes: [GraphBuilder.attribute("transB", int: 1)])[0]
    }

    /// `scale · x + shift` per channel (`[C, 1, 1]` constants broadcast over NCHW).
    private mutating func affineBatchNorm(_ x: String, _ bn: BatchNormFolding.Statistics, prefix: String) -> String {
        let (scale, shift) = BatchNormFolding.affine(bn)
        let s = graph.constant("\(prefix).scale", shape: [bn.channels, 1, 1], values: scale)
        let t = graph.constant("\(prefix).shift", shape: [bn.channels, 1, 1], values: shift)
        let scaled = graph.apply("Mul", name: "\(prefix).mul", x, s)
        affine.append(prefix)
        return graph.apply("Add", name: "\(prefix).add", scaled, t)
    }

    private mutating func maxPool(_ x: String, name: String, kernel: [Int], strides: [Int]) -> String {
        graph.apply(
            "MaxPool", name: name, x,
            attributes: [
                GraphBuilder.attribute("kernel_shape", ints: kernel), GraphBuilder.attribute("strides", ints: strides),
                GraphBuilder.attribute("pads", ints: [0, 0, 0, 0]), GraphBuilder.attribute("ceil_mode", int: 0),
            ])
    }

    // MARK: - State

    private func statistics(_ prefix: String, epsilon: Double, layer i: Int) throws(OnnxExportError) -> BatchNormFolding.Statistics {
        let gamma = try tensor("\(prefix).weight", layer: i)
        let shape = [gamma.count]
        return BatchNormFolding.Statistics(
            gamma: gamma.scalars, beta: try tensor("\(prefix).bias", layer: i, shape: shape).scalars,
            mean: try tensor("\(prefix).running_mean", layer: i, shape: shape).scalars,
            variance: try tensor("\(prefix).running_var", layer: i, shape: shape).scalars, epsilon: epsilon)
    }

    private func tensor(_ name: String, layer i: Int, shape: [Int]? = nil) throws(OnnxExportError) -> Tensor {
        guard let t = state[name] else { throw fail(i, "the checkpoint has no \(name)") }
        if let shape, t.shape != shape { throw fail(i, "\(name) has shape \(t.shape), expected \(shape)") }
        return t
    }

    private func fail(_ index: Int, _ reason: String) -> OnnxExportError {
        .layer(path: path, index: index, layer: "\(spec.layers[index])", reason: reason)
    }
}
