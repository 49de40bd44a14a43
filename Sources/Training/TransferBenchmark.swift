import Dispatch
import GenreCore
public import Net

/// Throughput of a pre-trained network (`[model] init`, e.g. the imported musicnn) in the three ways a probe and
/// fine-tuning use it, on random input of its shape, for comparison with PyTorch
/// (`scripts/musicnn_torch.py bench` times the same network):
/// - embedding: evaluation forwards of the probe's embedding model (body + tags), windows per second;
/// - fine-tuning: training steps (forward, softmax cross-entropy, backward, AdamW) of the fine-tuned model (the
///   network with its tags appended, a new 10-way head), everything unfrozen with batch norm in evaluation mode
///   (`[finetune] freeze_batch_norm`), samples per second;
/// - head only: the same with the body frozen (its forward only), samples per second.
/// Meaningful only in release builds; never called by a test.
public enum TransferBenchmark {
    public struct Figures: Sendable {
        public var embeddingWindowsPerSecond: Double
        public var finetuneSamplesPerSecond: Double
        public var headOnlySamplesPerSecond: Double
    }

    /// Times `steps` batches of `batch` of each, after 2 warm-up batches, on `threads` threads.
    public static func run(pretrained: PretrainedStart, batch: Int, steps: Int, threads: Int)
        throws(TrainingError) -> Figures
    {
        precondition(batch >= 2 && steps >= 1 && threads >= 1)
        var generator = SplitMix64(seed: 7)
        let input = Tensor(shape: [batch] + pretrained.inputShape, normalStandardDeviation: 1, generator: &generator)
        let labels = (0..<batch).map { _ in Int(generator.next() % 10) }
        func seconds(_ body: () -> Void) -> Double {
            for _ in 0..<2 { body() }
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<steps { body() }
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }

        let embedder = try pretrained.model(spec: pretrained.embeddingSpec(), seed: 1, includingTags: true)
        embedder.parallelism = .batch(threads: threads)
        let embedding = seconds { _ = embedder.forward(input, training: false) }

        let model = try pretrained.model(spec: pretrained.finetuneSpec(classes: 10), seed: 1, includingTags: true)
        model.parallelism = .batch(threads: threads)
        let optimizer = Adam.adamW(parameters: model.parameters, learningRate: 1e-4, weightDecay: 1e-4)
        func step() {
            let logits = model.forward(input, training: true)
            let (_, gradient) = SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: labels)
            model.zeroGradients()
            model.backward(gradient)
            optimizer.step()
        }
        let plan = FinetunePlan(TrainingConfiguration.Finetune(), bodyLayers: pretrained.bodyLayers.count + 1)
        _ = plan.apply(to: model, epoch: plan.headEpochs + 1)
        let finetune = seconds(step)
        _ = plan.apply(to: model, epoch: 1)
        let headOnly = seconds(step)
        let samples = Double(batch * steps)
        return Figures(embeddingWindowsPerSecond: samples / embedding, finetuneSamplesPerSecond: samples / finetune,
                       headOnlySamplesPerSecond: samples / headOnly)
    }
}
