import GenreCore
import Dispatch

/// Training and evaluation throughput of the default genre CNN (``ModelSpec/genreCNN(classes:inputShape:)``,
/// 10 classes, 1x128x128 input) or of any model spec, for comparison with PyTorch (`scripts/bench_net_torch.py`
/// times the same default model).
public enum NetBenchmark {
    /// Times `steps` training steps (forward in training mode, softmax cross-entropy, zero gradients, backward,
    /// Adam update) and `steps` evaluation forwards on random input of `batch` samples, after 3 warm-up steps of
    /// each, with the batch split across `threads` threads (``Parallelism/batch(threads:)``).
    /// Returns samples per second for each. Meaningful only in release builds.
    public static func trainingThroughput(batch: Int, steps: Int, threads: Int)
        -> (trainSamplesPerSecond: Double, evalSamplesPerSecond: Double)
    {
        trainingThroughput(batch: batch, steps: steps, parallelism: .batch(threads: threads))
    }

    /// As ``trainingThroughput(batch:steps:threads:)`` with an explicit ``Parallelism``.
    public static func trainingThroughput(batch: Int, steps: Int, parallelism: Parallelism, warmUpSteps: Int = 3)
        -> (trainSamplesPerSecond: Double, evalSamplesPerSecond: Double)
    {
        do {
            return try trainingThroughput(
                spec: .genreCNN(classes: 10), batch: batch, steps: steps, parallelism: parallelism, warmUpSteps: warmUpSteps)
        } catch { fatalError("\(error)") }
    }

    /// As ``trainingThroughput(batch:steps:parallelism:warmUpSteps:)`` for any model `spec` (e.g. a
    /// ``ModelSpec/genreCNN(classes:inputShape:channels:kernel:block:pool:dropout:)`` variant), on random input of
    /// `[batch] + spec.inputShape` with random labels below `spec.classes`. Throws the model's ``NetError`` when
    /// the spec does not build.
    public static func trainingThroughput(
        spec: ModelSpec, batch: Int, steps: Int, parallelism: Parallelism, warmUpSteps: Int = 3
    ) throws(NetError) -> (trainSamplesPerSecond: Double, evalSamplesPerSecond: Double) {
        precondition(batch >= 1 && steps >= 1, "NetBenchmark: batch and steps must be >= 1")
        let model = try Sequential(spec: spec, seed: 1)
        model.parallelism = parallelism
        var generator = SplitMix64(seed: 2)
        let input = Tensor(shape: [batch] + spec.inputShape, normalStandardDeviation: 1, generator: &generator)
        let labels = (0..<batch).map { _ in Int(generator.next() % UInt64(spec.classes)) }
        let optimizer = Adam(parameters: model.parameters, learningRate: 1e-3)

        func trainStep() {
            let logits = model.forward(input, training: true)
            let (_, gradient) = SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: labels)
            model.zeroGradients()
            model.backward(gradient)
            optimizer.step()
        }
        for _ in 0..<warmUpSteps { trainStep() }
        var start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<steps { trainStep() }
        let trainSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9

        for _ in 0..<warmUpSteps { _ = model.forward(input, training: false) }
        start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<steps { _ = model.forward(input, training: false) }
        let evalSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return (Double(batch * steps) / trainSeconds, Double(batch * steps) / evalSeconds)
    }
}

extension NetBenchmark {
    /// Evaluation throughput of `spec` (samples per second): `batches` forwards in evaluation mode (no dropout,
    /// batch norm with running statistics) of `batch` random samples `[batch] + spec.inputShape`, after
    /// `warmUpBatches` untimed ones, on random weights — what embedding extraction or tagging costs per patch
    /// (e.g. ``ModelSpec/musicnnVGG(tags:filters:inputShape:)`` on 3 s patches `[N, 1, 96, 187]`; compare
    /// `scripts/bench_musicnn_torch.py`). Meaningful only in release builds.
    public static func inferenceThroughput(
        spec: ModelSpec, batch: Int, batches: Int, parallelism: Parallelism, warmUpBatches: Int = 2
    ) throws(NetError) -> Double {
        precondition(batch >= 1 && batches >= 1, "NetBenchmark: batch and batches must be >= 1")
        let model = try Sequential(spec: spec, seed: 1)
        model.parallelism = parallelism
        var generator = SplitMix64(seed: 2)
        let input = Tensor(shape: [batch] + spec.inputShape, normalStandardDeviation: 1, generator: &generator)
        for _ in 0..<warmUpBatches { _ = model.forward(input, training: false) }
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<batches { _ = model.forward(input, training: false) }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return Double(batch * batches) / seconds
    }

    /// Fine-tuning throughput of `spec` (samples per second) with layers `[0, frozenLayerCount)` frozen
    /// (``Sequential/frozenLayerCount``): `steps` training steps (forward, softmax cross-entropy against random
    /// labels, zero gradients, backward, Adam on ``Sequential/trainableParameters``) on `batch` random samples,
    /// after `warmUpSteps` untimed ones. For the musicnn fine-tune model (body + linear(classes)), frozen 27
    /// trains the head only, 0 trains everything. Meaningful only in release builds.
    public static func fineTuneThroughput(
        spec: ModelSpec, frozenLayerCount: Int, batch: Int, steps: Int, parallelism: Parallelism, warmUpSteps: Int = 2
    ) throws(NetError) -> Double {
        precondition(batch >= 1 && steps >= 1, "NetBenchmark: batch and steps must be >= 1")
        let model = try Sequential(spec: spec, seed: 1)
        model.parallelism = parallelism
        model.frozenLayerCount = frozenLayerCount
        var generator = SplitMix64(seed: 2)
        let input = Tensor(shape: [batch] + spec.inputShape, normalStandardDeviation: 1, generator: &generator)
        let labels = (0..<batch).map { _ in Int(generator.next() % UInt64(spec.classes)) }
        let optimizer = Adam(parameters: model.trainableParameters, learningRate: 1e-4)
        func step() {
            let logits = model.forward(input, training: true)
            let (_, gradient) = SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: labels)
            model.zeroGradients()
            model.backward(gradient)
            optimizer.step()
        }
        for _ in 0..<warmUpSteps { step() }
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<steps { step() }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return Double(batch * steps) / seconds
    }
}
