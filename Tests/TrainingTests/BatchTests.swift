import GenreCore
import Foundation
import Pipeline
import Shards
import Testing

@testable import Training

/// All batches of one epoch.
func epochBatches(_ dataset: ShardDataset, epoch: Int, _ options: TrainingBatchOptions) throws -> [TrainingBatch] {
    var batches = try TrainingBatches(dataset: dataset, epoch: epoch, options: options)
    var all: [TrainingBatch] = []
    while let batch = try batches.next() { all.append(batch) }
    #expect(all.count == batches.batchCount)
    return all
}

@Suite struct TrainingBatchTests {
    @Test(arguments: [false, true])
    func cropsComeFromTheirClips(prefetch: Bool) throws {
        let directory = try TemporaryDirectory()
        let ids = try standardHandMadeFolder(directory.path)["train"]!
        let dataset = try ShardDataset(directory: directory.path)
        // One open shard at a time: clips of three shards must still come out right.
        let options = TrainingBatchOptions(batchSize: 4, cropFrames: 16, seed: 7, maxOpenShards: 1, prefetch: prefetch)
        let batches = try epochBatches(dataset, epoch: 1, options)
        #expect(batches.map(\.count) == [4, 4, 3])
        var seen: [Int] = []
        for batch in batches {
            #expect(batch.shape == [batch.count, 1, 8, 16])
            #expect(batch.inputs.count == batch.count * 8 * 16)
            for i in 0..<batch.count {
                let clip = batch.clips[i], offset = batch.offsets[i]
                #expect(offset >= 0 && offset <= 40 - 16)
                #expect(batch.labels[i] == (try dataset.split("train")).labels[clip])
                for band in 0..<8 {
                    for t in 0..<16 {
                        let value = batch.inputs[((i * 8) + band) * 16 + t]
                        #expect(value == cellValue(clip: ids[clip], band: band, frame: offset + t))
                    }
                }
            }
            seen += batch.clips
        }
        #expect(seen.sorted() == Array(0..<11))  // every training clip once per epoch
    }

    /// On the pipeline's own shards, every crop equals the clip as `ShardReader` reads it.
    @Test func cropsOfPipelineShardsEqualShardReaderData() throws {
        let dataset = try ShardDataset(directory: try PipelineFixture.folder())
        let train = try dataset.split("train")
        let batches = try epochBatches(dataset, epoch: 2, .init(batchSize: 4, cropFrames: 128, seed: 3))
        #expect(batches.map(\.count) == [4, 4, 2])  // the last batch of 2 is kept (>= minimumBatchSize)
        var covered = 0
        for batch in batches {
            for i in 0..<batch.count {
                let clip = batch.clips[i]
                let (shard, row) = train.locate(clip)
                let reader = try ShardReader(path: train.shards[shard].path)
                let mel = try reader.mel(at: row)
                let frames = dataset.frames
                #expect(reader.labels[row] == batch.labels[i])
                for band in stride(from: 0, to: 128, by: 9) {
                    let crop = Array(batch.inputs[((i * 128 + band) * 128)..<((i * 128 + band) * 128 + 128)])
                    let source = Array(mel[(band * frames + batch.offsets[i])..<(band * frames + batch.offsets[i] + 128)])
                    #expect(crop == source)
                }
                covered += 1
            }
        }
        #expect(covered == 10)
    }

