import Foundation
public import Net
public import ConfigurationDecoding

/// Every parameter of a training run, in one value: read from a TOML file (`pipelines/train.toml`), stored (as
/// JSON) in every checkpoint. Sections: `[model]`, `[train]`, `[optimizer]`, `[schedule]`, `[augment]`, `[evaluate]`.
/// A missing key takes its default (chosen by k-fold on real clips: the 4-block CNN, 120 epochs of AdamW 2e-3 with
/// weight decay 1e-4 and a cosine schedule, batch 32, 128-frame crops); an unknown key, a wrong type or a value out
/// of range is an error naming the key.
public struct TrainingConfiguration: Sendable, Equatable, Codable {
    public var model = Model()
    public var train = Train()
    public var optimizer = OptimizerSettings()
    public var schedule = Schedule()
    public var augment = Augment()
    public var evaluate = Evaluate()
    public var probe = Probe()
    public var finetune = Finetune()

    public init() {}

    /// `[model]`: the convolutional network (see `ModelSpec.genreCNN`), input `[1, n_mels, crop_frames]`.
    public struct Model: Sendable, Equatable, Codable {
        /// Output channels of the conv → batch-norm → ReLU → 2×2 max-pool blocks.
        public var channels: [Int] = [16, 32, 64, 128]
        /// Square kernel of every convolution (odd; padding keeps the size).
        public var kernel: Int = 3
        /// Dropout probability before the final linear layer.
        public var dropout: Double = 0.3
        /// Frames per training crop and per evaluation window (128 frames ≈ 3 s at 22050 Hz, hop 512).
        public var cropFrames: Int = 128
        /// The block of every stage: conv → BN → ReLU (`plain`), or a two-convolution residual block (`residual`);
        /// each stage then max-pools 2×2.
        public var block: ConvBlockKind = .plain
        /// How the last feature map becomes one vector: mean, maximum, or both concatenated (`average+max`).
        public var pool: GlobalPoolKind = .average
        /// `[model] init`: a GenreKit checkpoint to start from, e.g. the imported pre-trained network
        /// `models/musicnn-msd-vgg.h5` (`genre pretrained import`); a relative path is relative to the current
        /// folder. Required by `[train] mode = "probe"` and `"finetune"`, which take the network from it (`channels`,
        /// `kernel`, `block`, `pool` and `dropout` then do not apply). nil: none.
        public var initCheckpoint: String? = nil
        public init() {}
    }

    /// `[train]`: the loop.
    public struct Train: Sendable, Equatable, Codable {
        public var epochs: Int = 120
        public var batchSize: Int = 32
        /// Seed of initialisation, epoch order, crops, masks, mixup and dropout.
        public var seed: UInt64 = 0
        /// Stop after this many epochs without a better validation accuracy; 0 never stops early.
        public var patience: Int = 0
        /// How an imbalanced training split is compensated (`[train] balance`).
        public var balance: ClassBalance = .sampler
        /// What is trained (`[train] mode`): the CNN from scratch, a linear probe on a frozen pre-trained network, or
        /// the pre-trained network fine-tuned with a new head.
        public var mode: TrainingMode = .scratch
        public init() {}
    }

    /// `[train] mode`.
    /// - `scratch`: the CNN of `[model]`, initialised from the seed.
    /// - `probe`: the network of `[model] init` is frozen; every clip's embedding is the mean over its evaluation
    ///   windows of the network's penultimate features and its sigmoid tag outputs, and a standardised multinomial
    ///   logistic regression is fitted on them (`[probe]`, see `LinearProbe`). No epochs.
    /// - `finetune`: the network of `[model] init` with a new linear head of the genre classes: the head alone for
    ///   `[finetune] head_epochs`, then everything, the pre-trained body at `body_learning_rate_scale` times the rate.
    public enum TrainingMode: String, Sendable, Codable, CaseIterable { case scratch, probe, finetune }

