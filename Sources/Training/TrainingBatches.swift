import GenreCore
import Pipeline

/// How training batches are cut, augmented and delivered.
public struct TrainingBatchOptions: Sendable, Equatable, Codable {
    /// Clips per batch.
    public var batchSize: Int
    /// Frames of the random crop taken from every clip (at most the clips' frames).
    public var cropFrames: Int
    /// Seed of every random choice (order, crop offsets, masks, mixup); an epoch's draws depend only on
    /// (seed, epoch).
    public var seed: UInt64
    /// SpecAugment time masks per clip: each zeroes (sets to the normalised mean) `0...timeMaskWidth` consecutive
    /// frames of the crop, width and start uniform.
    public var timeMasks: Int
    /// Largest width of a time mask, in frames.
    public var timeMaskWidth: Int
    /// SpecAugment frequency masks per clip: each zeroes `0...frequencyMaskWidth` consecutive mel bands.
    public var frequencyMasks: Int
    /// Largest width of a frequency mask, in mel bands.
    public var frequencyMaskWidth: Int
    /// Mixup: each clip is mixed with a partner of the same batch (a random permutation), `λ·x + (1-λ)·x_partner`,
    /// with `λ ~ Beta(α, α)` drawn per clip; targets become `λ·onehot(label) + (1-λ)·onehot(partner's label)`.
    /// 0 (the default) turns mixup off.
    public var mixupAlpha: Double
    /// A last batch with fewer clips than this is dropped (2 by default: batch normalisation needs two samples;
    /// the reference trainer skips such a batch too). 1 keeps every clip.
    public var minimumBatchSize: Int
    /// Shards kept open by the batch producer (least recently used closed first).
    public var maxOpenShards: Int
    /// Build the next batch on a background thread while the caller trains on the current one (same batches as
    /// without).
    public var prefetch: Bool
    /// How the epoch's clips are chosen: `.sampler` shares the positions equally among the classes (see
    /// `EpochPlan`); `.none` and `.loss` deliver every clip once (`.loss` acts in the loss, not here).
    public var balance: TrainingConfiguration.ClassBalance

    public init(
        batchSize: Int = 32, cropFrames: Int = 128, seed: UInt64 = 0, timeMasks: Int = 0, timeMaskWidth: Int = 0,
        frequencyMasks: Int = 0, frequencyMaskWidth: Int = 0, mixupAlpha: Double = 0, minimumBatchSize: Int = 2,
        maxOpenShards: Int = 8, prefetch: Bool = true, balance: TrainingConfiguration.ClassBalance = .none
    ) {
        self.batchSize = batchSize
        self.cropFrames = cropFrames
        self.seed = seed
        self.timeMasks = timeMasks
        self.timeMaskWidth = timeMaskWidth
        self.frequencyMasks = frequencyMasks
        self.frequencyMaskWidth = frequencyMaskWidth
        self.mixupAlpha = mixupAlpha
        self.minimumBatchSize = minimumBatchSize
        self.maxOpenShards = maxOpenShards
        self.prefetch = prefetch
        self.balance = balance
    }

    /// Why these options cannot cut clips of `[nMels, frames]` (empty when they can).
    public func problems(nMels: Int, frames: Int) -> [String] {
        var problems: [String] = []
        if batchSize < 1 { problems.append("batch size \(batchSize) (must be >= 1)") }
        if cropFrames < 1 { problems.append("crop of \(cropFrames) frames (must be >= 1)") }
        if cropFrames > frames {
            problems.append("crop of \(cropFrames) frames is longer than the clips' \(frames) frames")
        }
        if timeMasks < 0 || timeMaskWidth < 0 || frequencyMasks < 0 || frequencyMaskWidth < 0 {
            problems.append("negative mask count or width")
        }
        if !(mixupAlpha >= 0) || !mixupAlpha.isFinite { problems.append("mixup alpha \(mixupAlpha) (must be >= 0)") }
        if minimumBatchSize < 1 { problems.append("minimum batch size \(minimumBatchSize) (must be >= 1)") }
        if maxOpenShards < 1 { problems.append("max open shards \(maxOpenShards) (must be >= 1)") }
        return problems
    }
}

