import Foundation
import Net
import ConfigurationDecoding

// Each section of `TrainingConfiguration` decoded from TOML or JSON: snake_case keys, a default for every missing
// key (the value of `Self()`), an unknown key or a bad value an error naming it (helpers in ConfigurationDecoding).

extension TrainingConfiguration.Model {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case channels, kernel, dropout, cropFrames = "crop_frames", block, pool, initCheckpoint = "init"
    }
    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        channels = try c.value(.channels, default: Self().channels)
        kernel = try c.value(.kernel, default: Self().kernel)
        dropout = try c.number(.dropout) ?? Self().dropout
        cropFrames = try c.value(.cropFrames, default: Self().cropFrames)
        block = try c.choice(.block, default: Self().block)
        pool = try c.choice(.pool, default: Self().pool)
        initCheckpoint = try c.decodeIfPresent(String.self, forKey: .initCheckpoint)
    }
}

extension TrainingConfiguration.Train {
    enum CodingKeys: String, CodingKey, CaseIterable { case epochs, batchSize = "batch_size", seed, patience, balance, mode }
    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        epochs = try c.value(.epochs, default: Self().epochs)
        batchSize = try c.value(.batchSize, default: Self().batchSize)
        let seed = try c.value(.seed, default: 0)
        guard seed >= 0 else { throw ConfigurationError(file: nil, key: "train.seed", reason: "must be >= 0") }
        self.seed = UInt64(seed)
        patience = try c.value(.patience, default: Self().patience)
        balance = try c.choice(.balance, default: Self().balance)
        mode = try c.choice(.mode, default: Self().mode)
    }
}

extension TrainingConfiguration.OptimizerSettings {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case kind, learningRate = "learning_rate", weightDecay = "weight_decay", momentum
    }
    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        kind = try c.choice(.kind, default: Self().kind)
        learningRate = try c.number(.learningRate) ?? Self().learningRate
        weightDecay = try c.number(.weightDecay) ?? Self().weightDecay
        momentum = try c.number(.momentum) ?? Self().momentum
    }
}

extension TrainingConfiguration.Schedule {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case kind, warmupEpochs = "warmup_epochs", minimumFactor = "minimum_factor", stepEpochs = "step_epochs", gamma
    }
    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        kind = try c.choice(.kind, default: Self().kind)
        warmupEpochs = try c.value(.warmupEpochs, default: Self().warmupEpochs)
        minimumFactor = try c.number(.minimumFactor) ?? Self().minimumFactor
        stepEpochs = try c.value(.stepEpochs, default: Self().stepEpochs)
        gamma = try c.number(.gamma) ?? Self().gamma
    }
}

extension TrainingConfiguration.Augment {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case timeMasks = "time_masks", timeMaskWidth = "time_mask_width", frequencyMasks = "frequency_masks"
        case frequencyMaskWidth = "frequency_mask_width", mixupAlpha = "mixup_alpha"
    }
    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        timeMasks = try c.value(.timeMasks, default: Self().timeMasks)
        timeMaskWidth = try c.value(.timeMaskWidth, default: Self().timeMaskWidth)
        frequencyMasks = try c.value(.frequencyMasks, default: Self().frequencyMasks)
        frequencyMaskWidth = try c.value(.frequencyMaskWidth, default: Self().frequencyMaskWidth)
        mixupAlpha = try c.number(.mixupAlpha) ?? Self().mixupAlpha
    }
}

extension TrainingConfiguration.Evaluate {
    enum CodingKeys: String, CodingKey, CaseIterable { case windowHop = "window_hop" }
    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        windowHop = try c.decodeIfPresent(Int.self, forKey: .windowHop)
    }
}

extension TrainingConfiguration.Probe {
    enum CodingKeys: String, CodingKey, CaseIterable { case cGrid = "c_grid", maxIterations = "max_iterations" }
    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        cGrid = try c.numbers(.cGrid) ?? Self().cGrid
        maxIterations = try c.value(.maxIterations, default: Self().maxIterations)
    }
}

extension TrainingConfiguration.Finetune {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case headEpochs = "head_epochs", bodyLearningRateScale = "body_learning_rate_scale"
        case freezeBatchNorm = "freeze_batch_norm", headInit = "head_init", bodyDropout = "body_dropout"
    }
    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        headEpochs = try c.value(.headEpochs, default: Self().headEpochs)
        bodyLearningRateScale = try c.number(.bodyLearningRateScale) ?? Self().bodyLearningRateScale
        freezeBatchNorm = try c.value(.freezeBatchNorm, default: Self().freezeBatchNorm)
        headInit = try c.choice(.headInit, default: Self().headInit)
        bodyDropout = try c.value(.bodyDropout, default: Self().bodyDropout)
    }
}