    /// `[train] balance`: how training compensates for classes with unequal numbers of training clips.
    /// - `none`: every training clip once per epoch, the plain mean cross-entropy.
    /// - `sampler`: an epoch has as many positions as there are training clips, split equally among the classes
    ///   present (see `EpochPlan`); each class cycles through a seeded permutation of its clips, so a small class
    ///   repeats its clips and a large one sees a different subset each epoch.
    /// - `loss`: every clip once per epoch, with the class-weighted cross-entropy, weights `N / (K · n_c)`
    ///   (`ClassWeights.balanced(labels:classCount:)`; PyTorch `CrossEntropyLoss(weight=w)`).
    public enum ClassBalance: String, Sendable, Codable, CaseIterable { case none, sampler, loss }

    public enum OptimizerKind: String, Sendable, Codable, CaseIterable { case adam, adamw, sgd }

    /// `[optimizer]`.
    public struct OptimizerSettings: Sendable, Equatable, Codable {
        public var kind: OptimizerKind = .adamw
        public var learningRate: Double = 2e-3
        /// L2 for adam and sgd, decoupled for adamw.
        public var weightDecay: Double = 1e-4
        /// SGD momentum.
        public var momentum: Double = 0.9
        public init() {}
    }

    public enum ScheduleKind: String, Sendable, Codable, CaseIterable { case constant, cosine, step }

    /// `[schedule]`: the learning rate over the run, stepped every batch.
    public struct Schedule: Sendable, Equatable, Codable {
        public var kind: ScheduleKind = .cosine
        /// Cosine: linear warm-up epochs before the decay.
        public var warmupEpochs: Int = 3
        /// Cosine: the final rate as a fraction of the base.
        public var minimumFactor: Double = 0
        /// Step: epochs between decays, and the factor of each decay.
        public var stepEpochs: Int = 10
        public var gamma: Double = 0.1
        public init() {}
    }

    /// `[augment]`: SpecAugment-style masks and mixup (all off by default).
    public struct Augment: Sendable, Equatable, Codable {
        public var timeMasks: Int = 0
        public var timeMaskWidth: Int = 0
        public var frequencyMasks: Int = 0
        public var frequencyMaskWidth: Int = 0
        /// Mixup Beta(α, α); 0 disables.
        public var mixupAlpha: Double = 0
        public init() {}
    }

    /// `[evaluate]`: how clips are cut into windows for clip-level evaluation (validation during training,
    /// `genre evaluate`, `genre predict`); see `ClipWindows`.
    public struct Evaluate: Sendable, Equatable, Codable {
        /// Frames between the starts of consecutive windows, in `1...model.crop_frames`; nil (the default) is
        /// `model.crop_frames`, non-overlapping windows. Read it through `TrainingConfiguration.windowHop`.
        public var windowHop: Int? = nil
        public init() {}
    }

