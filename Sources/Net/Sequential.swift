import GenreCore

/// A sequential network built from a ``ModelSpec``: forward, backward, parameters and checkpoint state.
///
/// Shapes: ``forward(_:training:)`` takes `[N] + spec.inputShape` (NCHW, e.g. `[N, 1, 128, 128]`) and returns
/// logits `[N, spec.classes]`. Parameter and state names are `"<spec index>.<kind>.<role>"`: `"0.conv.weight"`
/// `[out, in, k, k]`, `"0.conv.bias"`, `"1.bn.weight"` (gamma), `"1.bn.bias"` (beta), `"1.bn.running_mean"`,
/// `"1.bn.running_var"`, ..., `"18.linear.weight"` `[out, in]`, `"18.linear.bias"` (the genre CNN) — PyTorch's layouts
/// and roles. A residual block at index i names its sub-layers as PyTorch attributes: `"i.residual.conv1.weight"`,
/// `"i.residual.bn1.running_mean"`, ... (see ``LayerSpec/residualBlock(outChannels:kernel:)``).
///
/// Execution: conv → batch-norm → ReLU → 2x2 max-pool runs of the spec (the genre CNN's blocks) and conv → ReLU →
/// batch-norm → max-pool runs with any pooling window (the musicnn blocks) are fused into one stage each (same
/// numbers up to float32 summation order, far less memory traffic); every other layer runs on its own. Activation, gradient and workspace buffers are
/// kept between calls and grow only when the batch grows. Each batch is split across ``parallelism``'s threads.
///
/// Fine-tuning: ``frozenLayerCount`` freezes a prefix of the layers (evaluation mode, no gradients, no backward
/// below it), ``batchNormInEvaluationMode`` makes every batch norm use its running statistics, and each
/// ``Parameter/learningRateScale`` sets a per-parameter learning rate; build the optimizer on
/// ``trainableParameters``.
///
/// Not `Sendable`: one training thread drives a model (the model parallelises inside each call).
public final class Sequential {
    /// The spec the model was built from (stored in checkpoints next to ``stateDictionary()``).
    public let spec: ModelSpec
    /// How a batch is spread over the cores; ``Parallelism/automatic`` by default.
    public var parallelism: Parallelism = .automatic

    /// Layers `[0, frozenLayerCount)` are frozen: a training ``forward(_:training:)`` runs them in evaluation mode
    /// (batch norm normalises with its running statistics and does not update them, dropout is the identity),
    /// and ``backward(_:)`` neither computes their parameter gradients nor propagates the gradient below the
    /// first unfrozen layer, so a frozen body costs only a forward pass. Their parameters are left out of
    /// ``trainableParameters``. Default 0 (nothing frozen); at most `spec.layers.count`.
    ///
    /// Fused stages never span the boundary: setting this re-plans the execution so that layers on either side
    /// run in separate stages (e.g. a boundary between a conv and its batch norm runs both unfused). The numbers
    /// do not depend on the plan.
    public var frozenLayerCount = 0 {
        didSet {
            precondition(
                (0...layers.count).contains(frozenLayerCount),
                "Sequential.frozenLayerCount must be in 0...\(layers.count), got \(frozenLayerCount)")
            if frozenLayerCount != oldValue { plan() }
        }
    }

    /// When true, every batch-norm layer (including those inside residual blocks) normalises with its running
    /// statistics in training forwards too and leaves them unchanged; backward is then the gradient of that
    /// fixed affine map (gamma and beta still train unless frozen). For fine-tuning on small batches, where batch
    /// statistics are noisy. Default false.
    public var batchNormInEvaluationMode = false {
        didSet { for norm in batchNorms { norm.fixedStatistics = batchNormInEvaluationMode } }
    }

    let layers: [any Layer]
    private let fusing: Bool
    private(set) var stages: [any Stage] = []
    /// The spec layers each stage runs (`stageLayers[i]` for `stages[i]`).
    private(set) var stageLayers: [Range<Int>] = []
    /// Stages `[0, frozenStageCount)` hold only frozen layers.
    private(set) var frozenStageCount = 0
    /// Per-sample element counts at stage boundaries: `boundarySizes[0]` is the input, `[i + 1]` stage i's output.
    private var boundarySizes: [Int] = []
    /// Stage inputs/outputs (`activations[i]` feeds stage i) and the loss gradients with respect to them.
    private var activations: [Buffer<Float>] = []
    private var gradients: [Buffer<Float>] = []
    private var lastBatch = 0
    private var lastForwardWasTraining = false