/// The mixup of one sample: its clip's label, its partner's label and the weight of its own clip.
public struct MixupPair: Sendable, Equatable {
    /// The sample's own class.
    public var labelA: Int32
    /// The partner's class.
    public var labelB: Int32
    /// Weight of the sample's own clip, in [0, 1]: input = `lambda·a + (1-lambda)·b`, and so is the target.
    public var lambda: Float
    /// Position of the partner in the same batch.
    public var partner: Int
}

/// The SpecAugment masks of one sample.
public struct SampleMasks: Sendable, Equatable {
    /// Zeroed frame ranges of the crop (within `0..<cropFrames`; possibly empty or overlapping).
    public var time: [Range<Int>]
    /// Zeroed mel-band ranges (within `0..<nMels`; possibly empty or overlapping).
    public var frequency: [Range<Int>]

    public init(time: [Range<Int>] = [], frequency: [Range<Int>] = []) {
        self.time = time
        self.frequency = frequency
    }
}

/// Every random choice of one training epoch, drawn up front from `SplitMix64.forEpoch(seed:epoch:)` in this
/// order: the clip order (a Fisher–Yates shuffle), the crop offset of every position, the masks of every position
/// (time masks then frequency masks, each width then start), then per batch the mixup partners (a shuffle of the
/// batch's positions) and the lambdas. An epoch is therefore reproducible from (seed, epoch, clip count, options)
/// alone, whoever builds its batches and on which thread.
///
/// The shuffled positions are the split's clips, each once; with `balance = .sampler` they are as many, but shared
/// equally among the classes present (the first `N mod K` classes in class order get one more), each class taking
/// its clips from its own stream of seeded permutations (see `BalancedSampler`; those draws depend on (seed, epoch,
/// labels) too), before the same shuffle.
public struct EpochPlan: Sendable, Equatable {
    /// The epoch number (any integer; runs usually count from 1).
    public let epoch: Int
    /// Clip indices of the split, in delivery order (with the balanced sampler a clip can appear more than once
    /// or not at all).
    public let order: [Int]
    /// Crop start frame of the clip at each position of `order`, in `0...(frames - cropFrames)`.
    public let offsets: [Int]
    /// Masks of each position (empty when masking is off).
    public let masks: [SampleMasks]
    /// Mixup of each position, nil when mixup is off. Partners are positions inside the same batch, given
    /// relative to the batch start.
    public let mixup: [MixupPair]?
    /// Clips per batch.
    public let batchSize: Int
    /// Batches delivered (a last batch smaller than the options' `minimumBatchSize` is dropped).
    public let batchCount: Int

    /// Draws the plan of epoch `epoch` for a split with `labels`, clips of `[nMels, frames]`.
    public init(epoch: Int, labels: [Int32], nMels: Int, frames: Int, options: TrainingBatchOptions) {
        let count = labels.count
        var generator = SplitMix64.forEpoch(seed: options.seed, epoch: epoch)
        var order = options.balance == .sampler
            ? BalancedSampler.picks(labels: labels, seed: options.seed, epoch: epoch)
            : Array(0..<count)
        generator.shuffle(&order)
        let crop = min(options.cropFrames, frames)
        let offsets = (0..<count).map { _ in generator.below(frames - crop + 1) }

        func ranges(_ masks: Int, _ width: Int, within size: Int) -> [Range<Int>] {
            (0..<masks).map { _ in
                let w = min(generator.below(width + 1), size)
                let start = generator.below(size - w + 1)
                return start..<(start + w)
            }
        }
        let masking = (options.timeMasks > 0 && options.timeMaskWidth > 0)
            || (options.frequencyMasks > 0 && options.frequencyMaskWidth > 0)
        let masks = masking
            ? (0..<count).map { _ in
                SampleMasks(time: ranges(options.timeMasks, options.timeMaskWidth, within: crop),
                            frequency: ranges(options.frequencyMasks, options.frequencyMaskWidth, within: nMels))
            }
            : []

        let batchSize = max(1, options.batchSize)
        let full = count / batchSize, rest = count % batchSize
        let batchCount = full + (rest > 0 && rest >= options.minimumBatchSize ? 1 : 0)
        var mixup: [MixupPair]?
        if options.mixupAlpha > 0 {
            var pairs: [MixupPair] = []
            pairs.reserveCapacity(count)
            for batch in 0..<batchCount {
                let lower = batch * batchSize, upper = min(count, lower + batchSize)
                var partners = Array(0..<(upper - lower))
                generator.shuffle(&partners)
                for (k, partner) in partners.enumerated() {
                    let lambda = Float(generator.beta(options.mixupAlpha, options.mixupAlpha))
                    pairs.append(MixupPair(labelA: labels[order[lower + k]], labelB: labels[order[lower + partner]],
                                           lambda: lambda, partner: partner))
                }
            }
            mixup = pairs
        }
        self.epoch = epoch
        self.order = order
        self.offsets = offsets
        self.masks = masks
        self.mixup = mixup
        self.batchSize = batchSize
        self.batchCount = batchCount
    }

