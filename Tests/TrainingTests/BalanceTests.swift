import Foundation
import Testing

@testable import Training

@Suite struct ClassBalanceTests {
    /// 14 clips of class 0, 4 of class 1, none of class 2, 2 of class 3, interleaved.
    static let labels: [Int32] = {
        var labels = [Int32](repeating: 0, count: 14) + [Int32](repeating: 1, count: 4) + [3, 3]
        var generator = SplitMix64Shuffler(seed: 5)
        generator.shuffle(&labels)
        return labels
    }()

    func plan(epoch: Int, seed: UInt64 = 9, labels: [Int32] = Self.labels) -> EpochPlan {
        EpochPlan(epoch: epoch, labels: labels, nMels: 4, frames: 20,
                  options: TrainingBatchOptions(batchSize: 4, cropFrames: 8, seed: seed, balance: .sampler))
    }

    func clips(of label: Int32, in order: [Int]) -> [Int] { order.filter { Self.labels[$0] == label } }

    @Test func theSamplerSharesAnEpochEquallyAmongThePresentClasses() {
        for epoch in 1...4 {
            let order = plan(epoch: epoch).order
            #expect(order.count == 20)  // as many positions as clips
            // 20 positions, 3 classes present: 7, 7, 6 (the remainder to the first classes in class order).
            #expect([0, 1, 2, 3].map { clips(of: Int32($0), in: order).count } == [7, 7, 0, 6])
        }
    }

    @Test func theSamplerIsDeterministicForSeedAndEpoch() {
        #expect(plan(epoch: 3) == plan(epoch: 3))
        #expect(plan(epoch: 3).order != plan(epoch: 4).order)
        #expect(plan(epoch: 3).order != plan(epoch: 3, seed: 10).order)
        // The other draws follow the same stream as without balancing: only the positions' clips differ.
        let plain = EpochPlan(epoch: 3, labels: Self.labels, nMels: 4, frames: 20,
                              options: TrainingBatchOptions(batchSize: 4, cropFrames: 8, seed: 9))
        #expect(plain.offsets == plan(epoch: 3).offsets)
    }

    @Test func smallClassesAreCoveredAndLargeOnesContinueAcrossEpochs() {
        for epoch in 1...3 {
            let order = plan(epoch: epoch).order
            // Class 3 (2 clips, 6 positions): each clip 3 times. Class 1 (4 clips, 7 positions): each at least once.
            let small = clips(of: 3, in: order)
            #expect(Set(small) == Set(Self.labels.indices.filter { Self.labels[$0] == 3 }))
            #expect(Dictionary(grouping: small, by: { $0 }).values.allSatisfy { $0.count == 3 })
            let middle = clips(of: 1, in: order)
            #expect(Set(middle) == Set(Self.labels.indices.filter { Self.labels[$0] == 1 }))
        }
        // Class 0 (14 clips, 7 positions): epochs 1 and 2 walk through one permutation, every clip once.
        let two = clips(of: 0, in: plan(epoch: 1).order) + clips(of: 0, in: plan(epoch: 2).order)
        #expect(two.sorted() == Self.labels.indices.filter { Self.labels[$0] == 0 })
    }

    @Test func withoutBalancingEveryClipComesOnce() {
        let plain = EpochPlan(epoch: 1, labels: Self.labels, nMels: 4, frames: 20,
                              options: TrainingBatchOptions(batchSize: 4, cropFrames: 8, seed: 9, balance: .loss))
        #expect(plain.order.sorted() == Array(0..<20))
    }

