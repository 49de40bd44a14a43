import Foundation
import GenreCore
import Testing
@testable import Net

/// The model variants of issue 9: global max and average+max pooling, the residual block, and
/// `ModelSpec.genreCNN(classes:inputShape:channels:kernel:block:pool:dropout:)`. Gradients against finite
/// differences (``Harness/gradientErrors``), forward and backward against PyTorch
/// (`scripts/make_variant_golden.py`, `Golden/residual_average_max.json`), spec decoding of old checkpoints,
/// state round trips and deterministic initialisation.
@Suite struct ModelVariantTests {
    static let tolerance = GradientCheckTests.tolerance

    // MARK: Global pooling

    @Test func globalMaxPoolGradientAndValues() {
        let x = Harness.distinct(2 * 3 * 30, seed: 31)
        let pool = GlobalMaxPool(inputShape: [3, 5, 6])
        #expect(pool.outputShape == [3])
        let errors = Harness.gradientErrors(pool, parameters: [], input: x, batch: 2, epsilon: 1e-3)
        #expect(errors.input <= Self.tolerance, "dX \(errors.input)")
        let y = Harness.forward(pool, x, batch: 2)
        #expect(y == (0..<6).map { plane in x[(plane * 30)..<((plane + 1) * 30)].max()! })
    }

    @Test func globalMaxPoolTiesGoToTheFirstMaximum() {
        let pool = GlobalMaxPool(inputShape: [1, 2, 2])
        for (x, expected) in [([Float](arrayLiteral: 5, 5, 5, 5), 0), ([1, 3, 3, 0], 1), ([1, 0, 3, 3], 2), ([-1, -2, -3, -1], 0)] {
            let dx = Harness.backward(pool, x, gradOutput: [2], batch: 1)
            #expect(dx == (0..<4).map { $0 == expected ? 2 : 0 }, "\(x)")
        }
    }

    @Test func globalAverageMaxPoolGradientAndLayout() {
        let x = Harness.distinct(2 * 3 * 30, seed: 32)
        let pool = GlobalAverageMaxPool(inputShape: [3, 5, 6])
        #expect(pool.outputShape == [6])
        let errors = Harness.gradientErrors(pool, parameters: [], input: x, batch: 2, epsilon: 1e-3)
        #expect(errors.input <= Self.tolerance, "dX \(errors.input)")
        // Per sample: the 3 means, then the 3 maxima; the means as GlobalAveragePool computes them.
        let y = Harness.forward(pool, x, batch: 2)
        let means = Harness.forward(GlobalAveragePool(inputShape: [3, 5, 6]), x, batch: 2)
        let maxima = Harness.forward(GlobalMaxPool(inputShape: [3, 5, 6]), x, batch: 2)
        #expect(y == Array(means[0..<3] + maxima[0..<3] + means[3..<6] + maxima[3..<6]))
        // Backward adds both parts: dy_mean / 4 everywhere, dy_max at the maximum.
        let dx = Harness.backward(GlobalAverageMaxPool(inputShape: [1, 2, 2]), [1, 4, 2, 3], gradOutput: [8, 1], batch: 1)
        #expect(dx == [2, 3, 2, 2])
    }

