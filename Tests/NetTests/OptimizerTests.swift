import GenreCore
import Foundation
import Testing
@testable import Net

/// Optimizer updates against values computed by hand from PyTorch's formulas (in Double; PyTorch 2.13 gives the
/// same to Float precision), schedules against their closed forms.
@Suite struct OptimizerTests {
    /// A one-element parameter starting at 1.0, stepped with the given gradients; returns the values after each step.
    static func run(_ make: ([Parameter]) -> any Optimizer, gradients: [Float]) -> [Float] {
        let p = Parameter(name: "p", shape: [1])
        p.values[0] = 1
        let optimizer = make([p])
        return gradients.map { g in
            p.gradients[0] = g
            optimizer.step()
            return p.values[0]
        }
    }

    /// Float32 steps against the Double values. Step t (from 1) has gone through at most 12·t float32 roundings
    /// (moments, bias corrections, square root, division, update, decay), each relative to at most the magnitudes
    /// |p| <= 1 and t·lr·2 (every update here is below 2·lr): |error| <= γ(12·t)·(1 + 2·t·lr).
    static func expectClose(_ actual: [Float], _ expected: [Double], _ what: String, learningRate: Double = 0.1) {
        for (t, (a, e)) in zip(actual, expected).enumerated() {
            let steps = t + 1
            let bound = ErrorBound.gamma(12 * steps) * (1 + 2 * Double(steps) * learningRate)
            #expect(abs(Double(a) - e) <= bound, "\(what) step \(steps): \(a) vs \(e), bound \(bound)")
        }
    }

    @Test func adam() {
        // lr 0.1, β = (0.9, 0.999), ε = 1e-8, gradients 0.5, -0.25, 0.1:
        // t=1: m = 0.05, v = 2.5e-4, m̂ = 0.5, √v̂ = 0.5          -> p = 1 - 0.1 · 0.5 / (0.5 + 1e-8) = 0.9
        // t=2: m = 0.02, v = 3.1225e-4, step = 0.1 / 0.19, √v/√(1-0.999²) = 0.39522...
        //                                                          -> p = 0.9 - 0.52632 · 0.02 / 0.39522 = 0.873366
        // t=3: m = 0.028, v = 3.2194e-4                          -> p = 0.841842
        let values = Self.run({ Adam(parameters: $0, learningRate: 0.1) }, gradients: [0.5, -0.25, 0.1])
        Self.expectClose(values, [0.900000002, 0.8733662987078463, 0.8418419430257161], "Adam")
    }

    @Test func adamWithL2WeightDecayAddsItToTheGradient() {
        // g' = g + 0.1 · p before the moments (PyTorch Adam(weight_decay=0.1)).
        let values = Self.run({ Adam(parameters: $0, learningRate: 0.1, weightDecay: .l2(0.1)) }, gradients: [0.5, -0.25, 0.1])
        Self.expectClose(values, [0.9000000016666666, 0.8544413674617625, 0.8024037944234685], "Adam L2")
    }

    @Test func adamWDecaysTheWeightsBeforeTheUpdate() {
        // p ← p · (1 - 0.1 · 0.1), then the Adam step with the raw gradient (PyTorch AdamW(weight_decay=0.1)).
        let values = Self.run({ Adam.adamW(parameters: $0, learningRate: 0.1, weightDecay: 0.1) }, gradients: [0.5, -0.25, 0.1])
        Self.expectClose(values, [0.890000002, 0.8544662986878463, 0.8143972800188376], "AdamW")
    }

    @Test func sgdWithMomentum() {
        // lr 0.1, μ 0.9, gradients 0.5, 0.5, -1: buf = 0.5, 0.95, -0.145 -> p = 0.95, 0.855, 0.8695.
        let values = Self.run({ SGD(parameters: $0, learningRate: 0.1, momentum: 0.9) }, gradients: [0.5, 0.5, -1])
        Self.expectClose(values, [0.95, 0.855, 0.8695], "SGD momentum")
        // Weight decay 0.1: g' = g + 0.1 p: 0.6 -> p 0.94; g' = 0.594, buf 1.134 -> 0.8266; g' = -0.91734, buf 0.10326 -> 0.816274.
        let decayed = Self.run({ SGD(parameters: $0, learningRate: 0.1, momentum: 0.9, weightDecay: 0.1) }, gradients: [0.5, 0.5, -1])
        Self.expectClose(decayed, [0.94, 0.8266, 0.816274], "SGD momentum + weight decay")
        // Nesterov: p -= lr (g + μ buf): 1 - 0.1 (0.5 + 0.45) = 0.905, ...
        let nesterov = Self.run({ SGD(parameters: $0, learningRate: 0.1, momentum: 0.9, nesterov: true) }, gradients: [0.5, 0.5, -1])
        Self.expectClose(nesterov, [0.905, 0.7695, 0.88255], "SGD Nesterov")
        let plain = Self.run({ SGD(parameters: $0, learningRate: 0.1) }, gradients: [0.5, 0.5, -1])
        Self.expectClose(plain, [0.95, 0.9, 1.0], "plain SGD")
    }

