import Foundation

/// Updates a model's parameters from their accumulated gradients. Call ``step()`` once per batch, after
/// ``Sequential/backward(_:)``; set ``learningRate`` before each step to follow a ``LearningRateSchedule``.
public protocol Optimizer: AnyObject {
    /// The step size for the next ``step()``.
    var learningRate: Double { get set }
    /// Number of steps taken so far.
    var stepCount: Int { get }
    /// Applies one update to every parameter (gradients are read, not cleared).
    func step()
    /// The optimizer's state (moment buffers, step count) by name, for checkpoints.
    func stateDictionary() -> [String: Tensor]
    /// Restores a state saved by ``stateDictionary()`` for the same parameters; nothing changes on error.
    func load(stateDictionary: [String: Tensor]) throws(NetError)
}

/// How weight decay enters an update.
public enum WeightDecay: Sendable, Equatable, Hashable, Codable {
    /// No weight decay.
    case none
    /// L2 regularisation: `λ · p` is added to the gradient (PyTorch `Adam`/`SGD` `weight_decay=λ`).
    case l2(Double)
    /// Decoupled weight decay: `p ← p · (1 - lr · λ)` before the Adam update (PyTorch `AdamW(weight_decay=λ)`).
    case decoupled(Double)
}

/// Per-parameter buffers of an optimizer, named `"<parameter name>.<role>"` in state dictionaries.
final class MomentBuffers {
    let role: String
    let buffers: [UnsafeMutablePointer<Float>]
    let parameters: [Parameter]

    init(role: String, parameters: [Parameter]) {
        self.role = role
        self.parameters = parameters
        buffers = parameters.map { parameter in
            let buffer = allocateFloats(parameter.count)
            buffer.initialize(repeating: 0, count: parameter.count)
            return buffer
        }
    }

    deinit { for buffer in buffers { freeFloats(buffer) } }

    func state(into dictionary: inout [String: Tensor]) {
        for (parameter, buffer) in zip(parameters, buffers) {
            dictionary["\(parameter.name).\(role)"] = Tensor(
                shape: parameter.shape, scalars: Array(UnsafeBufferPointer(start: buffer, count: parameter.count)))
        }
    }

    func validate(_ dictionary: [String: Tensor]) throws(NetError) {
        for parameter in parameters {
            let name = "\(parameter.name).\(role)"
            guard let tensor = dictionary[name] else { throw .missingState(name: name) }
            guard tensor.shape == parameter.shape else {
                throw .stateShapeMismatch(name: name, expected: parameter.shape, found: tensor.shape)
            }
        }
    }

    var names: [String] { parameters.map { "\($0.name).\(role)" } }

    func load(_ dictionary: [String: Tensor]) {
        for (parameter, buffer) in zip(parameters, buffers) {
            dictionary["\(parameter.name).\(role)"]!.withUnsafeBufferPointer { buffer.update(from: $0.baseAddress!, count: parameter.count) }
        }
    }
}

/// Checks that a state dictionary has exactly `names` plus `"step"`, and reads the step count.
private func validateOptimizerState(_ dictionary: [String: Tensor], names: [String]) throws(NetError) -> Int {
    guard let step = dictionary["step"] else { throw .missingState(name: "step") }
    guard step.shape == [1] else { throw .stateShapeMismatch(name: "step", expected: [1], found: step.shape) }
    guard step.scalars[0].isFinite, step.scalars[0] >= 0 else { throw .nonFiniteState(name: "step") }
    let known = Set(names + ["step"])
    if let unknown = dictionary.keys.sorted().first(where: { !known.contains($0) }) { throw .unexpectedState(name: unknown) }
    return Int(step.scalars[0])
}

/// Stochastic gradient descent with momentum, as PyTorch `SGD(lr, momentum, dampening=0, weight_decay, nesterov)`:
/// `g = grad + λ·p`; `buf = g` on the first step, then `buf = μ·buf + g`; `p -= lr · (nesterov ? g + μ·buf : buf)`
/// (with `μ = 0`: `p -= lr · g`), where `lr` is ``learningRate`` times the parameter's
/// ``Parameter/learningRateScale`` (PyTorch parameter groups with those rates).
public final class SGD: Optimizer {
    /// Step size for the next update.
    public var learningRate: Double
    /// Momentum factor `μ` (0 = plain SGD).
    public let momentum: Double
    /// L2 weight decay `λ` added to the gradient as `λ · p`.
    public let weightDecay: Double
    /// Nesterov momentum (needs `momentum > 0`).
    public let nesterov: Bool
    /// Number of updates made so far.
    public private(set) var stepCount = 0
    private let parameters: [Parameter]
    private let velocity: MomentBuffers

    /// An optimizer for `parameters` (typically ``Sequential/parameters``), with zero momentum buffers.
    public init(parameters: [Parameter], learningRate: Double, momentum: Double = 0, weightDecay: Double = 0, nesterov: Bool = false) {
        precondition(learningRate >= 0 && momentum >= 0 && weightDecay >= 0, "SGD: learning rate, momentum and weight decay must be >= 0")
        precondition(!nesterov || momentum > 0, "SGD: Nesterov momentum needs momentum > 0")
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.nesterov = nesterov
        velocity = MomentBuffers(role: "momentum_buffer", parameters: parameters)
    }

