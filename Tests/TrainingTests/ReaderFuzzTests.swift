import Foundation
import GenreCore
import HDF5Store
import Net
import Pipeline
import Shards
import Testing

@testable import Training

/// Damaged files must make the readers throw, never crash (a hang shows as a test that does not finish; no clock
/// is read here, so a busy machine cannot fail it): a valid small shard and a valid small checkpoint
/// are mutated deterministically (truncated, bytes flipped, 8-byte words overwritten, 4 KB pages zeroed, blocks
/// duplicated) and each copy is opened with `ShardReader` (reading every clip and the checksum), `ShardVerifier`,
/// and `Checkpoint.read` + `makeModel`.
///
/// Environment (for `scripts/fuzz_readers.sh`): `GENREKIT_FUZZ_ITERATIONS` (default 150 per file),
/// `GENREKIT_FUZZ_SEED` (default 1), `GENREKIT_FUZZ_LOG` (a file where each mutation is written, and synced,
/// before it is tried: after a crash its last line names the culprit), `GENREKIT_FUZZ_DUMP` (a path prefix: each
/// mutated file is also copied to `<prefix>-shard.h5` / `<prefix>-checkpoint.h5`, so the crashing file is left there).
@Suite struct ReaderFuzzTests {
    static let iterations = ProcessInfo.processInfo.environment["GENREKIT_FUZZ_ITERATIONS"].flatMap { Int($0) } ?? 150
    static let seed = ProcessInfo.processInfo.environment["GENREKIT_FUZZ_SEED"].flatMap { UInt64($0) } ?? 1