    @Test func balancedClassWeightsAreNOverKTimesTheClassCount() {
        // N = 20, K = 3 present classes: 20 / (3 · 14), 20 / (3 · 4), absent 0, 20 / (3 · 2).
        let weights = ClassWeights.balanced(labels: Self.labels, classCount: 4)
        let expected = [20.0 / 42, 20.0 / 12, 0, 20.0 / 6]
        for (w, e) in zip(weights, expected) { #expect(abs(w - e) < 1e-15) }
        #expect(ClassWeights.balanced(labels: [0, 0, 1, 1], classCount: 2) == [1, 1])
        #expect(ClassWeights.balanced(labels: [0, 0, 0, 1], classCount: 2) == [4.0 / 6, 2])
    }

    @Test func balanceAndWindowHopAreConfigurationKeys() throws {
        #expect(TrainingConfiguration().train.balance == .sampler)
        #expect(TrainingConfiguration().windowHop == 128)
        let c = try TrainingConfiguration.parse(toml: "[train]\nbalance = \"sampler\"\n[evaluate]\nwindow_hop = 32\n")
        #expect(c.train.balance == .sampler && c.evaluate.windowHop == 32 && c.windowHop == 32)
        #expect(c.batchOptions.balance == .sampler)
        #expect(try TrainingConfiguration.fromJSON(c.jsonText()) == c)
        #expect(try TrainingConfiguration.parse(toml: "[train]\nbalance = \"loss\"\n").train.balance == .loss)
        for (toml, key) in [("[train]\nbalance = \"oversample\"\n", "train.balance"),
                            ("[evaluate]\nwindow_hop = 0\n", "evaluate.window_hop"),
                            ("[evaluate]\nwindow_hop = 129\n", "evaluate.window_hop"),
                            ("[model]\ncrop_frames = 64\n[evaluate]\nwindow_hop = 65\n", "evaluate.window_hop"),
                            ("[evaluate]\nwindow_hopp = 3\n", "evaluate.window_hopp")] {
            #expect { _ = try TrainingConfiguration.parse(toml: toml, file: "t.toml") } throws: { error in
                let text = "\(error)"
                return text.contains(key) && text.contains("t.toml") && !text.contains("\n")
            }
        }
        // A configuration stored before the keys existed reads as it was (no balancing, non-overlapping windows).
        var old = try JSONSerialization.jsonObject(with: Data(TrainingConfiguration().jsonText().utf8)) as! [String: Any]
        old["evaluate"] = nil
        var train = old["train"] as! [String: Any]
        train["balance"] = nil
        old["train"] = train
        let text = String(decoding: try JSONSerialization.data(withJSONObject: old), as: UTF8.self)
        var was = TrainingConfiguration()
        was.train.balance = .none
        was.evaluate.windowHop = nil
        #expect(try TrainingConfiguration.fromJSON(text) == was)
    }

    /// A short run on an imbalanced hand-made folder with each mode: it trains, and the mode is in run.json, the
    /// first line of log.jsonl, the summary and the checkpoint.
    @Test(arguments: TrainingConfiguration.ClassBalance.allCases)
    func theBalanceModeIsRecorded(balance: TrainingConfiguration.ClassBalance) throws {
        let directory = try TemporaryDirectory("balance")
        try FileManager.default.createDirectory(atPath: directory.file("shards"), withIntermediateDirectories: true)
        try HandMadeFolder().write(to: directory.file("shards"), splits: [
            "train": [[0, 0, 0, 0, 0, 0, 0, 1, 1, 2]], "valid": [[0, 1, 2]],
        ])
        var c = TrainingConfiguration()
        c.model.channels = [4, 4]
        c.model.cropFrames = 16
        c.train.epochs = 2
        c.train.batchSize = 4
        c.train.balance = balance
        c.evaluate.windowHop = 8
        let summary = try Trainer(run: TrainingRun(shards: directory.file("shards"), directory: directory.file("run"),
                                                   configuration: c)).train()
        #expect(summary.epochs.count == 2 && summary.epochs.allSatisfy { $0.trainLoss!.isFinite })
        #expect(summary.balance == balance && summary.windowHop == 8)
        #expect(summary.text.contains("balance \(balance.rawValue), window hop 8"))
        let run = try TrainingRun.resuming(directory: directory.file("run"))
        #expect(run.configuration.train.balance == balance)
        let log = try String(contentsOfFile: directory.file("run/log.jsonl"), encoding: .utf8)
        let first = try JSONSerialization.jsonObject(with: Data(log.split(separator: "\n")[0].utf8)) as! [String: Any]
        #expect(first["balance"] as? String == balance.rawValue && first["window_hop"] as? Int == 8)
        #expect(try TrainingLog.read(path: directory.file("run/log.jsonl")).map(\.epoch) == [1, 2])
        #expect(try Checkpoint.read(from: directory.file("run/last.h5")).training.train.balance == balance)
        // The evaluation report names the mode and the windows.
        let outcome = try Evaluator.run(checkpointPath: directory.file("run/last.h5"), shards: directory.file("shards"),
                                        split: "valid", output: directory.file("evaluation"), examplesPerClass: 0)
        #expect(outcome.result.windowHop == 8 && outcome.result.windowFrames == 16)
        let html = try String(contentsOfFile: directory.file("evaluation/report.html"), encoding: .utf8)
        #expect(html.contains("<th>class balance (training)</th><td>\(balance.rawValue)</td>"))
        #expect(html.contains("16 frames every 8 frames (overlapping)"))
    }
}

/// A local shuffle for the test's label list (independent of the code under test).
struct SplitMix64Shuffler {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func shuffle<T>(_ items: inout [T]) {
        guard items.count > 1 else { return }
        for i in stride(from: items.count - 1, to: 0, by: -1) { items.swapAt(i, Int(next() % UInt64(i + 1))) }
    }
}