    /// Builds the model, checking every layer's input shape, and initialises it from `seed` (He-normal conv and
    /// linear weights, zero biases, batch-norm gamma 1 and beta 0, dropout masks seeded; see ``SplitMix64``).
    /// Throws ``NetError/invalidLayer(index:layer:reason:)`` naming the first layer that does not fit.
    public convenience init(spec: ModelSpec, seed: UInt64) throws(NetError) {
        try self.init(spec: spec, seed: seed, fusing: true)
    }

    /// `fusing: false` runs every layer on its own (for tests that compare the fused path with the plain one).
    init(spec: ModelSpec, seed: UInt64, fusing: Bool) throws(NetError) {
        self.spec = spec
        guard spec.inputShape.count == 3, spec.inputShape.allSatisfy({ $0 >= 1 }) else {
            throw .invalidModel(reason: "inputShape must be [channels, height, width] with positive extents, got \(spec.inputShape)")
        }
        guard spec.classes >= 1 else { throw .invalidModel(reason: "classes must be >= 1, got \(spec.classes)") }
        guard !spec.layers.isEmpty else { throw .invalidModel(reason: "the model has no layers") }

        var generator = SplitMix64(seed: seed)
        var shape = spec.inputShape
        var built = [any Layer]()
        for (index, layerSpec) in spec.layers.enumerated() {
            var layerGenerator = generator.split()
            let layer = try Self.makeLayer(layerSpec, index: index, inputShape: shape, generator: &layerGenerator)
            built.append(layer)
            shape = layer.outputShape
        }
        guard shape == [spec.classes] else {
            throw .invalidModel(reason: "the last layer produces \(shape) per sample, expected [\(spec.classes)] logits (classes)")
        }
        layers = built
        self.fusing = fusing
        plan()
    }

    /// Every batch norm of the model, inside residual blocks too.
    private var batchNorms: [BatchNorm2D] {
        layers.flatMap { layer -> [BatchNorm2D] in
            if let norm = layer as? BatchNorm2D { return [norm] }
            if let block = layer as? ResidualBlock { return [block.norm1, block.norm2] + (block.shortcut.map { [$0.norm] } ?? []) }
            return []
        }
    }

    /// Builds the execution plan: fuses conv → batch norm → ReLU → 2x2 pool runs that lie entirely on one side of
    /// the ``frozenLayerCount`` boundary, and sizes the boundary buffers.
    private func plan() {
        let built = layers, frozen = frozenLayerCount
        var plan = [any Stage](), ranges = [Range<Int>]()
        var index = 0
        while index < built.count {
            let sameSide = index >= frozen || index + 4 <= frozen
            if fusing, sameSide, index + 3 < built.count, let conv = built[index] as? Conv2D, let norm = built[index + 1] as? BatchNorm2D,
                built[index + 2] is ReLU, let pool = built[index + 3] as? MaxPool2D, pool.isTwoByTwo
            {
                plan.append(ConvBatchNormReLUPool(conv: conv, norm: norm))
                ranges.append(index..<(index + 4))
                index += 4
            } else if fusing, sameSide, index + 3 < built.count, let conv = built[index] as? Conv2D, built[index + 1] is ReLU,
                let norm = built[index + 2] as? BatchNorm2D, let pool = built[index + 3] as? MaxPool2D
            {
                plan.append(ConvReLUBatchNormPool(conv: conv, norm: norm, pool: pool))
                ranges.append(index..<(index + 4))
                index += 4
            } else {
                plan.append(built[index])
                ranges.append(index..<(index + 1))
                index += 1
            }
        }
        stages = plan
        stageLayers = ranges
        frozenStageCount = ranges.prefix { $0.upperBound <= frozen }.count
        boundarySizes = [spec.inputShape.reduce(1, *)] + plan.map { $0.outputShape.reduce(1, *) }
        activations = boundarySizes.map { _ in Buffer<Float>() }
        gradients = boundarySizes.map { _ in Buffer<Float>() }
        lastForwardWasTraining = false
    }

