import Foundation

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
    /// `[C, H, W]` -> `[C * H * W]`: the same elements in row-major order, channel slowest, then height, then
    /// width (index `(c * H + h) * W + w`, PyTorch's `flatten` of NCHW); a copy, no reordering. (TensorFlow's NHWC
    /// flatten orders the same elements `(h * W + w) * C + c`: a dense layer imported from it needs its rows
    /// permuted.)
    case flatten
    /// A residual block keeping the image size: `[Cin, H, W]` -> `[outChannels, H, W]`,
    /// `relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))`, where `conv1` and `conv2` are `kernel`x`kernel`
    /// convolutions with bias, padding `kernel / 2` and stride 1 (`kernel` must be odd), and `shortcut` is the
    /// identity when `Cin == outChannels`, otherwise a 1x1 convolution with bias followed by batch norm. Batch
    /// norms as ``batchNorm2d``. Parameter names (PyTorch attribute names of the same module):
    /// `"<i>.residual.conv1.weight"`, `.conv1.bias`, `.bn1.{weight,bias,running_mean,running_var}`, `.conv2.*`,
    /// `.bn2.*`, and only with a projection `.shortcut_conv.*`, `.shortcut_bn.*`.
    case residualBlock(outChannels: Int, kernel: Int)
    /// Max pooling over rectangular `kernelHeight`x`kernelWidth` windows, every `strideHeight` rows and
    /// `strideWidth` columns, no padding, floor mode (PyTorch `MaxPool2d((kh, kw), (sh, sw))`, TensorFlow
    /// `max_pooling2d` with padding 'valid'): `[C, H, W]` -> `[C, (H - kh) / sh + 1, (W - kw) / sw + 1]`. The
    /// gradient goes to the first maximum of each window in row-major order, as ``maxPool2d(kernel:stride:)``
    /// (which is this with equal sides).
    case maxPool2dRect(kernelHeight: Int, kernelWidth: Int, strideHeight: Int, strideWidth: Int)
    /// ``batchNorm2d`` with `epsilon` instead of 1e-5 in `1 / sqrt(var + epsilon)` (TensorFlow's Keras layers use
    /// 0.001). Momentum 0.1 (PyTorch's convention for the running statistics) and the same parameter and state
    /// names and layouts: `"<i>.bn.weight"`, `.bias`, `.running_mean`, `.running_var`, `[C]`.
    case batchNorm2dEpsilon(Double)
    /// A linear layer with sigmoid whose outputs are appended to its input: `[F]` -> `[F + outFeatures]`,
    /// `y = [x, sigmoid(W x + b)]` (`W` `[outFeatures, F]`). Keeps a tagger's probabilities next to the features
    /// they were computed from, so that a classifier after it sees both (the musicnn probe model). Parameter
    /// names as ``linear(outFeatures:)``: `"<i>.linear.weight"`, `"<i>.linear.bias"`.
    case linearSigmoidAppended(outFeatures: Int)

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
        case .maxPool2dRect: "maxpool"
        case .batchNorm2dEpsilon: "bn"
        case .linearSigmoidAppended: "linear"
        }
    }
}

/// How a model's `[classes]` logits become probabilities. Stored as its raw value (`"softmax"`, `"sigmoid"`).
public enum OutputActivation: String, Sendable, Codable, CaseIterable {
    /// One label per sample: `softmax(logits)`, probabilities summing to 1 (trained with softmax cross-entropy).
    case softmax
    /// Independent labels (multi-label tags): `sigmoid(logit)` per class, each in (0, 1) (see
    /// ``ModelSpec/sigmoid(_:)``).
    case sigmoid
}

/// A sequential network: the per-sample input shape, the layers in order, the number of classes (the last
/// layer must produce `[classes]` logits) and how the logits become probabilities. Stored in checkpoints next to
/// the state dictionary.
///
/// Codable: `{"inputShape": [...], "layers": [...], "classes": n}` plus `"output": "sigmoid"` for sigmoid
/// models; a softmax model omits `"output"`, and JSON without it (every checkpoint written before the key
/// existed) decodes as ``OutputActivation/softmax``, so old and new checkpoints read both ways.
public struct ModelSpec: Codable, Equatable, Hashable, Sendable {
    /// Per-sample input shape `[C, H, W]` (channels, mel bands, frames for a log-mel spectrogram).
    public var inputShape: [Int]
    /// The layers, applied in order.
    public var layers: [LayerSpec]
    /// Number of output classes (logits per sample).
    public var classes: Int
    /// How the logits become probabilities: softmax over the classes (one genre per clip, the default) or an
    /// independent sigmoid per class (tags). The network itself always returns logits.
    public var output: OutputActivation

    public init(inputShape: [Int], layers: [LayerSpec], classes: Int, output: OutputActivation = .softmax) {
        self.inputShape = inputShape
        self.layers = layers
        self.classes = classes
        self.output = output
    }

