import GenreCore
import Foundation
import Testing
@testable import Net

@Suite struct SequentialTests {
    @Test func genreCNNShapesNamesAndInitialisation() throws {
        let spec = ModelSpec.genreCNN(classes: 10)
        #expect(spec.layers.count == 19 && spec.inputShape == [1, 128, 128] && spec.classes == 10)
        let model = try Sequential(spec: spec, seed: 42)
        #expect(model.stages.count == 4 + 3, "four fused conv blocks, then pool, dropout, linear")
        let names = model.parameters.map(\.name)
        #expect(names.prefix(4) == ["0.conv.weight", "0.conv.bias", "1.bn.weight", "1.bn.bias"])
        #expect(names.last == "18.linear.bias")
        #expect(model.parameters.first { $0.name == "12.conv.weight" }?.shape == [128, 64, 3, 3])
        #expect(model.parameters.first { $0.name == "18.linear.weight" }?.shape == [10, 128])
        // (144+16 + 2·16) + (4608+32 + 2·32) + (18432+64 + 2·64) + (73728+128 + 2·128) + (1280+10), as PyTorch counts
        #expect(model.parameterCount == 98_922)
        let state = model.stateDictionary()
        #expect(state.count == names.count + 8)
        #expect(state["5.bn.running_var"]?.scalars == [Float](repeating: 1, count: 32))
        #expect(state["5.bn.running_mean"]?.scalars == [Float](repeating: 0, count: 32))
        #expect(state["1.bn.weight"]?.scalars == [Float](repeating: 1, count: 16))
        #expect(state["8.conv.bias"]?.scalars == [Float](repeating: 0, count: 64))
        // He-normal: standard deviation sqrt(2 / fan_in) = sqrt(2 / 576) for the last conv.
        let w = state["12.conv.weight"]!.scalars
        let mean = w.reduce(0.0) { $0 + Double($1) } / Double(w.count)
        let std = (w.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(w.count)).squareRoot()
        #expect(abs(mean) < 0.002 && abs(std / (2.0 / 576).squareRoot() - 1) < 0.02, "mean \(mean) std \(std)")
        #expect(model.summary.contains("18 linear(outFeatures: 10) -> [10]"))
    }

    @Test func forwardGivesLogitsPerSample() throws {
        let model = try Sequential(spec: .genreCNN(classes: 4, inputShape: [1, 32, 48]), seed: 1)
        var g = SplitMix64(seed: 3)
        let x = Tensor(shape: [3, 1, 32, 48], normalStandardDeviation: 1, generator: &g)
        let logits = model.forward(x, training: false)
        #expect(logits.shape == [3, 4])
        #expect(logits.scalars.allSatisfy { $0.isFinite })
        // Evaluation is deterministic and per-sample (independent of the rest of the batch).
        let single = Tensor(shape: [1, 1, 32, 48], scalars: Array(x.scalars[1536..<3072]))
        let alone = model.forward(single, training: false)
        // The same sums in another grouping (a batch of 1 against 3 in the matrix products): within the rounding bound.
        let bounds = RoundingBounds(stages: model.stages, input: single.scalars, batch: 1, training: false, objective: .none)
        expectClose(alone.scalars, Array(logits.scalars[4..<8]), bound: bounds.logits, "sample 1 alone vs in the batch")
        #expect(model.forward(x, training: false) == logits)
    }