    private static func makeLayer(_ layer: LayerSpec, index: Int, inputShape shape: [Int], generator: inout SplitMix64)
        throws(NetError) -> any Layer
    {
        let name = "\(index).\(layer.kind)"
        func fail(_ reason: String) -> NetError { .invalidLayer(index: index, layer: "\(layer)", reason: reason) }
        func requireImage() throws(NetError) {
            guard shape.count == 3 else { throw fail("needs a [channels, height, width] input, got \(shape)") }
        }
        switch layer {
        case .conv2d(let outChannels, let kernel, let padding, let stride):
            try requireImage()
            guard outChannels >= 1, kernel >= 1, padding >= 0, stride >= 1 else {
                throw fail("needs outChannels >= 1, kernel >= 1, padding >= 0, stride >= 1")
            }
            guard shape[1] + 2 * padding >= kernel, shape[2] + 2 * padding >= kernel else {
                throw fail("a \(kernel)x\(kernel) kernel does not fit the padded \(shape[1])x\(shape[2]) input")
            }
            return Conv2D(
                name: name, inputShape: shape, outChannels: outChannels, kernel: kernel, padding: padding, stride: stride,
                generator: &generator)
        case .batchNorm2d:
            try requireImage()
            return BatchNorm2D(name: name, inputShape: shape)
        case .batchNorm2dEpsilon(let epsilon):
            try requireImage()
            guard epsilon > 0, epsilon.isFinite else { throw fail("epsilon must be a positive finite number, got \(epsilon)") }
            return BatchNorm2D(name: name, inputShape: shape, epsilon: epsilon)
        case .relu:
            return ReLU(inputShape: shape)
        case .maxPool2d(let kernel, let stride):
            try requireImage()
            guard kernel >= 1, stride >= 1 else { throw fail("needs kernel >= 1 and stride >= 1") }
            guard shape[1] >= kernel, shape[2] >= kernel else {
                throw fail("a \(kernel)x\(kernel) window does not fit the \(shape[1])x\(shape[2]) input")
            }
            return MaxPool2D(inputShape: shape, kernel: kernel, stride: stride)
        case .maxPool2dRect(let kernelHeight, let kernelWidth, let strideHeight, let strideWidth):
            try requireImage()
            guard kernelHeight >= 1, kernelWidth >= 1, strideHeight >= 1, strideWidth >= 1 else {
                throw fail("needs kernel sides >= 1 and strides >= 1")
            }
            guard shape[1] >= kernelHeight, shape[2] >= kernelWidth else {
                throw fail("a \(kernelHeight)x\(kernelWidth) window does not fit the \(shape[1])x\(shape[2]) input")
            }
            return MaxPool2D(
                inputShape: shape, kernelHeight: kernelHeight, kernelWidth: kernelWidth, strideHeight: strideHeight,
                strideWidth: strideWidth)
        case .globalAveragePool:
            try requireImage()
            return GlobalAveragePool(inputShape: shape)
        case .globalMaxPool:
            try requireImage()
            return GlobalMaxPool(inputShape: shape)
        case .globalAverageMaxPool:
            try requireImage()
            return GlobalAverageMaxPool(inputShape: shape)
        case .dropout(let probability):
            guard probability >= 0, probability < 1 else { throw fail("the drop probability must be in [0, 1), got \(probability)") }
            return Dropout(inputShape: shape, probability: probability, generator: generator.split())
        case .linear(let outFeatures):
            guard shape.count == 1 else {
                throw fail("needs a flat [features] input, got \(shape) (add .flatten or .globalAveragePool before it)")
            }
            guard outFeatures >= 1 else { throw fail("outFeatures must be >= 1") }
            return Linear(name: name, inFeatures: shape[0], outFeatures: outFeatures, generator: &generator)
        case .linearSigmoidAppended(let outFeatures):
            guard shape.count == 1 else {
                throw fail("needs a flat [features] input, got \(shape) (add .flatten or .globalAveragePool before it)")
            }
            guard outFeatures >= 1 else { throw fail("outFeatures must be >= 1") }
            return LinearSigmoidAppended(name: name, inFeatures: shape[0], outFeatures: outFeatures, generator: &generator)
        case .flatten:
            return Flatten(inputShape: shape)
        case .residualBlock(let outChannels, let kernel):
            try requireImage()
            guard outChannels >= 1 else { throw fail("needs outChannels >= 1") }
            guard kernel >= 1, kernel % 2 == 1 else {
                throw fail("needs an odd kernel >= 1 (padding kernel / 2 keeps the size), got \(kernel)")
            }
            // An odd kernel with padding kernel / 2 fits any image (H + kernel - 1 >= kernel).
            return ResidualBlock(name: name, inputShape: shape, outChannels: outChannels, kernel: kernel, generator: &generator)
        }
    }

