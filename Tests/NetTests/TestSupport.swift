import GenreCore
import Foundation
import Testing
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

    /// Analytic input and parameter gradients of `L = Σ r ⊙ stage(x)` against central differences.
    /// Returns the relative errors (input first, then each parameter).
    static func gradientErrors(
        _ stage: any Stage, parameters: [Parameter], input: [Float], batch: Int, epsilon: Float = 1e-2, seed: UInt64 = 7,
        workers: Int = 2
    ) -> (input: Double, parameters: [String: Double]) {
        let r = normals(batch * stage.outputShape.reduce(1, *), seed: seed)
        func loss(_ x: [Float]) -> Double {
            zip(forward(stage, x, batch: batch, workers: workers), r).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
        for p in parameters { p.zeroGradient() }
        let analyticInput = backward(stage, input, gradOutput: r, batch: batch, workers: workers)
        let analyticParameters = parameters.map { $0.gradient.scalars }

        var numericInput = [Float](repeating: 0, count: input.count)
        var x = input
        for i in 0..<input.count {
            x[i] = input[i] + epsilon
            let plus = loss(x)
            x[i] = input[i] - epsilon
            let minus = loss(x)
            x[i] = input[i]
            numericInput[i] = Float((plus - minus) / (2 * Double(epsilon)))
        }
        var errors = [String: Double]()
        for (p, analytic) in zip(parameters, analyticParameters) {
            var numeric = [Float](repeating: 0, count: p.count)
            for j in 0..<p.count {
                let saved = p.values[j]
                p.values[j] = saved + epsilon
                let plus = loss(input)
                p.values[j] = saved - epsilon
                let minus = loss(input)
                p.values[j] = saved
                numeric[j] = Float((plus - minus) / (2 * Double(epsilon)))
            }
            errors[p.name] = relativeError(analytic, numeric)
        }
        return (relativeError(analyticInput, numericInput), errors)
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