    @Test func invalidSpecsNameTheLayer() {
        func error(_ spec: ModelSpec) -> String {
            do {
                _ = try Sequential(spec: spec, seed: 0)
                return "no error"
            } catch { return error.description }
        }
        let linearOnImage = ModelSpec(inputShape: [1, 8, 8], layers: [.conv2d(outChannels: 2, kernel: 3, padding: 1, stride: 1), .linear(outFeatures: 3)], classes: 3)
        #expect(error(linearOnImage).hasPrefix("Net: layer 1 (linear(outFeatures: 3)): needs a flat [features] input, got [2, 8, 8]"))
        let poolTooBig = ModelSpec(inputShape: [1, 4, 4], layers: [.maxPool2d(kernel: 2, stride: 2), .maxPool2d(kernel: 2, stride: 2), .maxPool2d(kernel: 2, stride: 2), .flatten, .linear(outFeatures: 2)], classes: 2)
        #expect(error(poolTooBig) == "Net: layer 2 (maxPool2d(kernel: 2, stride: 2)): a 2x2 window does not fit the 1x1 input")
        let wrongClasses = ModelSpec(inputShape: [1, 4, 4], layers: [.flatten, .linear(outFeatures: 5)], classes: 3)
        #expect(error(wrongClasses) == "Net: invalid model: the last layer produces [5] per sample, expected [3] logits (classes)")
        #expect(error(ModelSpec(inputShape: [4, 4], layers: [.flatten], classes: 16)).contains("inputShape must be [channels, height, width]"))
        #expect(error(ModelSpec(inputShape: [1, 4, 4], layers: [.dropout(1), .flatten, .linear(outFeatures: 2)], classes: 2))
            == "Net: layer 0 (dropout(1.0)): the drop probability must be in [0, 1), got 1.0")
        #expect(error(ModelSpec(inputShape: [1, 4, 4], layers: [.conv2d(outChannels: 2, kernel: 7, padding: 1, stride: 1)], classes: 2))
            .contains("layer 0 (conv2d(outChannels: 2, kernel: 7, padding: 1, stride: 1)): a 7x7 kernel does not fit"))
        #expect(error(ModelSpec(inputShape: [1, 4, 4], layers: [.flatten, .batchNorm2d], classes: 16)).contains("layer 1 (batchNorm2d): needs a [channels, height, width] input"))
    }

    @Test func specIsCodable() throws {
        let spec = ModelSpec.genreCNN(classes: 7, inputShape: [1, 96, 130])
        let data = try JSONEncoder().encode(spec)
        #expect(try JSONDecoder().decode(ModelSpec.self, from: data) == spec)
    }

    @Test func stateDictionaryRoundTripsAndLoadValidatesFirst() throws {
        let spec = FusionTests.spec
        let source = try Sequential(spec: spec, seed: 1)
        var g = SplitMix64(seed: 2)
        let x = Tensor(shape: [2, 2, 12, 10], normalStandardDeviation: 1, generator: &g)
        _ = source.forward(x, training: true)  // moves the running statistics away from 0 / 1
        let state = source.stateDictionary()
        let target = try Sequential(spec: spec, seed: 99)
        #expect(target.forward(x, training: false) != source.forward(x, training: false))
        try target.load(stateDictionary: state)
        #expect(target.stateDictionary() == state)
        #expect(target.forward(x, training: false) == source.forward(x, training: false))

        let other = try Sequential(spec: spec, seed: 7)
        let before = other.stateDictionary()
        var missing = state
        missing["5.bn.running_var"] = nil
        #expect(throws: NetError.missingState(name: "5.bn.running_var")) { try other.load(stateDictionary: missing) }
        var extra = state
        extra["11.linear.weight"] = Tensor(shape: [1])
        #expect(throws: NetError.unexpectedState(name: "11.linear.weight")) { try other.load(stateDictionary: extra) }
        var wrongShape = state
        wrongShape["10.linear.weight"] = Tensor(shape: [6, 3])
        #expect(throws: NetError.stateShapeMismatch(name: "10.linear.weight", expected: [3, 6], found: [6, 3])) {
            try other.load(stateDictionary: wrongShape)
        }
        var notFinite = state
        notFinite["0.conv.bias"] = Tensor(shape: [4], scalars: [0, .nan, 0, 0])
        #expect(throws: NetError.nonFiniteState(name: "0.conv.bias")) { try other.load(stateDictionary: notFinite) }
        #expect(other.stateDictionary() == before, "a failed load must not change the model")
        #expect(NetError.stateShapeMismatch(name: "a", expected: [3], found: [4]).description == "Net: state entry 'a' has shape [4], the model needs [3]")
    }

    @Test func gradientsAccumulateUntilZeroed() throws {
        let model = try Sequential(spec: FusionTests.spec, seed: 3)
        var g = SplitMix64(seed: 4)
        let x = Tensor(shape: [2, 2, 12, 10], normalStandardDeviation: 1, generator: &g)
        let logits = model.forward(x, training: true)
        let gradient = SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: [0, 1]).gradient
        model.zeroGradients()
        model.backward(gradient)
        let once = model.parameters.map { $0.gradient.scalars }
        let bounds = RoundingBounds(stages: model.stages, input: x.scalars, batch: 2, objective: .crossEntropy(labels: [0, 1]))
        model.backward(gradient)
        for (p, g1) in zip(model.parameters, once) {
            // Accumulating (C = A·B + C in the same products) rounds differently from 2·(A·B): each is within
            // the rounding bound of the gradient.
            expectClose(p.gradient.scalars, g1.map { 2 * $0 }, bound: bounds.gradients[p.name]!.map { 2 * $0 },
                        floor: ErrorBound.underflow(operations: 1000), "\(p.name)")
        }
        model.zeroGradients()
        #expect(model.parameters.allSatisfy { $0.gradient.scalars.allSatisfy { $0 == 0 } })
    }

    @Test func parallelismModesAgree() throws {
        let spec = ModelSpec.genreCNN(classes: 3, inputShape: [1, 32, 32])
        var g = SplitMix64(seed: 5)
        let x = Tensor(shape: [5, 1, 32, 32], normalStandardDeviation: 1, generator: &g)
        var results = [[Float]]()
        for parallelism in [Parallelism.batch(threads: 1), .batch(threads: 2), .batch(threads: 3), .blas(threads: 1)] {
            let model = try Sequential(spec: spec, seed: 6)
            model.parallelism = parallelism
            let logits = model.forward(x, training: true)
            model.backward(SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: [0, 1, 2, 0, 1]).gradient)
            results.append(logits.scalars + model.parameters.flatMap { $0.gradient.scalars })
            model.parallelism = .batch(threads: 2)
        }
        // Fixed chunks and per-chunk partial sums: bit-identical whatever the thread count.
        for r in results.dropFirst() { #expect(r == results[0]) }
    }
}
