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
    /// Maximum over H and W: `[C, H, W]` -> `[C]`. The gradient goes to the position of each plane's maximum (the
    /// first one in row-major order on ties, as PyTorch's max pooling).
    case globalMaxPool
    /// Mean and maximum over H and W, concatenated: `[C, H, W]` -> `[2C]`, the C means first, then the C maxima.
    case globalAverageMaxPool
    /// Inverted dropout with drop probability `p` in `[0, 1)`: training zeroes each element with probability `p`
    /// and scales the rest by `1 / (1 - p)`; evaluation is the identity.
    case dropout(Double)
    /// Fully connected layer with bias: `[F]` -> `[outFeatures]` (`y = W x + b`, `W` is `[outFeatures, F]`).
    case linear(outFeatures: Int)
    /// `[C, H, W]` -> `[C * H * W]` (row-major, no data movement in meaning).
    case flatten
    /// A residual block keeping the image size: `[Cin, H, W]` -> `[outChannels, H, W]`,
    /// `relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))`, where `conv1` and `conv2` are `kernel`x`kernel`
    /// convolutions with bias, padding `kernel / 2` and stride 1 (`kernel` must be odd), and `shortcut` is the
    /// identity when `Cin == outChannels`, otherwise a 1x1 convolution with bias followed by batch norm. Batch
    /// norms as ``batchNorm2d``. Parameter names (PyTorch attribute names of the same module):
    /// `"<i>.residual.conv1.weight"`, `.conv1.bias`, `.bn1.{weight,bias,running_mean,running_var}`, `.conv2.*`,
    /// `.bn2.*`, and only with a projection `.shortcut_conv.*`, `.shortcut_bn.*`.
    case residualBlock(outChannels: Int, kernel: Int)

    /// The short kind used in parameter names (`"conv"`, `"bn"`, `"linear"`, ...).
    var kind: String {
        switch self {
        case .conv2d: "conv"
        case .batchNorm2d: "bn"
        case .relu: "relu"
        case .maxPool2d: "maxpool"
        case .globalAveragePool: "gap"
        case .globalMaxPool: "gmp"
        case .globalAverageMaxPool: "gamp"
        case .dropout: "dropout"
        case .linear: "linear"
        case .flatten: "flatten"
        case .residualBlock: "residual"
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
    /// 128 channels; global average pool; dropout 0.3; linear to `classes`. The same as
    /// ``genreCNN(classes:inputShape:channels:kernel:block:pool:dropout:)`` with its defaults.
    public static func genreCNN(classes: Int, inputShape: [Int] = [1, 128, 128]) -> ModelSpec {
        genreCNN(classes: classes, inputShape: inputShape, channels: [16, 32, 64, 128])
    }

    /// A genre CNN variant. For each entry of `channels` (output channels of that stage, in order) one block
    /// followed by 2x2 max pooling (stride 2), halving H and W:
    /// - ``ConvBlockKind/plain``: `conv(kernel, padding kernel / 2) -> BN -> ReLU -> maxpool 2x2`;
    /// - ``ConvBlockKind/residual``: `residualBlock(kernel) -> maxpool 2x2` (see ``LayerSpec/residualBlock(outChannels:kernel:)``;
    ///   `kernel` must be odd).
    /// Then the global pooling `pool` (``GlobalPoolKind``), dropout with probability `dropout` (kept even at 0, so
    /// that parameter names do not depend on it), and a linear layer to `classes` logits. `inputShape` is
    /// `[C, H, W]` (1 x mel bands x frames); H and W must survive `channels.count` halvings. The spec is only a
    /// description: ``Sequential/init(spec:seed:)`` validates it. With every default this is
    /// ``genreCNN(classes:inputShape:)``.
    public static func genreCNN(
        classes: Int, inputShape: [Int] = [1, 128, 128], channels: [Int] = [16, 32, 64, 128], kernel: Int = 3,
        block: ConvBlockKind = .plain, pool: GlobalPoolKind = .average, dropout: Double = 0.3
    ) -> ModelSpec {
        var layers = [LayerSpec]()
        for outChannels in channels {
            switch block {
            case .plain:
                layers += [.conv2d(outChannels: outChannels, kernel: kernel, padding: kernel / 2, stride: 1), .batchNorm2d, .relu]
            case .residual:
                layers.append(.residualBlock(outChannels: outChannels, kernel: kernel))
            }
            layers.append(.maxPool2d(kernel: 2, stride: 2))
        }
        switch pool {
        case .average: layers.append(.globalAveragePool)
        case .max: layers.append(.globalMaxPool)
        case .averageMax: layers.append(.globalAverageMaxPool)
        }
        layers += [.dropout(dropout), .linear(outFeatures: classes)]
        return ModelSpec(inputShape: inputShape, layers: layers, classes: classes)
    }
}

/// The convolutional block of each stage of ``ModelSpec/genreCNN(classes:inputShape:channels:kernel:block:pool:dropout:)``
/// (each block is followed by 2x2 max pooling). Stored as its raw value (`"plain"`, `"residual"`).
public enum ConvBlockKind: String, Sendable, Codable, CaseIterable {
    /// `conv -> batch norm -> ReLU` (``LayerSpec/conv2d(outChannels:kernel:padding:stride:)``,
    /// ``LayerSpec/batchNorm2d``, ``LayerSpec/relu``): the original genre CNN.
    case plain
    /// Two convolutions with batch norm and a shortcut connection, ``LayerSpec/residualBlock(outChannels:kernel:)``:
    /// about twice the convolution work of `plain` per stage.
    case residual
}

/// How ``ModelSpec/genreCNN(classes:inputShape:channels:kernel:block:pool:dropout:)`` reduces the last feature map
/// `[C, H, W]` to the features of the classifier. Stored as its raw value (`"average"`, `"max"`, `"average+max"`).
public enum GlobalPoolKind: String, Sendable, Codable, CaseIterable {
    /// Mean over H and W (``LayerSpec/globalAveragePool``): `[C]`.
    case average
    /// Maximum over H and W (``LayerSpec/globalMaxPool``): `[C]`.
    case max
    /// Means and maxima concatenated (``LayerSpec/globalAverageMaxPool``): `[2C]`.
    case averageMax = "average+max"
}
