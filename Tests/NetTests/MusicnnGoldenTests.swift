import Foundation
import Testing
@testable import Net

/// The musicnn layers (batch norm with epsilon 0.001, conv -> ReLU -> batch norm order, rectangular max pooling,
/// flatten order, linear with sigmoid appended) against PyTorch (`scripts/make_musicnn_layer_golden.py`,
/// `Golden/musicnn_layers.json`), through the fused and the plain execution paths, within ``RoundingBounds``.
@Suite struct MusicnnGoldenTests {
    struct File: Decodable {
        let torch_version: String
        let input: Golden.Array
        let labels: [Int]
        let state: [String: Golden.Array]
        let eval_logits: Golden.Array
        let logits: Golden.Array
        let loss: Double
        let grad_logits: Golden.Array
        let grads: [String: Golden.Array]
        let running_after: [String: Golden.Array]
    }

    static func load() throws -> File {
        let data = try Data(contentsOf: Golden.directory.appendingPathComponent("musicnn_layers.json"))
        return try JSONDecoder().decode(File.self, from: data)
    }

    /// The golden model in Net terms (the same indices as the PyTorch `nn.Sequential`).
    static let spec = ModelSpec(
        inputShape: [1, 13, 22],
        layers: [
            .batchNorm2dEpsilon(0.001),
            .conv2d(outChannels: 3, kernel: 3, padding: 1, stride: 1), .relu, .batchNorm2dEpsilon(0.001),
            .maxPool2dRect(kernelHeight: 1, kernelWidth: 4, strideHeight: 2, strideWidth: 2),
            .conv2d(outChannels: 4, kernel: 3, padding: 1, stride: 1), .relu, .batchNorm2dEpsilon(0.001), .maxPool2d(kernel: 2, stride: 2),
            .conv2d(outChannels: 3, kernel: 3, padding: 1, stride: 1), .relu, .batchNorm2d,
            .maxPool2dRect(kernelHeight: 3, kernelWidth: 2, strideHeight: 1, strideWidth: 2),
            .flatten, .linearSigmoidAppended(outFeatures: 4), .linear(outFeatures: 3),
        ],
        classes: 3)

    static func model(_ golden: File, fusing: Bool) throws -> Sequential {
        let model = try Sequential(spec: spec, seed: 0, fusing: fusing)
        try model.load(stateDictionary: golden.state.mapValues { $0.tensor })
        return model
    }

    @Test(arguments: [true, false])
    func evaluationTrainingAndGradientsMatchPyTorch(fusing: Bool) throws {
        let golden = try Self.load()
        let model = try Self.model(golden, fusing: fusing)
        #expect(model.stages.count == (fusing ? 7 : 16))
        let plain = try Self.model(golden, fusing: false)
        let batch = golden.input.shape[0]
        let evaluation = RoundingBounds(stages: plain.stages, input: golden.input.data, batch: batch, training: false, objective: .none)
        let bounds = RoundingBounds(stages: plain.stages, input: golden.input.data, batch: batch, objective: .crossEntropy(labels: golden.labels))
        let floor = ErrorBound.underflow(operations: 1000)

        let eval = model.forward(golden.input.tensor, training: false)
        expectClose(eval.scalars, golden.eval_logits.data, bound: evaluation.logits, floor: floor, "evaluation logits vs PyTorch")
        let logits = model.forward(golden.input.tensor, training: true)
        expectClose(logits.scalars, golden.logits.data, bound: bounds.logits, floor: floor, "training logits vs PyTorch")
        let (loss, gradient) = SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: golden.labels)
        #expect(abs(loss - golden.loss) <= bounds.loss, "loss \(loss) vs \(golden.loss)")
        expectClose(gradient.scalars, golden.grad_logits.data, bound: bounds.logitGradient, floor: floor, "dLoss/dLogits")
        model.zeroGradients()
        model.backward(gradient)
        for parameter in model.parameters {
            let expected = try #require(golden.grads[parameter.name], "\(parameter.name) missing from the golden file")
            expectClose(parameter.gradient.scalars, expected.data, bound: bounds.gradients[parameter.name]!, floor: floor,
                        "grad \(parameter.name) vs PyTorch")
        }
        let state = model.stateDictionary()
        for (name, expected) in golden.running_after {
            // running = 0.9·before + 0.1·batch statistic: the statistic's bound plus two roundings of 0.9·before.
            let bound = zip(bounds.state[name]!, golden.state[name]!.data).map { $0 + 2 * ErrorBound.gamma(2) * 0.9 * Double(abs($1)) }
            expectClose(state[name]!.scalars, expected.data, bound: bound, floor: floor, "\(name) after the forward")
        }
    }
}