    /// The 2x2 stride-2 max pooling that follows every residual block runs a vectorised path: the same values and
    /// winners as the general rule (first maximum in row-major order, a NaN wins), with ties and NaNs, on widths
    /// that use both the 4-window lanes and the scalar tail.
    @Test(arguments: [[2, 9, 13], [1, 4, 8], [3, 6, 5]])
    func maxPool2x2FastPathMatchesTheGeneralRule(shape: [Int]) {
        let (c, h, w) = (shape[0], shape[1], shape[2])
        var g = SplitMix64(seed: 61)
        // Few distinct levels (many ties) and some NaNs.
        let x: [Float] = (0..<(2 * c * h * w)).map { _ in
            let r = g.next() % 20
            return r == 0 ? .nan : Float(r % 4) - 1
        }
        let pool = MaxPool2D(inputShape: shape, kernel: 2, stride: 2)
        let (oh, ow) = (h / 2, w / 2)
        var expectedValue = [Float](), expectedWinner = [Int]()
        for plane in 0..<(2 * c) {
            for oy in 0..<oh {
                for ox in 0..<ow {
                    var best = plane * h * w + 2 * oy * w + 2 * ox
                    for (dy, dx) in [(0, 1), (1, 0), (1, 1)] {
                        let at = plane * h * w + (2 * oy + dy) * w + 2 * ox + dx
                        if x[at] > x[best] || x[at].isNaN { best = at }
                    }
                    expectedValue.append(x[best])
                    expectedWinner.append(best)
                }
            }
        }
        let y = Harness.forward(pool, x, batch: 2)
        #expect(y.map(\.bitPattern) == expectedValue.map(\.bitPattern))
        // The winners, through backward: output element i's gradient 1 + i lands on its winner alone.
        let dy = (0..<y.count).map { Float(1 + $0) }
        let dx = Harness.backward(pool, x, gradOutput: dy, batch: 2)
        var expectedDx = [Float](repeating: 0, count: x.count)
        for (i, winner) in expectedWinner.enumerated() { expectedDx[winner] += dy[i] }
        #expect(dx == expectedDx)
    }

    // MARK: Residual block

    struct ResidualCase: CustomTestStringConvertible, Sendable {
        let inChannels: Int, outChannels: Int, size: Int, kernel: Int, seed: UInt64
        var testDescription: String { "Cin \(inChannels) Cout \(outChannels) \(size)x\(size) k\(kernel)" }
    }

    /// A residual block with non-trivial batch-norm affine parameters and conv biases.
    static func residualBlock(_ c: ResidualCase) -> ResidualBlock {
        var g = SplitMix64(seed: c.seed)
        let block = ResidualBlock(
            name: "0.residual", inputShape: [c.inChannels, c.size, c.size], outChannels: c.outChannels, kernel: c.kernel,
            generator: &g)
        var norms = [block.norm1, block.norm2]
        if let shortcut = block.shortcut { norms.append(shortcut.norm) }
        for (k, norm) in norms.enumerated() {
            for ch in 0..<norm.channels {
                norm.gamma.values[ch] = 0.7 + 0.2 * Float(ch) + 0.1 * Float(k)
                norm.beta.values[ch] = 0.3 - 0.15 * Float(ch) + 0.05 * Float(k)
            }
        }
        for conv in [block.conv1, block.conv2] + (block.shortcut.map { [$0.conv] } ?? []) {
            for o in 0..<conv.outChannels { conv.bias.values[o] = 0.1 * Float(o) - 0.05 }
        }
        return block
    }

