import GenreCore
import Foundation
import Testing
/// The shared test support (TemporaryDirectory, ErrorBound, expectClose) for every file of this target.
@_exported import TestSupport
@testable import Net

/// Runs single stages (layers or fused blocks) on plain arrays, and checks backward passes against central
/// finite differences of a random linear functional of the output.
enum Harness {
    static func normals(_ count: Int, seed: UInt64, scale: Float = 1, offset: Float = 0) -> [Float] {
        var g = SplitMix64(seed: seed)
        return (0..<count).map { _ in Float(g.normal()) * scale + offset }
    }

    /// Distinct values spaced at least `gap` apart, shuffled (for max pooling away from ties), centred on 0.
    static func distinct(_ count: Int, seed: UInt64, gap: Float = 0.05) -> [Float] {
        var g = SplitMix64(seed: seed)
        var values = (0..<count).map { Float($0) * gap - Float(count) * gap / 2 }
        values.shuffle(using: &g)
        return values
    }

    static func forward(_ stage: any Stage, _ input: [Float], batch: Int, training: Bool = true, workers: Int = 2) -> [Float] {
        var output = [Float](repeating: .nan, count: batch * stage.outputShape.reduce(1, *))
        input.withUnsafeBufferPointer { x in
            output.withUnsafeMutableBufferPointer { y in
                stage.forward(input: x.baseAddress!, output: y.baseAddress!, batch: batch, training: training, workers: Workers(count: workers))
            }
        }
        return output
    }

    /// Training forward then backward with `gradOutput`; returns the input gradient.
    static func backward(_ stage: any Stage, _ input: [Float], gradOutput: [Float], batch: Int, workers: Int = 2) -> [Float] {
        let output = forward(stage, input, batch: batch, training: true, workers: workers)
        var gradInput = [Float](repeating: .nan, count: input.count)
        input.withUnsafeBufferPointer { x in
            output.withUnsafeBufferPointer { y in
                gradOutput.withUnsafeBufferPointer { dy in
                    gradInput.withUnsafeMutableBufferPointer { dx in
                        stage.backward(
                            input: x.baseAddress!, output: y.baseAddress!, gradOutput: dy.baseAddress!,
                            gradInput: dx.baseAddress!, batch: batch, workers: Workers(count: workers))
                    }
                }
            }
        }
        return gradInput
    }

    /// `‖a - b‖ / max(‖a‖, ‖b‖)` (0 when both vanish).
    static func relativeError(_ a: [Float], _ b: [Float]) -> Double {
        precondition(a.count == b.count)
        var diff = 0.0, na = 0.0, nb = 0.0
        for (x, y) in zip(a, b) {
            diff += Double(x - y) * Double(x - y)
            na += Double(x) * Double(x)
            nb += Double(y) * Double(y)
        }
        let scale = max(na, nb).squareRoot()
        return scale == 0 ? 0 : diff.squareRoot() / scale
    }