    @Test func damagedShardsThrowOrReadCleanly() throws {
        let directory = try TemporaryDirectory("fuzz-shard")
        let valid = try makeSmallShard(in: directory.file("source"))
        let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: valid)))
        let folder = directory.file("shards")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let target = folder + "/train-00000.h5"
        let outcome = try fuzz(original, seed: Self.seed, label: "shard", target: target) {
            var readable = false
            // ShardReader does not pay for the structural check on open (it reads the whole file): a file that
            // fails it would crash HDF5 1.10 and is left to the verifier, which checks first.
            let structureIsSound = (try? HDF5Integrity.checkGlobalHeaps(path: target)) != nil
            if structureIsSound, let reader = try? ShardReader(path: target) {
                readable = true
                var clip = [Float](repeating: 0, count: reader.metadata.clipElements)
                for index in 0..<reader.count {
                    _ = try? clip.withUnsafeMutableBufferPointer { try reader.mel(at: index, into: $0) }
                }
                _ = try? reader.verifyChecksum()
            }
            let verification = try? ShardVerifier.verify(directory: folder)
            return (readable, verification?.isClean ?? false)
        }
        // The unmutated file is clean; most damage is noticed by the verifier.
        #expect(outcome.cleanAfterDamage < Self.iterations / 2, "\(outcome)")
    }

    @Test func damagedCheckpointsThrowOrLoad() throws {
        let directory = try TemporaryDirectory("fuzz-checkpoint")
        let valid = try makeSmallCheckpoint(at: directory.file("source.h5"))
        let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: valid)))
        let target = directory.file("best.h5")
        _ = try fuzz(original, seed: Self.seed &+ 1000, label: "checkpoint", target: target) {
            guard let checkpoint = try? Checkpoint.read(from: target) else { return (false, false) }
            let model = try? checkpoint.makeModel(path: target)
            return (true, model != nil)
        }
    }

    struct Outcome: CustomStringConvertible {
        var readable = 0
        var cleanAfterDamage = 0
        var description: String {
            "readable \(readable), passed every check \(cleanAfterDamage)"
        }
    }

    /// Writes `iterations` mutations of `original` to `target` and runs `open` on each.
    func fuzz(_ original: [UInt8], seed: UInt64, label: String, target: String,
              open: () throws -> (readable: Bool, clean: Bool)) throws -> Outcome {
        // The untouched file first: it must be readable and clean.
        try Data(original).write(to: URL(fileURLWithPath: target))
        let baseline = try open()
        #expect(baseline.readable && baseline.clean, "the valid \(label) does not pass")
        var random = SplitMix64(seed: seed)
        var outcome = Outcome()
        let log = ProcessInfo.processInfo.environment["GENREKIT_FUZZ_LOG"].flatMap { FileHandle(forWritingAtPath: $0) }
        log?.seekToEndOfFile()
        for iteration in 0..<Self.iterations {
            let (bytes, mutation) = mutate(original, &random)
            let text = "\(label) seed \(seed) iteration \(iteration): \(mutation)"
            if let log {
                log.write(Data((text + "\n").utf8))
                try? log.synchronize()
            }
            try Data(bytes).write(to: URL(fileURLWithPath: target))
            if let dump = ProcessInfo.processInfo.environment["GENREKIT_FUZZ_DUMP"] {
                try Data(bytes).write(to: URL(fileURLWithPath: dump + "-" + label + ".h5"))
            }
            let result = try open()
            if result.readable { outcome.readable += 1 }
            if result.clean, bytes != original { outcome.cleanAfterDamage += 1 }
        }
        return outcome
    }

    /// One deterministic mutation and its description.
    func mutate(_ original: [UInt8], _ random: inout SplitMix64) -> ([UInt8], String) {
        var bytes = original
        let n = bytes.count
        // Half of the offsets land in the first 4 KB and the last 4 KB, where HDF5 keeps most of its metadata.
        func offset() -> Int {
            switch random.next() % 4 {
            case 0: Int(random.next() % UInt64(min(n, 4096)))
            case 1: n - 1 - Int(random.next() % UInt64(min(n, 4096)))
            default: Int(random.next() % UInt64(n))
            }
        }
        switch random.next() % 6 {
        case 0:
            let length = Int(random.next() % UInt64(n))
            bytes.removeSubrange(length...)
            return (bytes, "truncate to \(length) bytes")
        case 1:
            let count = 1 + Int(random.next() % 8)
            var places: [Int] = []
            for _ in 0..<count {
                let at = offset()
                bytes[at] ^= UInt8(1 + random.next() % 255)
                places.append(at)
            }
            return (bytes, "flip bytes at \(places)")
        case 2, 3:
            let at = min(offset(), n - 8)
            let kind = random.next() % 3
            let word: UInt64 = kind == 0 ? 0 : kind == 1 ? .max : random.next()
            for k in 0..<8 { bytes[at + k] = UInt8(truncatingIfNeeded: word >> (8 * UInt64(k))) }
            return (bytes, "word at \(at) = 0x\(String(word, radix: 16))")
        case 4:
            let page = Int(random.next() % UInt64((n + 4095) / 4096))
            for k in (page * 4096)..<min(n, page * 4096 + 4096) { bytes[k] = 0 }
            return (bytes, "zero page \(page)")
        default:
            let length = 16 + Int(random.next() % 4080)
            let from = Int(random.next() % UInt64(max(1, n - length)))
            let to = offset()
            let block = Array(original[from..<min(n, from + length)])
            for (k, byte) in block.enumerated() where to + k < n { bytes[to + k] = byte }
            return (bytes, "copy \(block.count) bytes from \(from) to \(to)")
        }
    }

    /// A valid shard of 6 clips of [16, 40] (about 20 KB) with parameters and checksum.
    func makeSmallShard(in folder: String) throws -> String {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/train-00000.h5"
        let metadata = ShardMetadata(
            classes: ["blues", "jazz", "rock"], split: "train", nMels: 16, frames: 40,
            normMean: (0..<16).map { Float($0) }, normStd: [Float](repeating: 2, count: 16),
            parameters: ["sample_rate": .int(22050), "n_fft": .int(2048), "window": .string("hann"),
                         "fmin": .double(0)],
            configuration: "{\"audio\": {}}")
        var writer = try ShardWriter(path: path, metadata: metadata, capacity: 2, syncToDisk: false)
        for clip in 0..<6 {
            let mel = (0..<640).map { Float(sin(Double($0 * (clip + 1)) * 0.01)) }
            try writer.append(mel: mel, label: Int32(clip % 3), path: "g/clip \(clip).au", padded: clip == 5,
                              seconds: 1.5)
        }
        try writer.commit()
        return path
    }

    /// A valid checkpoint of a tiny two-block network on 16 mel bands (a few tens of KB).
    func makeSmallCheckpoint(at path: String) throws -> String {
        var training = try TrainingConfiguration.parse(toml: "")
        training.model.channels = [4, 8]
        training.model.cropFrames = 16
        let spec = training.modelSpec(classes: 3, nMels: 16)
        let model = try Sequential(spec: spec, seed: 1)
        let state = model.stateDictionary()
        try Checkpoint(
            classes: ["blues", "jazz", "rock"], modelSpec: spec, training: training, pipelineConfiguration: "{}",
            shardParameters: "{}", normMean: [Float](repeating: 0, count: 16), normStd: [Float](repeating: 1, count: 16),
            modelState: state, optimizerState: state, epoch: 1, bestValidAccuracy: 0.5, bestEpoch: 1,
            epochsWithoutImprovement: 0, optimizerSteps: 10
        ).write(to: path)
        return path
    }
}