    @Test func aLastBatchSmallerThanTheMinimumIsDropped() throws {
        let directory = try TemporaryDirectory()
        try standardHandMadeFolder(directory.path)
        let dataset = try ShardDataset(directory: directory.path)
        #expect(try epochBatches(dataset, epoch: 1, .init(batchSize: 5, cropFrames: 8)).map(\.count) == [5, 5])
        #expect(try epochBatches(dataset, epoch: 1, .init(batchSize: 5, cropFrames: 8, minimumBatchSize: 1))
            .map(\.count) == [5, 5, 1])
        #expect(try epochBatches(dataset, epoch: 1, .init(batchSize: 3, cropFrames: 8)).map(\.count) == [3, 3, 3, 2])
    }

    @Test func epochOrderDependsOnlyOnSeedAndEpoch() throws {
        let directory = try TemporaryDirectory()
        try standardHandMadeFolder(directory.path)
        let dataset = try ShardDataset(directory: directory.path)
        let options = TrainingBatchOptions(batchSize: 4, cropFrames: 16, seed: 42, timeMasks: 1, timeMaskWidth: 4,
                                           mixupAlpha: 0.4, minimumBatchSize: 1)
        let labels = try dataset.split("train").labels
        let plan = EpochPlan(epoch: 5, labels: labels, nMels: 8, frames: 40, options: options)
        #expect(plan == EpochPlan(epoch: 5, labels: labels, nMels: 8, frames: 40, options: options))
        #expect(plan.order != EpochPlan(epoch: 6, labels: labels, nMels: 8, frames: 40, options: options).order)
        var otherSeed = options
        otherSeed.seed = 43
        #expect(plan.order != EpochPlan(epoch: 5, labels: labels, nMels: 8, frames: 40, options: otherSeed).order)
        #expect(plan.order.sorted() == Array(0..<11))

        // Two runs (one resumed at epoch 5, one with prefetching) deliver identical batches.
        let first = try epochBatches(dataset, epoch: 5, options)
        var prefetching = options
        prefetching.prefetch = false
        let second = try epochBatches(dataset, epoch: 5, prefetching)
        #expect(first.map(\.clips) == second.map(\.clips))
        #expect(first.map(\.inputs) == second.map(\.inputs))
        #expect(first.flatMap(\.clips) == plan.order)
        // The order of the reference SplitMix64 sequence is pinned: a change of algorithm shows up here.
        var generator = SplitMix64.forEpoch(seed: 42, epoch: 5)
        var expected = Array(0..<11)
        generator.shuffle(&expected)
        #expect(plan.order == expected)
    }

    @Test func masksAreZeroAndStayWithinTheirWidths() throws {
        let directory = try TemporaryDirectory()
        let ids = try standardHandMadeFolder(directory.path)["train"]!
        let dataset = try ShardDataset(directory: directory.path)
        let options = TrainingBatchOptions(batchSize: 4, cropFrames: 20, seed: 9, timeMasks: 2, timeMaskWidth: 5,
                                           frequencyMasks: 2, frequencyMaskWidth: 3, minimumBatchSize: 1)
        var maskedCells = 0
        for epoch in 1...4 {
            for batch in try epochBatches(dataset, epoch: epoch, options) {
                #expect(batch.masks.count == batch.count)
                for i in 0..<batch.count {
                    let masks = batch.masks[i]
                    #expect(masks.time.count == 2 && masks.frequency.count == 2)
                    for range in masks.time { #expect(range.count <= 5 && range.lowerBound >= 0 && range.upperBound <= 20) }
                    for range in masks.frequency { #expect(range.count <= 3 && range.lowerBound >= 0 && range.upperBound <= 8) }
                    for band in 0..<8 {
                        for t in 0..<20 {
                            let masked = masks.time.contains { $0.contains(t) } || masks.frequency.contains { $0.contains(band) }
                            let value = batch.inputs[((i * 8) + band) * 20 + t]
                            if masked {
                                #expect(value == 0)
                                maskedCells += 1
                            } else {
                                #expect(value == cellValue(clip: ids[batch.clips[i]], band: band, frame: batch.offsets[i] + t))
                            }
                        }
                    }
                }
            }
        }
        #expect(maskedCells > 0)
    }

    @Test func mixupMixesPairsOfTheBatchWithSoftTargets() throws {
        let directory = try TemporaryDirectory()
        try standardHandMadeFolder(directory.path)
        let dataset = try ShardDataset(directory: directory.path)
        let plain = TrainingBatchOptions(batchSize: 4, cropFrames: 16, seed: 11, minimumBatchSize: 1)
        var mixing = plain
        mixing.mixupAlpha = 0.4
        var lambdas: [Float] = []
        for epoch in 1...3 {
            let unmixed = try epochBatches(dataset, epoch: epoch, plain)
            let mixed = try epochBatches(dataset, epoch: epoch, mixing)
            #expect(unmixed.map(\.clips) == mixed.map(\.clips))  // mixup draws come after the order and crops
            for (a, m) in zip(unmixed, mixed) {
                #expect(a.mixup == nil)
                let pairs = try #require(m.mixup)
                #expect(Set(pairs.map(\.partner)) == Set(0..<m.count))  // partners are a permutation of the batch
                let targets = m.softTargets(classCount: 3)
                for i in 0..<m.count {
                    let pair = pairs[i]
                    #expect(pair.lambda >= 0 && pair.lambda <= 1)
                    #expect(pair.labelA == m.labels[i] && pair.labelB == m.labels[pair.partner])
                    let row = targets[(i * 3)..<(i * 3 + 3)]
                    // λ + (1 - λ) in float32: the subtraction and the sum round once each.
                    #expect(Double(abs(row.reduce(0, +) - 1)) <= ErrorBound.gamma(2))
                    #expect(row.allSatisfy { $0 >= 0 })
                    if pair.labelA != pair.labelB { #expect(row[i * 3 + Int(pair.labelA)] == pair.lambda) }
                    for k in stride(from: 0, to: 8 * 16, by: 7) {
                        let x = a.inputs[i * 128 + k], y = a.inputs[pair.partner * 128 + k]
                        let expected = pair.lambda * x + (1 - pair.lambda) * y
                        // Both sides: λ·x + (1 - λ)·y in float32, at most 3 roundings each, in their own order.
                        let bound = 2 * ErrorBound.gamma(3) * (abs(Double(pair.lambda * x)) + abs(Double((1 - pair.lambda) * y)))
                        #expect(abs(Double(m.inputs[i * 128 + k]) - Double(expected)) <= bound)
                    }
                    lambdas.append(pair.lambda)
                }
            }
            // Without mixup the targets are one-hot.
            let oneHot = unmixed[0].softTargets(classCount: 3)
            #expect(oneHot.filter { $0 == 1 }.count == unmixed[0].count && oneHot.reduce(0, +) == Float(unmixed[0].count))
        }
        #expect(Set(lambdas).count > lambdas.count / 2)  // drawn per sample
    }

    @Test(arguments: [(0.4, 0.4), (2.0, 5.0), (1.0, 1.0)])
    func betaDrawsHaveTheRightMoments(alpha: Double, beta: Double) {
        var generator = SplitMix64(seed: 2024)
        let n = 40_000
        var draws: [Double] = []
        for _ in 0..<n { draws.append(generator.beta(alpha, beta)) }
        #expect(draws.allSatisfy { $0 >= 0 && $0 <= 1 })
        let mean = draws.reduce(0, +) / Double(n)
        let variance = draws.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n)
        let expectedMean = alpha / (alpha + beta)
        let expectedVariance = alpha * beta / ((alpha + beta) * (alpha + beta) * (alpha + beta + 1))
        #expect(abs(mean - expectedMean) < 0.01)
        #expect(abs(variance - expectedVariance) < 0.1 * expectedVariance)
    }
}

@Suite struct EvaluationWindowTests {
    @Test(arguments: [false, true])
    func windowsCoverEveryClipFromFrameZero(prefetch: Bool) throws {
        let directory = try TemporaryDirectory()
        let ids = try standardHandMadeFolder(directory.path)["train"]!
        let dataset = try ShardDataset(directory: directory.path)
        var windows = try EvaluationWindows(dataset: dataset, split: "train", cropFrames: 12, batchSize: 5,
                                            maxOpenShards: 1, prefetch: prefetch)
        // 40 frames of audio (1 s fills them): 0, 12, 24, then 28 ends at the last frame.
        #expect(windows.windowsPerClip == [Int](repeating: 4, count: 11))
        #expect(windows.windowCount == 44)
        #expect(windows.batchCount == 9)
        var triples: [[Int]] = []
        var sizes: [Int] = []
        while let batch = try windows.next() {
            sizes.append(batch.count)
            #expect(batch.shape == [batch.count, 1, 8, 12])
            for i in 0..<batch.count {
                triples.append([batch.clips[i], batch.windows[i], batch.starts[i]])
                #expect(batch.labels[i] == windows.labels[batch.clips[i]])
                for band in [0, 3, 7] {
                    for t in [0, 5, 11] {
                        #expect(batch.inputs[(i * 8 + band) * 12 + t]
                                == cellValue(clip: ids[batch.clips[i]], band: band, frame: batch.starts[i] + t))
                    }
                }
            }
        }
        #expect(sizes == [5, 5, 5, 5, 5, 5, 5, 5, 4])
        #expect(triples == (0..<11).flatMap { clip in zip(0..<4, [0, 12, 24, 28]).map { [clip, $0, $1] } })
        #expect(try windows.next() == nil)
    }

    @Test func aWindowAsLongAsTheClipGivesOneWindow() throws {
        let directory = try TemporaryDirectory()
        try standardHandMadeFolder(directory.path)
        let dataset = try ShardDataset(directory: directory.path)
        var whole = try EvaluationWindows(dataset: dataset, split: "test", cropFrames: 40, batchSize: 64)
        #expect(whole.windowsPerClip == [1, 1, 1, 1] && whole.windowCount == 4 && whole.batchCount == 1)
        let batch = try #require(try whole.next())
        #expect(batch.clips == [0, 1, 2, 3] && batch.windows == [0, 0, 0, 0] && batch.starts == [0, 0, 0, 0])
        var long = try EvaluationWindows(dataset: dataset, split: "test", cropFrames: 21)
        #expect(long.windowsPerClip == [2, 2, 2, 2])  // 0, and 19 ending at frame 40
        #expect(try long.next()?.starts == [0, 19, 0, 19, 0, 19, 0, 19])
    }

    @Test func pipelineShardsGiveFourWindowsOf50Frames() throws {
        let dataset = try ShardDataset(directory: try PipelineFixture.folder())
        // 4 s clips: 173 frames of audio, windows at 0, 50, 100 and 123 (ending at the last frame).
        var windows = try EvaluationWindows(dataset: dataset, split: "test", cropFrames: 50, batchSize: 8)
        #expect(windows.windowsPerClip == [Int](repeating: 4, count: 10) && windows.windowCount == 40)
        #expect(windows.windows.prefix(4).map(\.start) == [0, 50, 100, 123])
        var count = 0
        let test = try dataset.split("test")
        while let batch = try windows.next() {
            for i in 0..<batch.count {
                let (shard, row) = test.locate(batch.clips[i])
                let mel = try ShardReader(path: test.shards[shard].path).mel(at: row)
                let band = 64
                let window = Array(batch.inputs[((i * 128 + band) * 50)..<((i * 128 + band) * 50 + 50)])
                let start = band * dataset.frames + batch.starts[i]
                #expect(window == Array(mel[start..<(start + 50)]))
            }
            count += batch.count
        }
        #expect(count == 40)
    }
}