    static func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }

    /// Analytic input and parameter gradients of `L = Σ r ⊙ stage(x)` against central differences with step
    /// `epsilon` (h). Returns, for the input and for each parameter, the worst ratio `|analytic - numeric| / bound`
    /// over the elements: at most 1 when the backward pass is right.
    ///
    /// Each element's bound adds up what separates a correct analytic gradient from the numeric one:
    /// - the analytic gradient's own float32 rounding (``RoundingBounds``, one path);
    /// - the rounding of the loss: `L(x ± h)` sums the float32 outputs in Double, and only the outputs that depend
    ///   on the perturbed element (those whose Double-evaluated value moves) differ between the two evaluations;
    ///   each carries at most its forward bound `b_j`, so the quotient is off by at most `Σ_moved |r_j|·b_j / h`;
    /// - the step: `fl(x + h) - fl(x - h)` differs from `2h` by at most `2u·(|x| + h)`, a relative error of
    ///   `u·(|x| + h)/h` of the derivative, plus the final rounding of the quotient to Float (`u·|numeric|`);
    /// - truncation: `h²/6 · |f‴|`, with `f‴` from the five-point stencil on the Double evaluation of the layer
    ///   (exact to ~1e-16) at step h, doubled for the variation of `f‴` within `[x - 2h, x + 2h]`; it vanishes for
    ///   layers linear in the perturbed value (conv, linear, pooling and ReLU away from their kinks).
    static func gradientErrors(
        _ stage: any Stage, parameters: [Parameter], input: [Float], batch: Int, epsilon: Float = 1e-2, seed: UInt64 = 7,
        workers: Int = 2
    ) -> (input: Double, parameters: [String: Double]) {
        let r = normals(batch * stage.outputShape.reduce(1, *), seed: seed)
        func loss(_ x: [Float]) -> Double {
            zip(forward(stage, x, batch: batch, workers: workers), r).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
        func exact(_ x: [Float]) -> RoundingBounds {
            RoundingBounds(stages: [stage], input: x, batch: batch, objective: .none)
        }
        let u = ErrorBound.unitRoundoff, h = Double(epsilon)
        // Analytic gradients and their bounds (RoundingBounds gives two paths' worth: halved below).
        for p in parameters { p.zeroGradient() }
        let analyticBounds = RoundingBounds(stages: [stage], input: input, batch: batch, objective: .linear(gradOutput: r))
        let analyticInput = backward(stage, input, gradOutput: r, batch: batch, workers: workers)
        let analyticParameters = parameters.map { $0.gradient.scalars }

        /// The worst-case ratio for one element, given how to evaluate (float32 loss, Double evaluation) with that
        /// element set to a value (restored by `evaluate` itself).
        func check(analytic: Double, analyticBound: Double, element: Float, evaluate: (Float) -> (Double, RoundingBounds)) -> Double {
            let (plus, plusBounds) = evaluate(element + epsilon)
            let (minus, minusBounds) = evaluate(element - epsilon)
            let numeric = Double(Float((plus - minus) / (2 * h)))
            var lossRounding = 0.0
            for j in r.indices where plusBounds.output[j] != minusBounds.output[j] {
                lossRounding += abs(Double(r[j])) * (plusBounds.logits[j] + minusBounds.logits[j]) / 2
            }
            lossRounding /= 2 * h
            let farPlus = evaluate(element + 2 * epsilon).1.output, farMinus = evaluate(element - 2 * epsilon).1.output
            var third = 0.0
            for j in r.indices {
                third += Double(r[j]) * (farPlus[j] - 2 * plusBounds.output[j] + 2 * minusBounds.output[j] - farMinus[j])
            }
            third = abs(third) / (2 * h * h * h)
            let derivative = max(abs(analytic), abs(numeric))
            let bound = analyticBound / 2 + lossRounding + derivative * u * (Double(abs(element)) + h) / h
                + u * abs(numeric) + h * h / 6 * 2 * third + ErrorBound.underflow(operations: 1000)
            return abs(analytic - numeric) / bound
        }

        var x = input
        var inputWorst = 0.0
        for i in 0..<input.count {
            let ratio = check(analytic: Double(analyticInput[i]), analyticBound: analyticBounds.inputGradient[i], element: input[i]) { value in
                x[i] = value
                defer { x[i] = input[i] }
                return (loss(x), exact(x))
            }
            inputWorst = max(inputWorst, ratio)
        }
        var errors = [String: Double]()
        for (p, analytic) in zip(parameters, analyticParameters) {
            var worst = 0.0
            for j in 0..<p.count {
                let saved = p.values[j]
                let ratio = check(analytic: Double(analytic[j]), analyticBound: analyticBounds.gradients[p.name]![j], element: saved) { value in
                    p.values[j] = value
                    defer { p.values[j] = saved }
                    return (loss(input), exact(input))
                }
                worst = max(worst, ratio)
            }
            errors[p.name] = worst
        }
        return (inputWorst, errors)
    }
}

/// The golden file made by `scripts/make_net_golden.py`, read through `#filePath` (no resource bundling).
enum Golden {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    struct Array: Decodable {
        let shape: [Int]
        let data: [Float]
        var tensor: Tensor { Tensor(shape: shape, scalars: data) }
    }

    struct Step: Decodable {
        let lr: Double
        let weight_decay: Double?
        let momentum: Double?
        let params: [String: Array]
    }

    struct Soft: Decodable {
        let targets: Array
        let loss: Double
        let grad: Array
    }

    struct File: Decodable {
        let torch_version: String
        let input: Array
        let labels: [Int]
        let state: [String: Array]
        let logits: Array
        let loss: Double
        let grad_logits: Array
        let grads: [String: Array]
        let running_after: [String: Array]
        let adam: Step
        let adamw: Step
        let sgd: Step
        let eval_logits_after_adam: Array
        let soft: Soft
    }

    static func load() throws -> File {
        let data = try Data(contentsOf: directory.appendingPathComponent("tiny_cnn.json"))
        return try JSONDecoder().decode(File.self, from: data)
    }

    /// The spec of the golden model in Net terms.
    static let spec = ModelSpec(
        inputShape: [1, 8, 8],
        layers: [
            .conv2d(outChannels: 2, kernel: 3, padding: 1, stride: 1), .batchNorm2d, .relu, .maxPool2d(kernel: 2, stride: 2),
            .globalAveragePool, .linear(outFeatures: 3),
        ],
        classes: 3)
}
