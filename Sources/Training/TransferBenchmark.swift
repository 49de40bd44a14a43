import Net

/// Throughput of a pre-trained network (`[model] init`, e.g. the imported musicnn) in the three ways a probe and
/// fine-tuning use it, on random input of its shape (``NetBenchmark``), for comparison with PyTorch
/// (`scripts/musicnn_torch.py bench` times the same network):
/// - embedding: evaluation forwards of the probe's embedding model (body + tags), windows per second;
/// - fine-tuning: training steps (forward, softmax cross-entropy, backward, AdamW) of the fine-tuned model (the
///   network with its tags appended, a new 10-way head), everything unfrozen with batch norm in evaluation mode
///   (`[finetune] freeze_batch_norm`), samples per second;
/// - head only: the same with every pre-trained layer frozen (their forward only), samples per second.
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
        let parallelism = Parallelism.batch(threads: threads)
        let finetune = pretrained.finetuneSpec(classes: 10)
        do {
            return Figures(
                embeddingWindowsPerSecond: try NetBenchmark.inferenceThroughput(
                    spec: pretrained.embeddingSpec(), batch: batch, batches: steps, parallelism: parallelism),
                finetuneSamplesPerSecond: try NetBenchmark.fineTuneThroughput(
                    spec: finetune, frozenLayerCount: 0, batchNormInEvaluationMode: true, batch: batch, steps: steps,
                    parallelism: parallelism),
                headOnlySamplesPerSecond: try NetBenchmark.fineTuneThroughput(
                    spec: finetune, frozenLayerCount: finetune.layers.count - 1, batchNormInEvaluationMode: true,
                    batch: batch, steps: steps, parallelism: parallelism))
        } catch {
            throw .checkpoint(path: pretrained.path, reason: "the network does not build: \(error)")
        }
    }
}