    private enum CodingKeys: String, CodingKey {
        case inputShape, layers, classes, output
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        inputShape = try container.decode([Int].self, forKey: .inputShape)
        layers = try container.decode([LayerSpec].self, forKey: .layers)
        classes = try container.decode(Int.self, forKey: .classes)
        output = try container.decodeIfPresent(OutputActivation.self, forKey: .output) ?? .softmax
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(inputShape, forKey: .inputShape)
        try container.encode(layers, forKey: .layers)
        try container.encode(classes, forKey: .classes)
        // Omitted for softmax: a softmax model encodes exactly as before the key existed.
        if output != .softmax { try container.encode(output, forKey: .output) }
    }

    /// The logistic function `1 / (1 + exp(-x))` elementwise, computed without overflow for any `x` (tag
    /// probabilities from the logits of a ``OutputActivation/sigmoid`` model; the same function as
    /// ``LayerSpec/linearSigmoidAppended(outFeatures:)``'s).
    public static func sigmoid(_ logits: Tensor) -> Tensor {
        Tensor(shape: logits.shape, scalars: logits.scalars.map(sigmoid))
    }

    /// The logistic function of one value, `1 / (1 + exp(-x))`, stable for large `|x|`.
    @inline(__always)
    public static func sigmoid(_ x: Float) -> Float {
        if x >= 0 { return 1 / (1 + expf(-x)) }
        let e = expf(x)
        return e / (1 + e)
    }

    /// Softmax over each row of `[rows, classes]` logits (probabilities of a ``OutputActivation/softmax`` model).
    public static func softmax(_ logits: Tensor) -> Tensor {
        precondition(logits.shape.count == 2, "ModelSpec.softmax needs [rows, classes] logits, got \(logits.shape)")
        let (rows, columns) = (logits.shape[0], logits.shape[1])
        let x = logits.scalars
        var out = x
        for r in 0..<rows {
            let start = r * columns
            let top = x[start..<(start + columns)].max() ?? 0
            var total = 0.0
            for c in 0..<columns { total += exp(Double(x[start + c] - top)) }
            for c in 0..<columns { out[start + c] = Float(exp(Double(x[start + c] - top)) / total) }
        }
        return Tensor(shape: logits.shape, scalars: out)
    }

    /// ``output``'s probabilities for `[rows, classes]` logits of this model.
    public func probabilities(_ logits: Tensor) -> Tensor {
        switch output {
        case .softmax: Self.softmax(logits)
        case .sigmoid: Self.sigmoid(logits)
        }
    }

    /// Number of leading layers of ``musicnnVGG(tags:filters:inputShape:)`` that make up its body (layers
    /// `0..<27`: the input batch norm, five conv blocks, flatten and dropout), shared by the tagger, the probe
    /// and the fine-tune models; layer 27 is the tagger's linear layer.
    public static let musicnnBodyLayerCount = 27

    /// The musicnn "MSD_vgg" tagger (Pons and Serra, musicnn 0.1.0) in GenreKit's layout: input `[1, mels 96,
    /// frames 187]` (NCHW; time is the width), `filters` channels per conv, `tags` sigmoid outputs:
    /// ```
    ///  0 batchNorm2dEpsilon(0.001)                       (input normalisation)
    ///  1 conv 3x3 pad 1   2 relu   3 bn(0.001)   4 maxPool2dRect(1x4, stride 2x2)   5 dropout 0.25
    ///  6 conv   7 relu   8 bn    9 maxPool 2x2/2   10 dropout 0.25
    /// 11 conv  12 relu  13 bn   14 maxPool 2x2/2   15 dropout 0.25
    /// 16 conv  17 relu  18 bn   19 maxPool 2x2/2   20 dropout 0.25
    /// 21 conv  22 relu  23 bn   24 maxPool 4x4/4
    /// 25 flatten (channel slowest)   26 dropout 0.5   27 linear(tags)
    /// ```
    /// With the default input the feature maps are 96x187 -> 48x92 -> 24x46 -> 12x23 -> 6x11 -> 1x2, so the
    /// flattened features are `filters * 2` = 256. `output` is ``OutputActivation/sigmoid``, `classes == tags`.
    /// The spec is only a description: ``Sequential/init(spec:seed:)`` validates it (an input too small for
    /// the pools fails there).
    public static func musicnnVGG(tags: Int = 50, filters: Int = 128, inputShape: [Int] = [1, 96, 187]) -> ModelSpec {
        func block(_ pool: LayerSpec, dropout: Bool) -> [LayerSpec] {
            [.conv2d(outChannels: filters, kernel: 3, padding: 1, stride: 1), .relu, .batchNorm2dEpsilon(0.001), pool]
                + (dropout ? [.dropout(0.25)] : [])
        }
        var layers: [LayerSpec] = [.batchNorm2dEpsilon(0.001)]
        layers += block(.maxPool2dRect(kernelHeight: 1, kernelWidth: 4, strideHeight: 2, strideWidth: 2), dropout: true)
        for _ in 0..<3 { layers += block(.maxPool2d(kernel: 2, stride: 2), dropout: true) }
        layers += block(.maxPool2d(kernel: 4, stride: 4), dropout: false)
        layers += [.flatten, .dropout(0.5), .linear(outFeatures: tags)]
        return ModelSpec(inputShape: inputShape, layers: layers, classes: tags, output: .sigmoid)
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