    @Test(arguments: [
        ResidualCase(inChannels: 2, outChannels: 3, size: 6, kernel: 3, seed: 41),  // projection shortcut
        ResidualCase(inChannels: 3, outChannels: 3, size: 6, kernel: 3, seed: 42),  // identity shortcut
        ResidualCase(inChannels: 1, outChannels: 2, size: 5, kernel: 5, seed: 43),
        ResidualCase(inChannels: 2, outChannels: 2, size: 4, kernel: 1, seed: 44),
    ])
    func residualBlockGradients(_ c: ResidualCase) {
        let block = Self.residualBlock(c)
        #expect(block.outputShape == [c.outChannels, c.size, c.size])
        #expect((block.shortcut == nil) == (c.inChannels == c.outChannels))
        let x = Harness.normals(2 * c.inChannels * c.size * c.size, seed: c.seed + 100)
        let errors = Harness.gradientErrors(block, parameters: block.parameters, input: x, batch: 2, epsilon: 1e-3)
        #expect(errors.input <= Self.tolerance, "dX error / bound \(errors.input)")
        #expect(errors.parameters.count == block.parameters.count)
        for (name, error) in errors.parameters { #expect(error <= Self.tolerance, "\(name) error / bound \(error)") }
    }

    /// The same cases against the block's backward evaluated in Double (``RoundingBounds``, which runs the block as
    /// its plain layers and the shortcut as a second path): a tight check, within the float32 rounding bound of one
    /// evaluation, where the finite differences above must allow for the rounding of the loss.
    @Test(arguments: [
        ResidualCase(inChannels: 2, outChannels: 3, size: 6, kernel: 3, seed: 41),
        ResidualCase(inChannels: 3, outChannels: 3, size: 6, kernel: 3, seed: 42),
        ResidualCase(inChannels: 1, outChannels: 2, size: 5, kernel: 5, seed: 43),
        ResidualCase(inChannels: 2, outChannels: 2, size: 4, kernel: 1, seed: 44),
    ])
    func residualBlockMatchesTheDoubleEvaluation(_ c: ResidualCase) {
        let block = Self.residualBlock(c)
        let x = Harness.normals(2 * c.inChannels * c.size * c.size, seed: c.seed + 100)
        let dy = Harness.normals(2 * c.outChannels * c.size * c.size, seed: c.seed + 200)
        let reference = RoundingBounds(stages: [block], input: x, batch: 2, objective: .linear(gradOutput: dy))
        // One float32 evaluation against the Double one: half the two-path bound, plus the rounding of the Double
        // reference to Float for the comparison.
        func expectNear(_ actual: [Float], _ exact: [Double], _ twoPathBound: [Double], _ what: String) {
            let bound = zip(twoPathBound, exact).map { $0 / 2 + ErrorBound.unitRoundoff * abs($1) }
            expectClose(actual, exact.map { Float($0) }, bound: bound, floor: ErrorBound.underflow(operations: 1000), "\(c.testDescription) \(what)")
        }
        expectNear(Harness.forward(block, x, batch: 2), reference.output, reference.logits, "output")
        for p in block.parameters { p.zeroGradient() }
        expectNear(Harness.backward(block, x, gradOutput: dy, batch: 2), reference.inputGradientValue, reference.inputGradient, "dX")
        for p in block.parameters { expectNear(p.gradient.scalars, reference.gradientValues[p.name]!, reference.gradients[p.name]!, p.name) }
    }

    @Test func residualBlockWithoutInputGradientStillAccumulatesParameterGradients() {
        // As the first layer of a model: backward without gradInput must give the same parameter gradients.
        for c in [ResidualCase(inChannels: 1, outChannels: 3, size: 6, kernel: 3, seed: 45),
                  ResidualCase(inChannels: 3, outChannels: 3, size: 6, kernel: 3, seed: 46)] {
            let block = Self.residualBlock(c)
            let x = Harness.normals(2 * c.inChannels * 36, seed: 47)
            let dy = Harness.normals(2 * c.outChannels * 36, seed: 48)
            _ = Harness.backward(block, x, gradOutput: dy, batch: 2)
            let withInput = block.parameters.map { $0.gradient.scalars }
            for p in block.parameters { p.zeroGradient() }
            let y = Harness.forward(block, x, batch: 2)
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeBufferPointer { yp in
                    dy.withUnsafeBufferPointer { dyp in
                        block.backward(input: xp.baseAddress!, output: yp.baseAddress!, gradOutput: dyp.baseAddress!,
                                       gradInput: nil, batch: 2, workers: Workers(count: 2))
                    }
                }
            }
            #expect(block.parameters.map { $0.gradient.scalars } == withInput, "\(c.testDescription)")
        }
    }

