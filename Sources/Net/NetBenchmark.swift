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
        let bench = try Bench(spec: spec, batch: batch, parallelism: parallelism)
        let optimizer = Adam(parameters: bench.model.parameters, learningRate: 1e-3)
        let train = bench.rate(steps: steps, warmUp: warmUpSteps) { bench.trainStep(optimizer) }
        let eval = bench.rate(steps: steps, warmUp: warmUpSteps) { _ = bench.model.forward(bench.input, training: false) }
        return (train, eval)
    }

    /// Evaluation throughput of `spec` (samples per second): `batches` forwards in evaluation mode (no dropout,
    /// batch norm with running statistics) of `batch` random samples `[batch] + spec.inputShape`, after
    /// `warmUpBatches` untimed ones, on random weights — what embedding extraction or tagging costs per patch
    /// (e.g. ``ModelSpec/musicnnVGG(tags:filters:inputShape:)`` on 3 s patches `[N, 1, 96, 187]`; compare
    /// `scripts/musicnn_torch.py bench`). Meaningful only in release builds.
    public static func inferenceThroughput(
        spec: ModelSpec, batch: Int, batches: Int, parallelism: Parallelism, warmUpBatches: Int = 2
    ) throws(NetError) -> Double {
        let bench = try Bench(spec: spec, batch: batch, parallelism: parallelism)
        return bench.rate(steps: batches, warmUp: warmUpBatches) { _ = bench.model.forward(bench.input, training: false) }
    }

    /// Fine-tuning throughput of `spec` (samples per second) with layers `[0, frozenLayerCount)` frozen
    /// (``Sequential/frozenLayerCount``) and, with `batchNormInEvaluationMode`, every batch norm on its running
    /// statistics: `steps` training steps (forward, softmax cross-entropy against random labels, zero gradients,
    /// backward, AdamW on ``Sequential/trainableParameters``) on `batch` random samples, after `warmUpSteps`
    /// untimed ones. For a fine-tuned pre-trained network, frozen = every layer but the head trains the head only,
    /// 0 trains everything. Meaningful only in release builds.
    public static func fineTuneThroughput(
        spec: ModelSpec, frozenLayerCount: Int, batchNormInEvaluationMode: Bool = false, batch: Int, steps: Int,
        parallelism: Parallelism, warmUpSteps: Int = 2
    ) throws(NetError) -> Double {
        let bench = try Bench(spec: spec, batch: batch, parallelism: parallelism)
        bench.model.frozenLayerCount = frozenLayerCount
        bench.model.batchNormInEvaluationMode = batchNormInEvaluationMode
        let optimizer = Adam.adamW(parameters: bench.model.trainableParameters, learningRate: 1e-4, weightDecay: 1e-4)
        return bench.rate(steps: steps, warmUp: warmUpSteps) { bench.trainStep(optimizer) }
    }

    /// A model of `spec` with seeded weights, a random batch and random labels.
    private struct Bench {
        let model: Sequential
        let input: Tensor
        let labels: [Int]
        let batch: Int

        init(spec: ModelSpec, batch: Int, parallelism: Parallelism) throws(NetError) {
            precondition(batch >= 1, "NetBenchmark: the batch must be >= 1")
            model = try Sequential(spec: spec, seed: 1)
            model.parallelism = parallelism
            var generator = SplitMix64(seed: 2)
            input = Tensor(shape: [batch] + spec.inputShape, normalStandardDeviation: 1, generator: &generator)
            labels = (0..<batch).map { _ in Int(generator.next() % UInt64(spec.classes)) }
            self.batch = batch
        }

        /// Forward in training mode, softmax cross-entropy, zero gradients, backward, an optimizer step.
        func trainStep(_ optimizer: any Optimizer) {
            let logits = model.forward(input, training: true)
            let (_, gradient) = SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: labels)
            model.zeroGradients()
            model.backward(gradient)
            optimizer.step()
        }

        /// Samples per second of `steps` calls of `body` after `warmUp` untimed ones.
        func rate(steps: Int, warmUp: Int, _ body: () -> Void) -> Double {
            precondition(steps >= 1, "NetBenchmark: steps must be >= 1")
            for _ in 0..<warmUp { body() }
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<steps { body() }
            return Double(batch * steps) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
    }
}
