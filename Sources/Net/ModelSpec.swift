/// One layer of a sequential model, as stored in checkpoints. Shapes are per sample (the batch dimension is
/// implicit): images `[C, H, W]`, flat features `[F]`.
public enum LayerSpec: Codable, Equatable, Hashable, Sendable {
    /// 2-D convolution with bias: `[C, H, W]` -> `[outChannels, H', W']`, square `kernel`, zero `padding` on every
    /// side, `stride` in both directions; `H' = (H + 2 padding - kernel) / stride + 1` (floor).
    case conv2d(outChannels: Int, kernel: Int, padding: Int, stride: Int)
    /// Batch normalisation over N, H, W per channel (PyTorch `BatchNorm2d`: momentum 0.1, eps 1e-5, affine).
    case batchNorm2d
    /// `max(0, x)`, any shape.
    case relu
    /// Max pooling over `kernel`x`kernel` windows every `stride` pixels, no padding, floor mode:
    /// `[C, H, W]` -> `[C, (H - kernel) / stride + 1, (W - kernel) / stride + 1]`.
    case maxPool2d(kernel: Int, stride: Int)
    /// Mean over H and W: `[C, H, W]` -> `[C]`.
    case globalAveragePool
    /// Inverted dropout with drop probability `p` in `[0, 1)`: training zeroes each element with probability `p`
    /// and scales the rest by `1 / (1 - p)`; evaluation is the identity.
    case dropout(Double)
    /// Fully connected layer with bias: `[F]` -> `[outFeatures]` (`y = W x + b`, `W` is `[outFeatures, F]`).
    case linear(outFeatures: Int)
    /// `[C, H, W]` -> `[C * H * W]` (row-major, no data movement in meaning).
    case flatten

    /// The short kind used in parameter names (`"conv"`, `"bn"`, `"linear"`, ...).
    var kind: String {
        switch self {
        case .conv2d: "conv"
        case .batchNorm2d: "bn"
        case .relu: "relu"
        case .maxPool2d: "maxpool"
        case .globalAveragePool: "gap"
        case .dropout: "dropout"
        case .linear: "linear"
        case .flatten: "flatten"
        }
    }
}

/// A sequential network: the per-sample input shape, the layers in order, and the number of classes (the last
/// layer must produce `[classes]` logits). Stored in checkpoints next to the state dictionary.
public struct ModelSpec: Codable, Equatable, Hashable, Sendable {
    /// Per-sample input shape `[C, H, W]` (channels, mel bands, frames for a log-mel spectrogram).
    public var inputShape: [Int]
    /// The layers, applied in order.
    public var layers: [LayerSpec]
    /// Number of output classes (logits per sample).
    public var classes: Int

    public init(inputShape: [Int], layers: [LayerSpec], classes: Int) {
        self.inputShape = inputShape
        self.layers = layers
        self.classes = classes
    }

    /// The default genre CNN: input 1x128x128; 4 x (conv3x3 pad 1 -> BN -> ReLU -> maxpool 2x2) with 16, 32, 64,
    /// 128 channels; global average pool; dropout 0.3; linear to `classes`.
    public static func genreCNN(classes: Int, inputShape: [Int] = [1, 128, 128]) -> ModelSpec {
        var layers = [LayerSpec]()
        for channels in [16, 32, 64, 128] {
            layers += [
                .conv2d(outChannels: channels, kernel: 3, padding: 1, stride: 1), .batchNorm2d, .relu,
                .maxPool2d(kernel: 2, stride: 2),
            ]
        }
        layers += [.globalAveragePool, .dropout(0.3), .linear(outFeatures: classes)]
        return ModelSpec(inputShape: inputShape, layers: layers, classes: classes)
    }
}