    @Test func residualBlockEvaluationUsesRunningStatistics() {
        let block = Self.residualBlock(ResidualCase(inChannels: 2, outChannels: 3, size: 6, kernel: 3, seed: 49))
        for (k, norm) in ([block.norm1, block.norm2, block.shortcut!.norm]).enumerated() {
            for ch in 0..<3 {
                norm.runningMean.values[ch] = 0.1 * Float(ch) - 0.1 + 0.05 * Float(k)
                norm.runningVariance.values[ch] = 0.8 + 0.2 * Float(ch)
            }
        }
        let x = Harness.normals(2 * 2 * 36, seed: 50)
        let y = Harness.forward(block, x, batch: 2, training: false)
        let bounds = RoundingBounds(stages: [block], input: x, batch: 2, training: false, objective: .none)
        expectClose(y, bounds.output.map { Float($0) }, bound: bounds.logits.map { $0 / 2 },
                    floor: ErrorBound.underflow(operations: 1000), "evaluation vs Double")
        // Per sample: a batch of one gives the same numbers.
        let single = Harness.forward(block, Array(x[72...]), batch: 1, training: false)
        expectClose(single, Array(y[108...]), bound: Array(bounds.logits[108...]), floor: ErrorBound.underflow(operations: 1000),
                    "sample 1 alone vs in the batch")
    }

    // MARK: Specs

