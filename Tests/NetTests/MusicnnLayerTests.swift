import GenreCore
import Foundation
import Testing
@testable import Net

/// The layers the musicnn "MSD_vgg" network needs (rectangular max pooling, batch norm with its own epsilon, the
/// linear layer with sigmoid outputs appended to its input), the sigmoid output of a ``ModelSpec``, and
/// ``ModelSpec/musicnnVGG(tags:filters:inputShape:)`` itself.
@Suite struct MusicnnLayerTests {
    static let tolerance = GradientCheckTests.tolerance

    // MARK: Rectangular max pooling

    @Test func rectangularPoolShapeAndValuesMatchAHandComputation() {
        // [C 2, H 3, W 9], windows 1 (height) x 4 (width), strides 2 x 2: H' = (3 - 1) / 2 + 1 = 2,
        // W' = (9 - 4) / 2 + 1 = 3. Output (c, i, j) = max of row 2i, columns 2j ..< 2j + 4.
        let pool = MaxPool2D(inputShape: [2, 3, 9], kernelHeight: 1, kernelWidth: 4, strideHeight: 2, strideWidth: 2)
        #expect(pool.outputShape == [2, 2, 3])
        let x = Harness.distinct(2 * 2 * 27, seed: 51)
        let y = Harness.forward(pool, x, batch: 2)
        var expected = [Float]()
        for n in 0..<2 {
            for c in 0..<2 {
                for i in 0..<2 {
                    for j in 0..<3 {
                        let row = ((n * 2 + c) * 3 + 2 * i) * 9
                        expected.append(x[(row + 2 * j)..<(row + 2 * j + 4)].max()!)
                    }
                }
            }
        }
        #expect(y == expected)
        // A concrete plane: row 0 of 0...8 gives windows [0..3], [2..5], [4..7] -> 3, 5, 7; row 2 -> 21, 23, 25.
        let ramp = (0..<27).map(Float.init)
        #expect(Harness.forward(MaxPool2D(inputShape: [1, 3, 9], kernelHeight: 1, kernelWidth: 4, strideHeight: 2, strideWidth: 2), ramp, batch: 1)
                == [3, 5, 7, 21, 23, 25])
    }

    @Test func rectangularPoolSpecBuildsAndValidates() throws {
        let spec = ModelSpec(
            inputShape: [1, 96, 187], layers: [.maxPool2dRect(kernelHeight: 1, kernelWidth: 4, strideHeight: 2, strideWidth: 2), .flatten],
            classes: 48 * 92)
        let model = try Sequential(spec: spec, seed: 0)
        #expect(model.layers[0].outputShape == [1, 48, 92])
        #expect(model.summary.contains("0 maxPool2dRect(kernelHeight: 1, kernelWidth: 4, strideHeight: 2, strideWidth: 2) -> [1, 48, 92]"))
        let tooWide = ModelSpec(
            inputShape: [1, 4, 3], layers: [.maxPool2dRect(kernelHeight: 1, kernelWidth: 4, strideHeight: 1, strideWidth: 1), .flatten],
            classes: 4)
        #expect(throws: NetError.invalidLayer(
            index: 0, layer: "maxPool2dRect(kernelHeight: 1, kernelWidth: 4, strideHeight: 1, strideWidth: 1)",
            reason: "a 1x4 window does not fit the 4x3 input")) { try Sequential(spec: tooWide, seed: 0) }
        let zeroStride = ModelSpec(
            inputShape: [1, 4, 4], layers: [.maxPool2dRect(kernelHeight: 1, kernelWidth: 2, strideHeight: 0, strideWidth: 1), .flatten],
            classes: 4)
        #expect(throws: NetError.self) { try Sequential(spec: zeroStride, seed: 0) }
    }

    @Test(arguments: [(1, 4, 2, 2), (3, 2, 1, 2), (2, 3, 2, 1), (4, 4, 4, 4)])
    func rectangularPoolGradient(kernelHeight: Int, kernelWidth: Int, strideHeight: Int, strideWidth: Int) {
        let pool = MaxPool2D(
            inputShape: [2, 7, 9], kernelHeight: kernelHeight, kernelWidth: kernelWidth, strideHeight: strideHeight, strideWidth: strideWidth)
        let x = Harness.distinct(2 * 2 * 63, seed: 52)
        let errors = Harness.gradientErrors(pool, parameters: [], input: x, batch: 2, epsilon: 1e-3)
        #expect(errors.input <= Self.tolerance, "\(kernelHeight)x\(kernelWidth)/\(strideHeight)x\(strideWidth): \(errors.input)")
    }

    @Test func squarePoolSpecIsTheRectangularOneWithEqualSides() {
        let x = Harness.normals(2 * 3 * 42, seed: 53)
        for (k, s) in [(2, 2), (3, 2), (4, 4)] {
            let square = MaxPool2D(inputShape: [3, 7, 6], kernel: k, stride: s)
            let general = MaxPool2D(inputShape: [3, 7, 6], kernelHeight: k, kernelWidth: k, strideHeight: s, strideWidth: s)
            #expect(Harness.forward(square, x, batch: 2) == Harness.forward(general, x, batch: 2))
        }
    }

    // MARK: Batch norm epsilon

    @Test func batchNormEpsilonIsUsedInEvaluationAndTraining() throws {
        // Running variance 0.004: 1/sqrt(0.004 + 0.001) differs from 1/sqrt(0.004 + 1e-5) by 11%.
        let bn = BatchNorm2D(name: "0.bn", inputShape: [1, 2, 2], epsilon: 0.001)
        bn.runningMean.values[0] = 0.5
        bn.runningVariance.values[0] = 0.004
        bn.gamma.values[0] = 2
        bn.beta.values[0] = -1
        let x: [Float] = [0.4, 0.5, 0.6, 0.7]
        let y = Harness.forward(bn, x, batch: 1, training: false)
        for (xi, yi) in zip(x, y) {
            let exact = 2 * (Double(xi) - 0.5) / (Double(Float(0.004)) + 0.001).squareRoot() - 1
            #expect(abs(Double(yi) - exact) <= 1e-5 * (abs(exact) + 1), "\(yi) vs \(exact)")
        }
        // Training: batch variance of x is 0.0125; eps enters the normalisation.
        let trained = Harness.forward(BatchNorm2D(name: "0.bn", inputShape: [1, 2, 2], epsilon: 0.001), x, batch: 1)
        let inverse = 1 / (0.0125 + 0.001).squareRoot()
        for (xi, yi) in zip(x, trained) {
            let exact = (Double(xi) - 0.55) * inverse
            #expect(abs(Double(yi) - exact) <= 1e-5 * (abs(exact) + 1), "\(yi) vs \(exact)")
        }
        // The spec case builds a batch norm with that epsilon and the usual names; .batchNorm2d keeps 1e-5.
        let spec = ModelSpec(inputShape: [2, 3, 3], layers: [.batchNorm2dEpsilon(0.001), .batchNorm2d, .flatten], classes: 18)
        let model = try Sequential(spec: spec, seed: 0)
        #expect((model.layers[0] as? BatchNorm2D)?.epsilon == 0.001 && (model.layers[1] as? BatchNorm2D)?.epsilon == 1e-5)
        #expect(Set(model.stateDictionary().keys).isSuperset(of: ["0.bn.weight", "0.bn.bias", "0.bn.running_mean", "0.bn.running_var"]))
        let bad = ModelSpec(inputShape: [2, 3, 3], layers: [.batchNorm2dEpsilon(0), .flatten], classes: 18)
        #expect(throws: NetError.invalidLayer(index: 0, layer: "batchNorm2dEpsilon(0.0)", reason: "epsilon must be a positive finite number, got 0.0")) {
            try Sequential(spec: bad, seed: 0)
        }
    }

    @Test func batchNormEpsilonGradient() {
        let bn = BatchNorm2D(name: "3.bn", inputShape: [3, 5, 6], epsilon: 0.001)
        for c in 0..<3 {
            bn.gamma.values[c] = 0.5 + Float(c) * 0.4
            bn.beta.values[c] = Float(c) * 0.2 - 0.1
        }
        // Small per-channel spreads so that epsilon is not negligible against the variance.
        var x = Harness.normals(2 * 3 * 30, seed: 54)
        for n in 0..<2 { for c in 0..<3 { for i in 0..<30 { x[(n * 3 + c) * 30 + i] = x[(n * 3 + c) * 30 + i] * 0.05 * Float(c + 1) + Float(c) } } }
        let errors = Harness.gradientErrors(bn, parameters: bn.parameters, input: x, batch: 2, epsilon: 1e-3)
        #expect(errors.input <= Self.tolerance, "dX error / bound \(errors.input)")
        for (name, error) in errors.parameters { #expect(error <= Self.tolerance, "\(name) error / bound \(error)") }
    }

    // MARK: Linear with sigmoid appended

    @Test func linearSigmoidAppendedForward() {
        var g = SplitMix64(seed: 55)
        let layer = LinearSigmoidAppended(name: "27.linear", inFeatures: 5, outFeatures: 3, generator: &g)
        #expect(layer.outputShape == [8] && layer.weight.shape == [3, 5] && layer.bias.shape == [3])
        #expect(layer.parameters.map(\.name) == ["27.linear.weight", "27.linear.bias"])
        for j in 0..<3 { layer.bias.values[j] = Float(j) - 1 }
        let x = Harness.normals(2 * 5, seed: 56)
        let y = Harness.forward(layer, x, batch: 2)
        for n in 0..<2 {
            #expect(Array(y[(n * 8)..<(n * 8 + 5)]) == Array(x[(n * 5)..<(n * 5 + 5)]), "the input is passed through unchanged")
            for j in 0..<3 {
                var z = Double(layer.bias.values[j]), magnitude = abs(z)
                for i in 0..<5 {
                    z += Double(layer.weight.values[j * 5 + i]) * Double(x[n * 5 + i])
                    magnitude += abs(Double(layer.weight.values[j * 5 + i]) * Double(x[n * 5 + i]))
                }
                let s = 1 / (1 + exp(-z))
                // The sum's rounding moves s by at most s(1 - s)·γ(6)·magnitude; exp and the quotient by a few ulps.
                let bound = s * (1 - s) * ErrorBound.sum(count: 6, absoluteSum: magnitude) + ErrorBound.gamma(6) * s
                #expect(abs(Double(y[n * 8 + 5 + j]) - s) <= bound, "sample \(n) tag \(j)")
            }
        }
    }

    @Test func linearSigmoidAppendedGradient() {
        var g = SplitMix64(seed: 57)
        let layer = LinearSigmoidAppended(name: "27.linear", inFeatures: 6, outFeatures: 4, generator: &g)
        for j in 0..<4 { layer.bias.values[j] = Float(j) * 0.3 - 0.4 }
        let x = Harness.normals(3 * 6, seed: 58, scale: 0.7)
        let errors = Harness.gradientErrors(layer, parameters: layer.parameters, input: x, batch: 3)
        #expect(errors.input <= Self.tolerance, "dX \(errors.input)")
        for (name, error) in errors.parameters { #expect(error <= Self.tolerance, "\(name) error / bound \(error)") }
    }

    @Test func linearSigmoidAppendedSpecNeedsFlatInput() throws {
        let spec = ModelSpec(inputShape: [2, 2, 2], layers: [.flatten, .linearSigmoidAppended(outFeatures: 3), .linear(outFeatures: 4)], classes: 4)
        let model = try Sequential(spec: spec, seed: 1)
        #expect(model.layers[1].outputShape == [11])
        #expect(model.parameters.map(\.name) == ["1.linear.weight", "1.linear.bias", "2.linear.weight", "2.linear.bias"])
        #expect(model.parameters[2].shape == [4, 11])
        let onImage = ModelSpec(inputShape: [2, 2, 2], layers: [.linearSigmoidAppended(outFeatures: 3)], classes: 11)
        #expect(throws: NetError.self) { try Sequential(spec: onImage, seed: 1) }
    }

    // MARK: Sigmoid output

    @Test func sigmoidIsStableAndMatchesTheFormula() {
        #expect(ModelSpec.sigmoid(Float(0)) == 0.5)
        for x: Float in [-100, -20, -3, -0.5, 0.5, 3, 20, 100] {
            let exact = 1 / (1 + exp(-Double(x)))
            #expect(abs(Double(ModelSpec.sigmoid(x)) - exact) <= 4 * ErrorBound.unitRoundoff * exact + ErrorBound.underflow(operations: 4), "\(x)")
        }
        #expect(ModelSpec.sigmoid(-Float.greatestFiniteMagnitude) == 0 && ModelSpec.sigmoid(Float.greatestFiniteMagnitude) == 1)
        let logits = Tensor(shape: [2, 2], scalars: [0, 2, -2, 0])
        let spec = ModelSpec(inputShape: [1, 1, 2], layers: [.flatten], classes: 2, output: .sigmoid)
        let p = spec.probabilities(logits)
        #expect(p.shape == [2, 2] && p.scalars[0] == 0.5 && abs(p.scalars[1] + p.scalars[2] - 1) < 1e-6)
        var softmaxSpec = spec
        softmaxSpec.output = .softmax
        let q = softmaxSpec.probabilities(logits)
        #expect(abs(q.scalars[0] + q.scalars[1] - 1) < 1e-6 && abs(Double(q.scalars[1]) - 1 / (1 + exp(-2))) < 1e-6)
    }

    // MARK: musicnnVGG

    @Test func musicnnVGGLayersNamesAndShapes() throws {
        let spec = ModelSpec.musicnnVGG(filters: 4)
        #expect(spec.layers.count == 28 && spec.classes == 50 && spec.output == .sigmoid && spec.inputShape == [1, 96, 187])
        #expect(ModelSpec.musicnnBodyLayerCount == 27)
        #expect(spec.layers[0] == .batchNorm2dEpsilon(0.001))
        #expect(spec.layers[1...5] == [
            .conv2d(outChannels: 4, kernel: 3, padding: 1, stride: 1), .relu, .batchNorm2dEpsilon(0.001),
            .maxPool2dRect(kernelHeight: 1, kernelWidth: 4, strideHeight: 2, strideWidth: 2), .dropout(0.25),
        ])
        #expect(spec.layers[9] == .maxPool2d(kernel: 2, stride: 2) && spec.layers[24] == .maxPool2d(kernel: 4, stride: 4))
        #expect(spec.layers[25...27] == [.flatten, .dropout(0.5), .linear(outFeatures: 50)])
        let model = try Sequential(spec: spec, seed: 3)
        let shapes = model.layers.map(\.outputShape)
        #expect(shapes[4] == [4, 48, 92] && shapes[9] == [4, 24, 46] && shapes[14] == [4, 12, 23] && shapes[19] == [4, 6, 11])
        #expect(shapes[24] == [4, 1, 2] && shapes[25] == [8] && shapes[27] == [50])
        let state = model.stateDictionary()
        #expect(state["0.bn.running_var"]?.shape == [1] && state["1.conv.weight"]?.shape == [4, 1, 3, 3])
        #expect(state["6.conv.weight"]?.shape == [4, 4, 3, 3] && state["23.bn.running_mean"]?.shape == [4])
        #expect(state["27.linear.weight"]?.shape == [50, 8] && state["27.linear.bias"]?.shape == [50])
        let expectedNames = ["0.bn"] + [1, 6, 11, 16, 21].flatMap { ["\($0).conv", "\($0 + 2).bn"] } + ["27.linear"]
        #expect(Set(state.keys.map { $0.split(separator: ".").prefix(2).joined(separator: ".") }) == Set(expectedNames))

        // The default width: 256 flattened features, as the TensorFlow model's pool5.
        let full = try Sequential(spec: .musicnnVGG(), seed: 3)
        #expect(full.layers[25].outputShape == [256] && full.parameters.first { $0.name == "1.conv.weight" }?.shape == [128, 1, 3, 3])
    }

    @Test func musicnnVGGForwardAndBackwardShapes() throws {
        let model = try Sequential(spec: .musicnnVGG(filters: 4), seed: 4)
        model.parallelism = .batch(threads: 2)
        var g = SplitMix64(seed: 5)
        let x = Tensor(shape: [2, 1, 96, 187], normalStandardDeviation: 1, generator: &g)
        let logits = model.forward(x, training: false)
        #expect(logits.shape == [2, 50] && logits.scalars.allSatisfy(\.isFinite))
        let probabilities = model.spec.probabilities(logits)
        #expect(probabilities.scalars.allSatisfy { $0 > 0 && $0 < 1 })
        let trainLogits = model.forward(x, training: true)
        #expect(trainLogits.shape == [2, 50])
        model.zeroGradients()
        model.backward(Tensor(shape: [2, 50], normalStandardDeviation: 1, generator: &g))
        #expect(model.parameters.allSatisfy { $0.gradient.scalars.allSatisfy(\.isFinite) })
        #expect(model.parameters.first { $0.name == "1.conv.weight" }!.gradient.scalars.contains { $0 != 0 })
    }

    @Test func probeAndFineTuneModelsBuildOnTheBody() throws {
        let body = Array(ModelSpec.musicnnVGG(filters: 4).layers.prefix(ModelSpec.musicnnBodyLayerCount))
        let probe = ModelSpec(inputShape: [1, 96, 187], layers: body + [.linearSigmoidAppended(outFeatures: 50), .linear(outFeatures: 10)], classes: 10)
        let model = try Sequential(spec: probe, seed: 1)
        #expect(model.layers[27].outputShape == [58] && model.parameters.last?.shape == [10])
        #expect(model.parameters.first { $0.name == "28.linear.weight" }?.shape == [10, 58])
        let fineTune = ModelSpec(inputShape: [1, 96, 187], layers: body + [.linear(outFeatures: 10)], classes: 10)
        #expect(try Sequential(spec: fineTune, seed: 1).parameters.last?.name == "27.linear.bias")
    }

    // MARK: Codable

    @Test func musicnnSpecRoundTripsThroughJSON() throws {
        let spec = ModelSpec.musicnnVGG(tags: 50, filters: 8)
        let data = try JSONEncoder().encode(spec)
        #expect(try JSONDecoder().decode(ModelSpec.self, from: data) == spec)
        let object = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        #expect(object["output"] as? String == "sigmoid")
        let layersJSON = #"[{"maxPool2dRect":{"kernelHeight":1,"kernelWidth":4,"strideHeight":2,"strideWidth":2}},{"batchNorm2dEpsilon":{"_0":0.001}},{"linearSigmoidAppended":{"outFeatures":50}}]"#
        #expect(try JSONDecoder().decode([LayerSpec].self, from: Data(layersJSON.utf8))
                == [.maxPool2dRect(kernelHeight: 1, kernelWidth: 4, strideHeight: 2, strideWidth: 2), .batchNorm2dEpsilon(0.001), .linearSigmoidAppended(outFeatures: 50)])
    }

    @Test func oldJSONWithoutOutputDecodesAsSoftmaxAndSoftmaxEncodesWithoutTheKey() throws {
        let decoded = try JSONDecoder().decode(ModelSpec.self, from: Data(ModelVariantTests.oldCheckpointSpecJSON.utf8))
        #expect(decoded.output == .softmax)
        let object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(decoded)) as! [String: Any]
        #expect(object["output"] == nil)
        let explicit = #"{"inputShape":[1,2,2],"layers":[{"flatten":{}}],"classes":4,"output":"softmax"}"#
        #expect(try JSONDecoder().decode(ModelSpec.self, from: Data(explicit.utf8)).output == .softmax)
        let unknown = #"{"inputShape":[1,2,2],"layers":[{"flatten":{}}],"classes":4,"output":"tanh"}"#
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(ModelSpec.self, from: Data(unknown.utf8)) }
        #expect(OutputActivation.allCases.map(\.rawValue) == ["softmax", "sigmoid"])
    }
}