    /// Positions (indices into `order`) of batch `batch`.
    public func positions(ofBatch batch: Int) -> Range<Int> {
        let lower = batch * batchSize
        return lower..<min(order.count, lower + batchSize)
    }
}

/// One training batch.
public struct TrainingBatch: Sendable {
    /// The batch number in its epoch, from 0.
    public let index: Int
    /// Samples in the batch.
    public let count: Int
    /// Mel bands (the input's height).
    public let nMels: Int
    /// Frames of each crop (the input's width).
    public let cropFrames: Int
    /// Inputs `[count, 1, nMels, cropFrames]`, contiguous NCHW (row-major), normalised features after masks and
    /// mixup.
    public var inputs: [Float]
    /// Class of each sample's own clip (with mixup: `mixup[i].labelA`).
    public let labels: [Int32]
    /// Index of each sample's clip in the train split.
    public let clips: [Int]
    /// Crop start frame of each sample.
    public let offsets: [Int]
    /// Masks applied to each sample (empty when masking is off).
    public let masks: [SampleMasks]
    /// Mixup of each sample, nil when mixup is off.
    public let mixup: [MixupPair]?

    /// The input's shape, `[count, 1, nMels, cropFrames]`.
    public var shape: [Int] { [count, 1, nMels, cropFrames] }

    /// Targets `[count, classCount]` row-major: one-hot rows, or with mixup `lambda` on `labelA` plus
    /// `1 - lambda` on `labelB` (each row sums to 1).
    public func softTargets(classCount: Int) -> [Float] {
        var targets = [Float](repeating: 0, count: count * classCount)
        for i in 0..<count {
            if let pair = mixup?[i] {
                targets[i * classCount + Int(pair.labelA)] += pair.lambda
                targets[i * classCount + Int(pair.labelB)] += 1 - pair.lambda
            } else {
                targets[i * classCount + Int(labels[i])] = 1
            }
        }
        return targets
    }
}

/// The batches of one training epoch: one random `cropFrames` crop of every training clip (with
/// `balance = .sampler`, of every position of the class-balanced plan), in the order of the epoch's plan, with the options' masks and mixup; see `EpochPlan` for how the randomness is drawn. Reads clips on
/// demand (keeping at most `maxOpenShards` shards open) and, with `prefetch`, builds the next batch on a background
/// thread. Single owner: dropping it stops its thread.
///
///     var batches = try TrainingBatches(dataset: dataset, epoch: 3, options: options)
///     while let batch = try batches.next() { ... }
public struct TrainingBatches: ~Copyable {
    /// The epoch's random choices.
    public let plan: EpochPlan
    /// Batches in the epoch.
    public var batchCount: Int { plan.batchCount }
    private var stream: BatchStream<TrainingBatchBuilder>

    /// Prepares epoch `epoch` of the `split` split (normally `"train"`).
    public init(
        dataset: ShardDataset, epoch: Int, options: TrainingBatchOptions, split: String = "train"
    ) throws(TrainingError) {
        let problems = options.problems(nMels: dataset.nMels, frames: dataset.frames)
        guard problems.isEmpty else {
            throw .invalidOptions(directory: dataset.directory, reason: "training batches: "
                                  + problems.joined(separator: "; "))
        }
        let index = try dataset.split(split)
        let plan = EpochPlan(epoch: epoch, labels: index.labels, nMels: dataset.nMels, frames: dataset.frames,
                             options: options)
        self.plan = plan
        stream = BatchStream(count: plan.batchCount, prefetch: options.prefetch) {
            TrainingBatchBuilder(dataset: dataset, split: index, plan: plan, options: options)
        }
    }