    @Test func genreCNNDefaultsAreTheOriginalModel() {
        var layers = [LayerSpec]()
        for channels in [16, 32, 64, 128] {
            layers += [.conv2d(outChannels: channels, kernel: 3, padding: 1, stride: 1), .batchNorm2d, .relu, .maxPool2d(kernel: 2, stride: 2)]
        }
        layers += [.globalAveragePool, .dropout(0.3), .linear(outFeatures: 10)]
        let original = ModelSpec(inputShape: [1, 128, 128], layers: layers, classes: 10)
        #expect(ModelSpec.genreCNN(classes: 10) == original)
        #expect(ModelSpec.genreCNN(classes: 10, inputShape: [1, 128, 128], channels: [16, 32, 64, 128], kernel: 3, block: .plain,
                                   pool: .average, dropout: 0.3) == original)
        #expect(ModelSpec.genreCNN(classes: 10, block: .plain) == original)
    }

    @Test func genreCNNVariantsBuildTheRequestedLayers() throws {
        let spec = ModelSpec.genreCNN(
            classes: 5, inputShape: [1, 32, 40], channels: [4, 8], kernel: 5, block: .residual, pool: .averageMax, dropout: 0.2)
        #expect(spec.layers == [
            .residualBlock(outChannels: 4, kernel: 5), .maxPool2d(kernel: 2, stride: 2),
            .residualBlock(outChannels: 8, kernel: 5), .maxPool2d(kernel: 2, stride: 2),
            .globalAverageMaxPool, .dropout(0.2), .linear(outFeatures: 5),
        ])
        let model = try Sequential(spec: spec, seed: 1)
        #expect(model.layers.map(\.outputShape) == [[4, 32, 40], [4, 16, 20], [8, 16, 20], [8, 8, 10], [16], [16], [5]])
        #expect(ModelSpec.genreCNN(classes: 3, channels: [8], pool: .max).layers.suffix(3)
                == [.globalMaxPool, .dropout(0.3), .linear(outFeatures: 3)])
        let plainMax = try Sequential(spec: .genreCNN(classes: 3, inputShape: [1, 16, 16], channels: [8], kernel: 3, pool: .max), seed: 1)
        #expect(plainMax.layers.map(\.outputShape) == [[8, 16, 16], [8, 16, 16], [8, 16, 16], [8, 8, 8], [8], [8], [3]])
        #expect(plainMax.stages.count == 4, "the plain block is still fused")
    }

    @Test func residualGenreCNNShapesNamesAndParameterCount() throws {
        let spec = ModelSpec.genreCNN(classes: 10, block: .residual, pool: .averageMax)
        #expect(spec.layers.count == 4 * 2 + 3)
        let model = try Sequential(spec: spec, seed: 42)
        #expect(model.layers.map(\.outputShape).prefix(8) == [
            [16, 128, 128], [16, 64, 64], [32, 64, 64], [32, 32, 32], [64, 32, 32], [64, 16, 16], [128, 16, 16], [128, 8, 8],
        ])
        #expect(model.layers.last?.outputShape == [10] && model.layers[8].outputShape == [256])
        let names = model.parameters.map(\.name)
        #expect(names.prefix(10) == [
            "0.residual.conv1.weight", "0.residual.conv1.bias", "0.residual.bn1.weight", "0.residual.bn1.bias",
            "0.residual.conv2.weight", "0.residual.conv2.bias", "0.residual.bn2.weight", "0.residual.bn2.bias",
            "0.residual.shortcut_conv.weight", "0.residual.shortcut_conv.bias",
        ])
        #expect(names.suffix(2) == ["10.linear.weight", "10.linear.bias"])
        let shapes = Dictionary(uniqueKeysWithValues: model.parameters.map { ($0.name, $0.shape) })
        #expect(shapes["6.residual.conv1.weight"] == [128, 64, 3, 3])
        #expect(shapes["6.residual.conv2.weight"] == [128, 128, 3, 3])
        #expect(shapes["6.residual.shortcut_conv.weight"] == [128, 64, 1, 1])
        #expect(shapes["10.linear.weight"] == [10, 256])
        // Per block Cin -> C: conv1 (9·Cin·C + C), conv2 (9·C² + C), shortcut (Cin·C + C), 3 batch norms (2C each).
        func block(_ cin: Int, _ c: Int) -> Int { 9 * cin * c + c + 9 * c * c + c + cin * c + c + 6 * c }
        #expect(model.parameterCount == block(1, 16) + block(16, 32) + block(32, 64) + block(64, 128) + 256 * 10 + 10)
        let state = model.stateDictionary()
        #expect(state.count == names.count + 4 * 3 * 2)
        #expect(state["2.residual.shortcut_bn.running_var"]?.scalars == [Float](repeating: 1, count: 32))
        #expect(state["4.residual.bn2.running_mean"]?.scalars == [Float](repeating: 0, count: 64))
        // He-normal: sqrt(2 / fan_in), fan_in = 9·128 for the last block's conv2.
        let w = state["6.residual.conv2.weight"]!.scalars
        let mean = w.reduce(0.0) { $0 + Double($1) } / Double(w.count)
        let std = (w.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(w.count)).squareRoot()
        #expect(abs(mean) < 0.002 && abs(std / (2.0 / 1152).squareRoot() - 1) < 0.02, "mean \(mean) std \(std)")
        #expect(model.summary.contains("0 residualBlock(outChannels: 16, kernel: 3) -> [16, 128, 128]"))
        #expect(model.summary.contains("8 globalAverageMaxPool -> [256]"))
    }

    @Test func invalidVariantsNameTheLayer() {
        func error(_ spec: ModelSpec) -> String {
            do {
                _ = try Sequential(spec: spec, seed: 0)
                return "no error"
            } catch { return error.description }
        }
        #expect(error(ModelSpec(inputShape: [1, 8, 8], layers: [.residualBlock(outChannels: 2, kernel: 4), .globalMaxPool, .linear(outFeatures: 2)], classes: 2))
            == "Net: layer 0 (residualBlock(outChannels: 2, kernel: 4)): needs an odd kernel >= 1 (padding kernel / 2 keeps the size), got 4")
        #expect(error(ModelSpec(inputShape: [1, 8, 8], layers: [.residualBlock(outChannels: 0, kernel: 3), .globalMaxPool, .linear(outFeatures: 2)], classes: 2))
            == "Net: layer 0 (residualBlock(outChannels: 0, kernel: 3)): needs outChannels >= 1")
        #expect(error(ModelSpec(inputShape: [1, 4, 4], layers: [.flatten, .globalAverageMaxPool], classes: 32))
            == "Net: layer 1 (globalAverageMaxPool): needs a [channels, height, width] input, got [16]")
        #expect(error(ModelSpec(inputShape: [1, 4, 4], layers: [.flatten, .globalMaxPool], classes: 16)).contains("layer 1 (globalMaxPool): needs a [channels"))
        #expect(error(.genreCNN(classes: 4, inputShape: [1, 16, 16], channels: [4, 8, 16, 32, 64], block: .residual))
            == "Net: layer 9 (maxPool2d(kernel: 2, stride: 2)): a 2x2 window does not fit the 1x1 input")
    }

    /// The JSON a checkpoint written before the variants holds for `genreCNN(classes: 3, inputShape: [1, 64, 96])`
    /// (Swift's synthesized Codable of `ModelSpec` and `LayerSpec`, as stored in the checkpoint's `model_spec`).
    static let oldCheckpointSpecJSON = """
        {"inputShape":[1,64,96],"layers":[\
        {"conv2d":{"outChannels":16,"kernel":3,"padding":1,"stride":1}},{"batchNorm2d":{}},{"relu":{}},\
        {"maxPool2d":{"kernel":2,"stride":2}},\
        {"conv2d":{"outChannels":32,"kernel":3,"padding":1,"stride":1}},{"batchNorm2d":{}},{"relu":{}},\
        {"maxPool2d":{"kernel":2,"stride":2}},\
        {"conv2d":{"outChannels":64,"kernel":3,"padding":1,"stride":1}},{"batchNorm2d":{}},{"relu":{}},\
        {"maxPool2d":{"kernel":2,"stride":2}},\
        {"conv2d":{"outChannels":128,"kernel":3,"padding":1,"stride":1}},{"batchNorm2d":{}},{"relu":{}},\
        {"maxPool2d":{"kernel":2,"stride":2}},\
        {"globalAveragePool":{}},{"dropout":{"_0":0.3}},{"linear":{"outFeatures":3}}],"classes":3}
        """

    @Test func oldCheckpointSpecsStillDecode() throws {
        let decoded = try JSONDecoder().decode(ModelSpec.self, from: Data(Self.oldCheckpointSpecJSON.utf8))
        #expect(decoded == .genreCNN(classes: 3, inputShape: [1, 64, 96]))
        // And the old cases still encode as they did (a checkpoint written now reads in an older GenreKit).
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let reencoded = try JSONSerialization.jsonObject(with: encoder.encode(decoded)) as! NSDictionary
        let original = try JSONSerialization.jsonObject(with: Data(Self.oldCheckpointSpecJSON.utf8)) as! NSDictionary
        #expect(reencoded == original)
    }

    @Test func newLayersAndOptionsRoundTripThroughJSON() throws {
        for block in ConvBlockKind.allCases {
            for pool in GlobalPoolKind.allCases {
                let spec = ModelSpec.genreCNN(classes: 4, inputShape: [1, 32, 32], channels: [8, 8], kernel: 5, block: block, pool: pool, dropout: 0.1)
                #expect(try JSONDecoder().decode(ModelSpec.self, from: JSONEncoder().encode(spec)) == spec)
            }
        }
        let json = #"[{"residualBlock":{"outChannels":8,"kernel":3}},{"globalMaxPool":{}},{"globalAverageMaxPool":{}}]"#
        #expect(try JSONDecoder().decode([LayerSpec].self, from: Data(json.utf8))
                == [.residualBlock(outChannels: 8, kernel: 3), .globalMaxPool, .globalAverageMaxPool])
        #expect(ConvBlockKind.allCases.map(\.rawValue) == ["plain", "residual"])
        #expect(GlobalPoolKind.allCases.map(\.rawValue) == ["average", "max", "average+max"])
        #expect(try JSONDecoder().decode([GlobalPoolKind].self, from: Data(#"["average+max","max"]"#.utf8)) == [.averageMax, .max])
    }

    // MARK: Whole models

    static let smallResidualSpec = ModelSpec.genreCNN(
        classes: 3, inputShape: [1, 12, 16], channels: [4, 4, 6], kernel: 3, block: .residual, pool: .averageMax, dropout: 0.2)

    @Test func stateDictionaryRoundTripOfAResidualModel() throws {
        let spec = Self.smallResidualSpec
        let source = try Sequential(spec: spec, seed: 1)
        var g = SplitMix64(seed: 2)
        let x = Tensor(shape: [3, 1, 12, 16], normalStandardDeviation: 1, generator: &g)
        // One training step moves the parameters and the running statistics away from their initial values.
        let logits = source.forward(x, training: true)
        source.zeroGradients()
        source.backward(SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: [0, 1, 2]).gradient)
        SGD(parameters: source.parameters, learningRate: 0.1, momentum: 0, weightDecay: 0).step()
        // Through JSON, as a checkpoint stores the spec (and any serialisation of the tensors).
        let storedSpec = try JSONEncoder().encode(spec)
        let storedState = try JSONEncoder().encode(source.stateDictionary())
        let target = try Sequential(spec: JSONDecoder().decode(ModelSpec.self, from: storedSpec), seed: 99)
        #expect(target.forward(x, training: false) != source.forward(x, training: false))
        try target.load(stateDictionary: JSONDecoder().decode([String: Tensor].self, from: storedState))
        #expect(target.stateDictionary() == source.stateDictionary())
        #expect(target.forward(x, training: false) == source.forward(x, training: false))

        var missing = source.stateDictionary()
        missing["2.residual.bn2.running_var"] = nil
        #expect(throws: NetError.missingState(name: "2.residual.bn2.running_var")) { try target.load(stateDictionary: missing) }
        var wrongShape = source.stateDictionary()
        wrongShape["4.residual.shortcut_conv.weight"] = Tensor(shape: [6, 4, 3, 3])
        #expect(throws: NetError.stateShapeMismatch(name: "4.residual.shortcut_conv.weight", expected: [6, 4, 1, 1], found: [6, 4, 3, 3])) {
            try target.load(stateDictionary: wrongShape)
        }
    }

    @Test func initialisationAndTrainingAreDeterministic() throws {
        let spec = Self.smallResidualSpec
        #expect(try Sequential(spec: spec, seed: 5).stateDictionary() == Sequential(spec: spec, seed: 5).stateDictionary())
        #expect(try Sequential(spec: spec, seed: 5).stateDictionary() != Sequential(spec: spec, seed: 6).stateDictionary())
        var g = SplitMix64(seed: 7)
        let x = Tensor(shape: [5, 1, 12, 16], normalStandardDeviation: 1, generator: &g)
        var results = [[Float]]()
        for parallelism in [Parallelism.batch(threads: 1), .batch(threads: 2), .batch(threads: 3), .blas(threads: 1)] {
            let model = try Sequential(spec: spec, seed: 8)
            model.parallelism = parallelism
            model.reseedStochasticLayers(seed: 9)
            let logits = model.forward(x, training: true)
            let inputGradient = model.backward(SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: [0, 1, 2, 0, 1]).gradient, inputGradient: true)!
            results.append(logits.scalars + model.parameters.flatMap { $0.gradient.scalars } + inputGradient.scalars
                           + model.stateDictionary().sorted { $0.key < $1.key }.flatMap { $0.value.scalars })
        }
        // Fixed chunks and per-chunk partial sums: bit-identical whatever the thread count.
        for r in results.dropFirst() { #expect(r == results[0]) }
    }

    @Test func benchmarkTakesASpec() throws {
        let result = try NetBenchmark.trainingThroughput(spec: Self.smallResidualSpec, batch: 2, steps: 1, parallelism: .batch(threads: 2), warmUpSteps: 1)
        #expect(!result.trainSamplesPerSecond.isNaN && !result.evalSamplesPerSecond.isNaN)
        #expect(throws: NetError.self) {
            try NetBenchmark.trainingThroughput(spec: ModelSpec(inputShape: [1, 4, 4], layers: [.flatten], classes: 3), batch: 1, steps: 1, parallelism: .batch(threads: 1))
        }
    }
}