    /// `[probe]`: the logistic regression of `[train] mode = "probe"`.
    public struct Probe: Sendable, Equatable, Codable {
        /// Inverse L2 strengths tried (scikit-learn's `C`: the loss is `C · Σ cross-entropy + ½‖W‖²`, bias not
        /// penalised); the one with the best validation accuracy is kept (ties: lower validation log-loss, then the
        /// smaller C).
        public var cGrid: [Double] = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10]
        /// L-BFGS iterations at most per fit.
        public var maxIterations: Int = 2000
        public init() {}
    }

    /// `[finetune]`: the schedule of `[train] mode = "finetune"` (on top of `[train]`, `[optimizer]`, `[schedule]`).
    public struct Finetune: Sendable, Equatable, Codable {
        /// Epochs at the start that train the new head only (the body frozen: run in evaluation mode, no gradients).
        public var headEpochs: Int = 5
        /// The body's learning rate after the head epochs, as a fraction of the optimizer's (discriminative rates).
        public var bodyLearningRateScale: Double = 0.1
        /// Batch norm keeps the pre-trained running statistics throughout (evaluation mode; gamma and beta still
        /// train once the body is unfrozen). Small corpora give noisy batch statistics.
        public var freezeBatchNorm: Bool = true
        /// How the new head starts: `probe` (the default) fits the linear probe of `[probe]` on the body's features
        /// of the train clips (standardisation folded in) and starts from it, so that fine-tuning begins from a
        /// good classifier and the pre-trained features are not pulled about by a random head (Kumar et al. 2022,
        /// "linear probing then fine-tuning"); `random`: He-normal from the seed.
        public var headInit: HeadInitialisation = .probe
        /// Whether the pre-trained layers' dropouts (musicnn: 0.25 after each of the first four blocks, 0.5 on
        /// `pool5`) stay active once they train; false makes them the identity (the model's spec records 0).
        public var bodyDropout: Bool = true
        public init() {}
    }

    /// `[finetune] head_init`.
    public enum HeadInitialisation: String, Sendable, Codable, CaseIterable { case probe, random }

    /// Frames between evaluation window starts: `[evaluate] window_hop`, or `model.crop_frames` when not set.
    public var windowHop: Int { evaluate.windowHop ?? model.cropFrames }

    /// The network for `classes` classes and `nMels` mel bands.
    public func modelSpec(classes: Int, nMels: Int) -> ModelSpec {
        ModelSpec.genreCNN(
            classes: classes, inputShape: [1, nMels, model.cropFrames], channels: model.channels, kernel: model.kernel,
            block: model.block, pool: model.pool, dropout: model.dropout)
    }

    /// The batch options for the data loader.
    public var batchOptions: TrainingBatchOptions {
        TrainingBatchOptions(
            batchSize: train.batchSize, cropFrames: model.cropFrames, seed: train.seed,
            timeMasks: augment.timeMasks, timeMaskWidth: augment.timeMaskWidth,
            frequencyMasks: augment.frequencyMasks, frequencyMaskWidth: augment.frequencyMaskWidth,
            mixupAlpha: augment.mixupAlpha, balance: train.balance)
    }

    /// The learning-rate schedule in optimizer steps, for `batchesPerEpoch` batches an epoch.
    public func learningRateSchedule(batchesPerEpoch: Int) -> LearningRateSchedule {
        switch schedule.kind {
        case .constant:
            return .constant
        case .cosine:
            return .cosine(warmupSteps: schedule.warmupEpochs * batchesPerEpoch,
                           totalSteps: train.epochs * batchesPerEpoch, minimumFactor: schedule.minimumFactor)
        case .step:
            return .stepDecay(stepSize: max(1, schedule.stepEpochs * batchesPerEpoch), gamma: schedule.gamma)
        }
    }

    /// Checks ranges; throws naming the first offending key.
    public func validate(file: String? = nil) throws(ConfigurationError) {
        func fail(_ key: String, _ reason: String) -> ConfigurationError { ConfigurationError(file: file, key: key, reason: reason) }
        if model.channels.isEmpty || model.channels.contains(where: { $0 < 1 || $0 > 4096 }) {
            throw fail("model.channels", "must list 1 to 4096 channels per block")
        }
        if model.kernel < 1 || model.kernel % 2 == 0 { throw fail("model.kernel", "must be an odd number >= 1") }
        if !(0..<1).contains(model.dropout) { throw fail("model.dropout", "must be in [0, 1)") }
        if model.cropFrames < 1 << model.channels.count {
            throw fail("model.crop_frames", "must be at least \(1 << model.channels.count) for \(model.channels.count) pooling blocks")
        }
        if train.epochs < 1 { throw fail("train.epochs", "must be >= 1") }
        if train.batchSize < 2 { throw fail("train.batch_size", "must be >= 2 (batch normalisation needs a batch)") }
        if train.patience < 0 { throw fail("train.patience", "must be >= 0 (0 disables early stopping)") }
        if !(optimizer.learningRate > 0) { throw fail("optimizer.learning_rate", "must be > 0") }
        if optimizer.weightDecay < 0 { throw fail("optimizer.weight_decay", "must be >= 0") }
        if !(0..<1).contains(optimizer.momentum) { throw fail("optimizer.momentum", "must be in [0, 1)") }
        if schedule.warmupEpochs < 0 { throw fail("schedule.warmup_epochs", "must be >= 0") }
        if !(0...1).contains(schedule.minimumFactor) { throw fail("schedule.minimum_factor", "must be in [0, 1]") }
        if schedule.stepEpochs < 1 { throw fail("schedule.step_epochs", "must be >= 1") }
        if !(schedule.gamma > 0 && schedule.gamma <= 1) { throw fail("schedule.gamma", "must be in (0, 1]") }
        for (k, v) in [("augment.time_masks", augment.timeMasks), ("augment.time_mask_width", augment.timeMaskWidth),
                       ("augment.frequency_masks", augment.frequencyMasks),
                       ("augment.frequency_mask_width", augment.frequencyMaskWidth)] where v < 0 {
            throw fail(k, "must be >= 0")
        }
        if augment.mixupAlpha < 0 { throw fail("augment.mixup_alpha", "must be >= 0 (0 disables mixup)") }
        if let hop = evaluate.windowHop, !(1...model.cropFrames).contains(hop) {
            throw fail("evaluate.window_hop", "must be in 1...\(model.cropFrames) (model.crop_frames)")
        }
        if train.mode != .scratch && (model.initCheckpoint ?? "").isEmpty {
            throw fail("model.init", "train.mode = \"\(train.mode.rawValue)\" needs the checkpoint to start from "
                       + "(e.g. models/musicnn-msd-vgg.h5, written by `make pretrained`)")
        }
        if train.mode == .scratch, let initial = model.initCheckpoint, !initial.isEmpty {
            throw fail("model.init", "is used by train.mode = \"probe\" or \"finetune\" (mode is \"scratch\")")
        }
        if probe.cGrid.isEmpty || probe.cGrid.contains(where: { !($0 > 0) || !$0.isFinite }) {
            throw fail("probe.c_grid", "must list one or more positive inverse regularisation strengths")
        }
        if probe.maxIterations < 1 { throw fail("probe.max_iterations", "must be >= 1") }
        if finetune.headEpochs < 0 { throw fail("finetune.head_epochs", "must be >= 0") }
        if !(finetune.bodyLearningRateScale >= 0 && finetune.bodyLearningRateScale <= 10) {
            throw fail("finetune.body_learning_rate_scale", "must be in [0, 10]")
        }
    }
}