    /// The next batch, or nil at the end of the epoch.
    public mutating func next() throws(TrainingError) -> TrainingBatch? {
        try stream.next()
    }
}

/// Builds training batches from an epoch plan: reads the clips (in shard order, to keep few shards open), copies the
/// crops, applies masks, then mixup.
struct TrainingBatchBuilder: BatchBuilding, ~Copyable {
    let dataset: ShardDataset
    let split: ShardSplit
    let plan: EpochPlan
    let options: TrainingBatchOptions
    var readers: OpenShards
    /// One whole clip, `[nMels, frames]`.
    var clip: [Float]

    init(dataset: ShardDataset, split: ShardSplit, plan: EpochPlan, options: TrainingBatchOptions) {
        self.dataset = dataset
        self.split = split
        self.plan = plan
        self.options = options
        readers = OpenShards(dataset: dataset, split: split, capacity: options.maxOpenShards)
        clip = [Float](repeating: 0, count: dataset.clipElements)
    }

    mutating func build(_ index: Int) throws(TrainingError) -> TrainingBatch {
        let positions = plan.positions(ofBatch: index)
        let count = positions.count
        let nMels = dataset.nMels, frames = dataset.frames, crop = options.cropFrames
        let sampleElements = nMels * crop
        var inputs = [Float](repeating: 0, count: count * sampleElements)

        // Read in storage order: consecutive reads hit the same shard.
        let slots = (0..<count).sorted { a, b in
            (plan.order[positions.lowerBound + a], a) < (plan.order[positions.lowerBound + b], b)
        }
        for slot in slots {
            let position = positions.lowerBound + slot
            try clip.withUnsafeMutableBufferPointer { (clip) throws(TrainingError) in
                try readers.read(clip: plan.order[position], into: clip)
            }
            let offset = plan.offsets[position]
            clip.withUnsafeBufferPointer { source in
                inputs.withUnsafeMutableBufferPointer { destination in
                    let sample = destination.baseAddress! + slot * sampleElements
                    for band in 0..<nMels {
                        (sample + band * crop).update(from: source.baseAddress! + band * frames + offset, count: crop)
                    }
                }
            }
        }

        if !plan.masks.isEmpty {
            inputs.withUnsafeMutableBufferPointer { inputs in
                for slot in 0..<count {
                    let sample = inputs.baseAddress! + slot * sampleElements
                    let masks = plan.masks[positions.lowerBound + slot]
                    for range in masks.time where !range.isEmpty {
                        for band in 0..<nMels {
                            (sample + band * crop + range.lowerBound).update(repeating: 0, count: range.count)
                        }
                    }
                    for range in masks.frequency where !range.isEmpty {
                        (sample + range.lowerBound * crop).update(repeating: 0, count: range.count * crop)
                    }
                }
            }
        }

        var mixup: [MixupPair]?
        if let pairs = plan.mixup {
            let batchPairs = Array(pairs[positions])
            let source = inputs
            source.withUnsafeBufferPointer { source in
                inputs.withUnsafeMutableBufferPointer { inputs in
                    for slot in 0..<count {
                        let lambda = batchPairs[slot].lambda, other = 1 - lambda
                        let a = source.baseAddress! + slot * sampleElements
                        let b = source.baseAddress! + batchPairs[slot].partner * sampleElements
                        let out = inputs.baseAddress! + slot * sampleElements
                        for k in 0..<sampleElements { out[k] = lambda * a[k] + other * b[k] }
                    }
                }
            }
            mixup = batchPairs
        }

        let clips = positions.map { plan.order[$0] }
        return TrainingBatch(
            index: index, count: count, nMels: nMels, cropFrames: crop, inputs: inputs,
            labels: clips.map { split.labels[$0] }, clips: clips, offsets: Array(plan.offsets[positions]),
            masks: plan.masks.isEmpty ? [] : Array(plan.masks[positions]), mixup: mixup)
    }
}