/// The residual + average/max golden model against PyTorch (`scripts/make_variant_golden.py`), bounded by
/// ``RoundingBounds`` as ``GoldenTests`` is.
@Suite struct ResidualGoldenTests {
    struct File: Decodable {
        let torch_version: String
        let input: Golden.Array
        let labels: [Int]
        let state: [String: Golden.Array]
        let logits: Golden.Array
        let loss: Double
        let grad_logits: Golden.Array
        let grads: [String: Golden.Array]
        let grad_input: Golden.Array
        let running_after: [String: Golden.Array]
        let eval_logits: Golden.Array
    }

    static func load() throws -> File {
        let data = try Data(contentsOf: Golden.directory.appendingPathComponent("residual_average_max.json"))
        return try JSONDecoder().decode(File.self, from: data)
    }

    /// The golden model in Net terms (see the script's docstring).
    static let spec = ModelSpec(
        inputShape: [1, 8, 8],
        layers: [
            .residualBlock(outChannels: 3, kernel: 3), .maxPool2d(kernel: 2, stride: 2), .residualBlock(outChannels: 3, kernel: 3),
            .globalAverageMaxPool, .linear(outFeatures: 4),
        ],
        classes: 4)

    static func model(_ golden: File, fusing: Bool) throws -> Sequential {
        let model = try Sequential(spec: spec, seed: 0, fusing: fusing)
        try model.load(stateDictionary: golden.state.mapValues { $0.tensor })
        return model
    }