    /// Applies one update to every parameter from its accumulated gradient.
    public func step() {
        let mu = Float(momentum), decay = Float(weightDecay)
        let first = stepCount == 0
        for (parameter, buffer) in zip(parameters, velocity.buffers) {
            let lr = Float(learningRate * Double(parameter.learningRateScale))
            let p = parameter.values, grad = parameter.gradients
            for i in 0..<parameter.count {
                var g = grad[i]
                if decay != 0 { g += decay * p[i] }
                if mu != 0 {
                    buffer[i] = first ? g : mu * buffer[i] + g
                    g = nesterov ? g + mu * buffer[i] : buffer[i]
                }
                p[i] -= lr * g
            }
        }
        stepCount += 1
    }

    /// `"step"` `[1]` and `"<parameter>.momentum_buffer"` per parameter.
    public func stateDictionary() -> [String: Tensor] {
        var state = ["step": Tensor(shape: [1], scalars: [Float(stepCount)])]
        velocity.state(into: &state)
        return state
    }

    /// Restores a state saved by ``stateDictionary()``; validates everything before changing anything.
    public func load(stateDictionary state: [String: Tensor]) throws(NetError) {
        let steps = try validateOptimizerState(state, names: velocity.names)
        try velocity.validate(state)
        velocity.load(state)
        stepCount = steps
    }
}

/// Adam and AdamW, as PyTorch `Adam`/`AdamW` (no AMSGrad): with `t` the step number from 1,
/// `m = β1·m + (1-β1)·g`, `v = β2·v + (1-β2)·g²`, `p -= (lr / (1-β1^t)) · m / (sqrt(v) / sqrt(1-β2^t) + ε)`;
/// weight decay per ``WeightDecay`` (`.l2` is Adam's, `.decoupled` is AdamW's). `lr` is ``learningRate`` times
/// the parameter's ``Parameter/learningRateScale`` (PyTorch parameter groups with those rates; the decoupled
/// decay `1 - lr · λ` uses the scaled rate too). Bias corrections are computed in Double, the elementwise update
/// in Float, in PyTorch's order of operations.
public final class Adam: Optimizer {
    /// Step size for the next update.
    public var learningRate: Double
    /// Decay rates of the first and second moment averages.
    public let beta1: Double, beta2: Double
    /// Added to the bias-corrected root second moment in the denominator.
    public let epsilon: Double
    /// L2 (Adam) or decoupled (AdamW) weight decay.
    public let weightDecay: WeightDecay
    /// Number of updates made so far (the `t` of the bias corrections).
    public private(set) var stepCount = 0
    private let parameters: [Parameter]
    private let firstMoments: MomentBuffers
    private let secondMoments: MomentBuffers

    /// An optimizer for `parameters` (typically ``Sequential/parameters``) with PyTorch's defaults and zero moments.
    public init(
        parameters: [Parameter], learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999,
        epsilon: Double = 1e-8, weightDecay: WeightDecay = .none
    ) {
        precondition(learningRate >= 0 && epsilon >= 0, "Adam: learning rate and epsilon must be >= 0")
        precondition((0..<1).contains(beta1) && (0..<1).contains(beta2), "Adam: betas must be in [0, 1)")
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        firstMoments = MomentBuffers(role: "exp_avg", parameters: parameters)
        secondMoments = MomentBuffers(role: "exp_avg_sq", parameters: parameters)
    }

    /// AdamW: Adam with decoupled weight decay `λ` (PyTorch's AdamW default `λ = 0.01`).
    public static func adamW(
        parameters: [Parameter], learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999,
        epsilon: Double = 1e-8, weightDecay: Double = 0.01
    ) -> Adam {
        Adam(parameters: parameters, learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: .decoupled(weightDecay))
    }

    /// Applies one update to every parameter from its accumulated gradient.
    public func step() {
        stepCount += 1
        let t = Double(stepCount)
        let correction1 = 1 - pow(beta1, t)
        let correction2 = Float((1 - pow(beta2, t)).squareRoot())
        let oneMinusBeta1 = Float(1 - beta1), b2 = Float(beta2), oneMinusBeta2 = Float(1 - beta2), eps = Float(epsilon)
        var l2: Float = 0
        if case .l2(let lambda) = weightDecay { l2 = Float(lambda) }
        for (index, parameter) in parameters.enumerated() {
            let lr = learningRate * Double(parameter.learningRateScale)
            let stepSize = Float(lr / correction1)
            var decayFactor: Float = 1
            if case .decoupled(let lambda) = weightDecay { decayFactor = Float(1 - lr * lambda) }
            let p = parameter.values, grad = parameter.gradients
            let m = firstMoments.buffers[index], v = secondMoments.buffers[index]
            for i in 0..<parameter.count {
                if decayFactor != 1 { p[i] *= decayFactor }
                var g = grad[i]
                if l2 != 0 { g += l2 * p[i] }
                m[i] += oneMinusBeta1 * (g - m[i])
                v[i] = v[i] * b2 + oneMinusBeta2 * (g * g)
                let denominator = v[i].squareRoot() / correction2 + eps
                p[i] += -stepSize * (m[i] / denominator)
            }
        }
    }

    /// `"step"` `[1]`, `"<parameter>.exp_avg"` and `"<parameter>.exp_avg_sq"` per parameter.
    public func stateDictionary() -> [String: Tensor] {
        var state = ["step": Tensor(shape: [1], scalars: [Float(stepCount)])]
        firstMoments.state(into: &state)
        secondMoments.state(into: &state)
        return state
    }

    /// Restores a state saved by ``stateDictionary()``; validates everything before changing anything.
    public func load(stateDictionary state: [String: Tensor]) throws(NetError) {
        let steps = try validateOptimizerState(state, names: firstMoments.names + secondMoments.names)
        try firstMoments.validate(state)
        try secondMoments.validate(state)
        firstMoments.load(state)
        secondMoments.load(state)
        stepCount = steps
    }
}