    @Test func optimizerStateRoundTripsAndResumesIdentically() throws {
        func makeModel() throws -> Sequential {
            try Sequential(spec: ModelSpec(inputShape: [1, 4, 4], layers: [.flatten, .linear(outFeatures: 3)], classes: 3), seed: 1)
        }
        var g = SplitMix64(seed: 2)
        let x = Tensor(shape: [4, 1, 4, 4], normalStandardDeviation: 1, generator: &g)
        let labels = [0, 1, 2, 1]
        func train(_ model: Sequential, _ optimizer: any Optimizer, steps: Int) {
            for _ in 0..<steps {
                let logits = model.forward(x, training: true)
                model.zeroGradients()
                model.backward(SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: labels).gradient)
                optimizer.step()
            }
        }
        for kind in ["adam", "sgd"] {
            func makeOptimizer(_ model: Sequential) -> any Optimizer {
                kind == "adam" ? Adam(parameters: model.parameters, learningRate: 0.01) as any Optimizer
                    : SGD(parameters: model.parameters, learningRate: 0.05, momentum: 0.9)
            }
            let reference = try makeModel(), optimizer = makeOptimizer(reference)
            train(reference, optimizer, steps: 5)
            let resumed = try makeModel(), first = makeOptimizer(resumed)
            train(resumed, first, steps: 3)
            let saved = first.stateDictionary()
            #expect(saved["step"]?.scalars == [3])
            let model2 = try makeModel()
            try model2.load(stateDictionary: resumed.stateDictionary())
            let second = makeOptimizer(model2)
            try second.load(stateDictionary: saved)
            #expect(second.stepCount == 3)
            train(model2, second, steps: 2)
            #expect(model2.stateDictionary() == reference.stateDictionary(), "\(kind) resumed training differs")
            var broken = saved
            broken["unknown"] = Tensor(shape: [1])
            #expect(throws: NetError.unexpectedState(name: "unknown")) { try second.load(stateDictionary: broken) }
        }
    }

    @Test func cosineScheduleWithWarmUp() {
        let schedule = LearningRateSchedule.cosine(warmupSteps: 4, totalSteps: 14, minimumFactor: 0.1)
        // Warm-up: (step + 1) / 4.
        #expect(schedule.factor(step: 0) == 0.25)
        #expect(schedule.factor(step: 3) == 1)
        // Cosine from step 4 (factor 1) to step 14 (factor 0.1); half-way (step 9) 0.55.
        #expect(abs(schedule.factor(step: 4) - 1) < 1e-12)
        #expect(abs(schedule.factor(step: 9) - 0.55) < 1e-12)
        #expect(abs(schedule.factor(step: 14) - 0.1) < 1e-12)
        #expect(abs(schedule.factor(step: 100) - 0.1) < 1e-12)
        let quarter = 0.1 + 0.9 * 0.5 * (1 + cos(Double.pi * 0.2))
        #expect(abs(schedule.factor(step: 6) - quarter) < 1e-12)
        #expect(abs(schedule.learningRate(base: 0.01, step: 9) - 0.0055) < 1e-12)
        // No warm-up, minimum 0.
        let plain = LearningRateSchedule.cosine(warmupSteps: 0, totalSteps: 10, minimumFactor: 0)
        #expect(plain.factor(step: 0) == 1)
        #expect(abs(plain.factor(step: 5) - 0.5) < 1e-12)
        #expect(abs(plain.factor(step: 10)) < 1e-12)
    }

    @Test func stepDecayAndConstant() {
        let schedule = LearningRateSchedule.stepDecay(stepSize: 3, gamma: 0.5)
        #expect((0..<8).map { schedule.factor(step: $0) } == [1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25])
        #expect(LearningRateSchedule.constant.learningRate(base: 0.3, step: 1000) == 0.3)
        let data = try! JSONEncoder().encode(schedule)
        #expect(try! JSONDecoder().decode(LearningRateSchedule.self, from: data) == schedule)
    }
}