    /// Re-seeds every stochastic layer (the dropout masks) from `seed`, derived exactly as at construction, so that
    /// `Sequential(spec:seed: s)` and `reseedStochasticLayers(seed: s)` give the same mask stream. Dropout state is
    /// not part of ``stateDictionary()``: a trainer that reseeds at the start of every epoch from (run seed, epoch)
    /// draws the same masks after resuming from a checkpoint as an uninterrupted run.
    public func reseedStochasticLayers(seed: UInt64) {
        var generator = SplitMix64(seed: seed)
        for layer in layers {
            var layerGenerator = generator.split()
            if let dropout = layer as? Dropout { dropout.reseed(layerGenerator.split()) }
        }
    }

    /// Applies ``parallelism`` (sets ``BLAS/threads``, process-wide) and returns the batch workers to use.
    private func configureThreads() -> Workers {
        switch parallelism {
        case .batch(let threads):
            BLAS.threads = 1
            return Workers(count: max(1, threads))
        case .blas(let threads):
            BLAS.threads = max(1, threads)
            return Workers(count: 1)
        }
    }

    /// Runs the network on `input` (`[N] + spec.inputShape`, NCHW) and returns the logits `[N, classes]`.
    /// `training: true` uses batch statistics in batch norm (and updates the running statistics), applies dropout,
    /// and caches what ``backward(_:)`` needs; `false` uses running statistics and no dropout. Frozen layers
    /// (``frozenLayerCount``) always run as with `false`; ``batchNormInEvaluationMode`` makes batch norm use
    /// its running statistics in training too.
    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        precondition(
            input.shape.count == spec.inputShape.count + 1 && Array(input.shape.dropFirst()) == spec.inputShape
                && input.shape[0] >= 1,
            "Sequential.forward: input shape \(input.shape) is not [N] + \(spec.inputShape) with N >= 1")
        let batch = input.shape[0]
        let workers = configureThreads()
        let first = activations[0].reserve(batch * boundarySizes[0])
        input.withUnsafeBufferPointer { first.update(from: $0.baseAddress!, count: $0.count) }
        for (i, stage) in stages.enumerated() {
            let output = activations[i + 1].reserve(batch * boundarySizes[i + 1])
            stage.forward(
                input: activations[i].pointer, output: output, batch: batch, training: training && i >= frozenStageCount,
                workers: workers)
        }
        lastBatch = batch
        lastForwardWasTraining = training
        let logits = activations[stages.count].pointer
        return Tensor(shape: [batch, spec.classes], scalars: Array(UnsafeBufferPointer(start: logits, count: batch * spec.classes)))
    }

    /// Backpropagates `gradLogits` (`[N, classes]`, the loss gradient with respect to the logits of the last
    /// training-mode ``forward(_:training:)``) and adds the parameter gradients into ``parameters`` (those of
    /// unfrozen layers: frozen layers are not visited, see ``frozenLayerCount``).
    public func backward(_ gradLogits: Tensor) {
        _ = backward(gradLogits, inputGradient: false)
    }

    /// ``backward(_:)``, and with `inputGradient: true` also the gradient with respect to the input of the last
    /// training forward (`[N] + spec.inputShape`), which the first layer otherwise skips.
    func backward(_ gradLogits: Tensor, inputGradient: Bool) -> Tensor? {
        precondition(lastForwardWasTraining, "Sequential.backward needs a preceding forward(_:training: true)")
        precondition(
            gradLogits.shape == [lastBatch, spec.classes],
            "Sequential.backward: gradient shape \(gradLogits.shape) does not match the logits [\(lastBatch), \(spec.classes)]")
        let batch = lastBatch
        let workers = configureThreads()
        precondition(!inputGradient || frozenStageCount == 0, "Sequential: no input gradient through frozen layers")
        let last = gradients[stages.count].reserve(batch * spec.classes)
        gradLogits.withUnsafeBufferPointer { last.update(from: $0.baseAddress!, count: $0.count) }
        let firstTrained = frozenStageCount
        for i in (firstTrained..<stages.count).reversed() {
            let gradInput: UnsafeMutablePointer<Float>? =
                i == firstTrained && !inputGradient ? nil : gradients[i].reserve(batch * boundarySizes[i])
            stages[i].backward(
                input: activations[i].pointer, output: activations[i + 1].pointer, gradOutput: gradients[i + 1].pointer,
                gradInput: gradInput, batch: batch, workers: workers)
        }
        guard inputGradient else { return nil }
        let first = gradients[0].pointer
        return Tensor(shape: [batch] + spec.inputShape, scalars: Array(UnsafeBufferPointer(start: first, count: batch * boundarySizes[0])))
    }

    /// All parameters in spec order (weight before bias), with their accumulated gradients, frozen or not (the
    /// checkpointed ones; see ``trainableParameters`` for an optimizer).
    public var parameters: [Parameter] { layers.flatMap { $0.parameters } }

    /// The parameters of the unfrozen layers (`[frozenLayerCount, spec.layers.count)`), in spec order: what an
    /// optimizer should update. Frozen parameters are left out rather than given a zero learning rate, so that
    /// no optimizer (weight decay included) can move them and no moment buffers are kept for them; an
    /// optimizer's state dictionary therefore depends on ``frozenLayerCount``. With nothing frozen this is
    /// ``parameters``.
    public var trainableParameters: [Parameter] { layers[frozenLayerCount...].flatMap { $0.parameters } }

    /// Total number of trainable scalars.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }

    /// Sets every parameter gradient to zero (call before each backward unless accumulating on purpose).
    public func zeroGradients() {
        for parameter in parameters { parameter.zeroGradient() }
    }

    /// Everything a checkpoint must hold, by stable name with shape: all parameters and the batch-norm running
    /// statistics (`running_mean`, `running_var`; `num_batches_tracked` is not used with momentum 0.1).
    public func stateDictionary() -> [String: Tensor] {
        var state = [String: Tensor]()
        for parameter in parameters { state[parameter.name] = parameter.value }
        for array in layers.flatMap({ $0.persistentState }) { state[array.name] = array.tensor }
        return state
    }

    /// Loads a state dictionary made by ``stateDictionary()`` of a model with the same spec. Checks first that
    /// every name is present and known and every shape and value is valid; on error nothing is changed.
    public func load(stateDictionary state: [String: Tensor]) throws(NetError) {
        let parameters = parameters
        let arrays = layers.flatMap { $0.persistentState }
        let expected = parameters.map { ($0.name, $0.shape) } + arrays.map { ($0.name, $0.shape) }
        for (name, shape) in expected {
            guard let tensor = state[name] else { throw .missingState(name: name) }
            guard tensor.shape == shape else { throw .stateShapeMismatch(name: name, expected: shape, found: tensor.shape) }
            guard tensor.scalars.allSatisfy({ $0.isFinite }) else { throw .nonFiniteState(name: name) }
        }
        let known = Set(expected.map { $0.0 })
        if let unknown = state.keys.sorted().first(where: { !known.contains($0) }) { throw .unexpectedState(name: unknown) }
        for parameter in parameters { parameter.value = state[parameter.name]! }
        for array in arrays { array.tensor = state[array.name]! }
    }

    /// One line per layer: index, spec and per-sample output shape, then the parameter count.
    public var summary: String {
        var lines = ["input \(spec.inputShape)"]
        for (index, layer) in layers.enumerated() {
            lines.append("\(index) \(spec.layers[index]) -> \(layer.outputShape)")
        }
        lines.append("\(parameterCount) parameters")
        return lines.joined(separator: "\n")
    }
}