// MARK: - Reading

extension TrainingConfiguration {
    /// Reads and validates a TOML training file.
    public static func load(path: String) throws(ConfigurationError) -> TrainingConfiguration {
        try parse(toml: TOMLConfiguration.readText(path: path), file: path)
    }

    /// Parses and validates TOML text.
    public static func parse(toml text: String, file: String? = nil) throws(ConfigurationError) -> TrainingConfiguration {
        let config = try TOMLConfiguration.decode(TrainingConfiguration.self, from: text, file: file)
        try config.validate(file: file)
        return config
    }

    /// Canonical JSON (sorted keys), as stored in checkpoints.
    public func jsonText() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return String(decoding: try! encoder.encode(self), as: UTF8.self)
    }

    /// A configuration stored in a checkpoint or run record. Keys added after it was written read as the behaviour
    /// of the version that wrote it, not as today's defaults (see ``legacyValues``).
    public static func fromJSON(_ text: String) throws(ConfigurationError) -> TrainingConfiguration {
        do {
            var object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] ?? [:]
            for (section, values) in legacyValues {
                var table = object[section] as? [String: Any] ?? [:]
                for (key, value) in values where table[key] == nil { table[key] = value }
                object[section] = table
            }
            let filled = try JSONSerialization.data(withJSONObject: object)
            return try JSONDecoder().decode(TrainingConfiguration.self, from: filled)
        } catch {
            throw ConfigurationError(file: nil, key: nil, reason: "stored training configuration is not valid: \(error)")
        }
    }

    /// What the keys introduced by issue 9 meant before they existed (plain blocks, average pooling, no class
    /// balance): a stored configuration without them is read with these values.
    static let legacyValues: [String: [String: String]] = [
        "model": ["block": ConvBlockKind.plain.rawValue, "pool": GlobalPoolKind.average.rawValue],
        "train": ["balance": ClassBalance.none.rawValue],
    ]

    enum CodingKeys: String, CodingKey, CaseIterable {
        case model, train, optimizer, schedule, augment, evaluate, probe, finetune
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.value(.model, default: Model())
        train = try c.value(.train, default: Train())
        optimizer = try c.value(.optimizer, default: OptimizerSettings())
        schedule = try c.value(.schedule, default: Schedule())
        augment = try c.value(.augment, default: Augment())
        evaluate = try c.value(.evaluate, default: Evaluate())
        probe = try c.value(.probe, default: Probe())
        finetune = try c.value(.finetune, default: Finetune())
    }
}
