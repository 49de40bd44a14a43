import Foundation
import GenreCore
import Net
@testable import OnnxExport
import Pipeline
import SwiftProtobuf
import Testing
import TestSupport
import Training

/// Small models with random weights and random, non-trivial batch-norm statistics, as checkpoints.
enum Fixtures {
    /// The default genre CNN's layout (plain blocks, global average pool) on a small input.
    static func genreCNN(classes: Int = 4, nMels: Int = 16, frames: Int = 32) -> ModelSpec {
        .genreCNN(classes: classes, inputShape: [1, nMels, frames], channels: [4, 8])
    }

    /// Residual blocks (the first with a projection shortcut, the second an identity one) and average+max pooling.
    static func residual(classes: Int = 3) -> ModelSpec {
        .genreCNN(classes: classes, inputShape: [1, 16, 24], channels: [6, 6], block: .residual, pool: .averageMax)
    }

    /// musicnn's MSD-VGG shape at a small size: input batch norm before a padded conv, conv -> relu -> bn blocks,
    /// rectangular and square pools, flatten, a sigmoid tagger.
    static func musicnnLike(tags: Int = 5) -> ModelSpec {
        .musicnnVGG(tags: tags, filters: 4, inputShape: [1, 128, 160])
    }

    /// A probe on a musicnn-like body: the tagger's sigmoid outputs appended to the features, then a classifier.
    static func probe(classes: Int = 3) -> ModelSpec {
        let body = Array(musicnnLike().layers.prefix(ModelSpec.musicnnBodyLayerCount))
        return ModelSpec(
            inputShape: [1, 128, 160], layers: body + [.linearSigmoidAppended(outFeatures: 5), .linear(outFeatures: classes)],
            classes: classes)
    }

    /// A sigmoid tagger with global max pooling, a strided conv and a dense layer after the pool.
    static func tagger(tags: Int = 6) -> ModelSpec {
        ModelSpec(
            inputShape: [1, 12, 20],
            layers: [
                .conv2d(outChannels: 5, kernel: 3, padding: 1, stride: 2), .batchNorm2dEpsilon(0.001), .relu,
                .maxPool2dRect(kernelHeight: 2, kernelWidth: 3, strideHeight: 1, strideWidth: 2), .globalMaxPool,
                .dropout(0.2), .linear(outFeatures: 7), .relu, .linear(outFeatures: tags),
            ],
            classes: tags, output: .sigmoid)
    }

    /// A model of `spec` (seed `seed`) whose biases, batch-norm gammas and betas and running statistics are random
    /// too (gammas of both signs: every third channel's is negative; variances in [0.3, 2]).
    static func model(_ spec: ModelSpec, seed: UInt64) throws -> Sequential {
        let model = try Sequential(spec: spec, seed: seed)
        var generator = SplitMix64(seed: seed &+ 99)
        var state = model.stateDictionary()
        for name in state.keys.sorted() {
            let t = state[name]!
            func random(_ f: (inout SplitMix64) -> Float) -> Tensor {
                Tensor(shape: t.shape, scalars: t.scalars.map { _ in f(&generator) })
            }
            let isBatchNorm = name.contains(".bn") || name.contains("_bn")
            if name.hasSuffix(".running_var") {
                state[name] = random { 0.3 + 1.7 * $0.unitFloat() }
            } else if name.hasSuffix(".running_mean") {
                state[name] = random { Float($0.normal()) * 0.5 }
            } else if isBatchNorm && name.hasSuffix(".weight") {
                // Every third channel negative: pooling after such a batch norm picks minima.
                let magnitudes = random { 0.5 + $0.unitFloat() }.scalars
                state[name] = Tensor(shape: t.shape, scalars: magnitudes.enumerated().map { $0 % 3 == 2 ? -$1 : $1 })
            } else if name.hasSuffix(".bias") {
                state[name] = random { Float($0.normal()) * 0.1 }
            }
        }
        try model.load(stateDictionary: state)
        return model
    }

    /// A checkpoint holding `model` with classes `c0`, `c1`, ..., a pipeline of the model's mel bands and random
    /// normalisation statistics.
    static func checkpoint(_ model: Sequential) -> Checkpoint {
        let spec = model.spec
        var training = TrainingConfiguration()
        training.model.cropFrames = spec.inputShape[2]
        training.evaluate.windowHop = max(1, spec.inputShape[2] / 2)
        var pipeline = PipelineConfiguration()
        pipeline.mel.nMels = spec.inputShape[1]
        let nMels = spec.inputShape[1]
        return Checkpoint(
            classes: (0..<spec.classes).map { "c\($0)" }, modelSpec: spec, training: training,
            pipelineConfiguration: pipeline.jsonText(), shardParameters: "{}",
            normMean: (0..<nMels).map { -40 + Float($0) }, normStd: (0..<nMels).map { 10 + Float($0) / 4 },
            modelState: model.stateDictionary(), optimizerState: [:], epoch: 3, bestValidAccuracy: 0.5, bestEpoch: 2,
            epochsWithoutImprovement: 1, optimizerSteps: 30)
    }

    /// `count` random windows `[count] + inputShape` (standard normal, like normalised features).
    static func windows(_ inputShape: [Int], count: Int, seed: UInt64) -> Tensor {
        var generator = SplitMix64(seed: seed)
        return Tensor(shape: [count] + inputShape, normalStandardDeviation: 1, generator: &generator)
    }

    /// The exported model parsed back.
    static func parse(_ data: Data) throws -> Onnx_ModelProto {
        try Onnx_ModelProto(serializedBytes: data)
    }

    /// The metadata of a parsed model, by key.
    static func metadata(_ model: Onnx_ModelProto) -> [String: String] {
        Dictionary(uniqueKeysWithValues: model.metadataProps.map { ($0.key, $0.value) })
    }

    /// The dimensions of a value info: numbers, or the parameter's name.
    static func dimensions(_ value: Onnx_ValueInfoProto) -> [String] {
        value.type.tensorType.shape.dim.map { $0.dimParam.isEmpty ? String($0.dimValue) : $0.dimParam }
    }
}