    @Test(arguments: [true, false])
    func forwardBackwardInputGradientAndRunningStatistics(fusing: Bool) throws {
        let golden = try Self.load()
        let batch = golden.input.shape[0]
        let bounds = RoundingBounds(stages: try Self.model(golden, fusing: false).stages, input: golden.input.data, batch: batch,
                                    objective: .crossEntropy(labels: golden.labels))
        let model = try Self.model(golden, fusing: fusing)
        let logits = model.forward(golden.input.tensor, training: true)
        let (loss, gradient) = SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: golden.labels)
        model.zeroGradients()
        let inputGradient = try #require(model.backward(gradient, inputGradient: true))
        GoldenTests.expectClose(logits, golden.logits, "logits", bound: bounds.logits)
        #expect(abs(loss - golden.loss) <= bounds.loss, "loss \(loss) vs \(golden.loss), bound \(bounds.loss)")
        GoldenTests.expectClose(gradient, golden.grad_logits, "dLoss/dLogits", bound: bounds.logitGradient)
        #expect(Set(model.parameters.map(\.name)) == Set(golden.grads.keys))
        for parameter in model.parameters {
            let expected = try #require(golden.grads[parameter.name], "\(parameter.name) missing from the golden file")
            GoldenTests.expectClose(parameter.gradient, expected, "grad \(parameter.name)", bound: bounds.gradients[parameter.name]!)
        }
        GoldenTests.expectClose(inputGradient, golden.grad_input, "dLoss/dInput", bound: bounds.inputGradient)
        let state = model.stateDictionary()
        #expect(Set(state.keys) == Set(golden.state.keys))
        for (name, expected) in golden.running_after {
            let bound = zip(bounds.state[name]!, golden.state[name]!.data).map { $0 + 2 * ErrorBound.gamma(2) * 0.9 * Double(abs($1)) }
            GoldenTests.expectClose(state[name]!, expected, name, bound: bound)
        }
        // Evaluation with the running statistics just updated (the same parameters).
        let evaluation = RoundingBounds(stages: model.stages, input: golden.input.data, batch: batch, training: false, objective: .none)
        GoldenTests.expectClose(model.forward(golden.input.tensor, training: false), golden.eval_logits, "evaluation logits",
                                bound: evaluation.logits)
    }
}
