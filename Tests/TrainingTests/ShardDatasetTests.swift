import Foundation
import HDF5Store
import Pipeline
import Shards
import Testing

@testable import Training

@Suite struct ShardDatasetTests {
    @Test func opensAFolderAndIndexesItsClips() throws {
        let directory = try TemporaryDirectory()
        let ids = try standardHandMadeFolder(directory.path)
        let dataset = try ShardDataset(directory: directory.path)
        #expect(dataset.classes == ["blues", "jazz", "rock"])
        #expect(dataset.nMels == 8 && dataset.frames == 40)
        #expect(dataset.parameters["hop_length"] == .int(512))
        let train = try dataset.split("train")
        #expect(train.count == 11)
        #expect(train.shards.map(\.count) == [4, 4, 3])
        #expect(train.shards.map(\.firstClip) == [0, 4, 8])
        #expect(train.labels == [0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1])
        #expect(train.classCounts(classCount: 3) == [4, 4, 3])
        #expect(try dataset.split("test").count == 4)
        // Every clip is found in the right shard and row.
        for clip in 0..<train.count {
            let (shard, row) = train.locate(clip)
            #expect(train.shards[shard].firstClip + row == clip)
            let values = try dataset.clip(clip, of: "train")
            #expect(values[0] == cellValue(clip: ids["train"]![clip], band: 0, frame: 0))
            #expect(values[7 * 40 + 39] == cellValue(clip: ids["train"]![clip], band: 7, frame: 39))
        }
    }

    @Test func shardsWithDifferentParametersAreRejectedNamingTheFile() throws {
        let directory = try TemporaryDirectory()
        var folder = HandMadeFolder()
        try folder.write(to: directory.path, splits: ["train": [[0, 1, 2]], "valid": [[0]], "test": [[1]]])
        folder.parameters["hop_length"] = 256
        let odd = directory.file("train-00001.h5")
        try folder.writeShard(odd, split: "train", labels: [0, 1], firstId: 50)
        let error = #expect(throws: TrainingError.self) { try ShardDataset(directory: directory.path) }
        guard case .mismatch(let path, let reason)? = error else {
            Issue.record("expected a mismatch, got \(String(describing: error))")
            return
        }
        #expect(path == odd)
        #expect(reason.contains("hop_length"))
        #expect(error!.description.hasPrefix(odd + ": "))
        #expect(!error!.description.contains("\n"))
    }

    @Test(arguments: ["n_mels", "frames", "classes", "norm"])
    func shardsWithADifferentGeometryAreRejected(_ what: String) throws {
        let directory = try TemporaryDirectory()
        let folder = HandMadeFolder()
        try folder.write(to: directory.path, splits: ["train": [[0, 1, 2]], "test": [[1]]])
        var other = folder
        switch what {
        case "n_mels": other.nMels = 4
        case "frames": other.frames = 30
        case "classes": other.classes = ["blues", "jazz", "pop"]
        default: break
        }
        let odd = directory.file("valid-00000.h5")
        if what == "norm" {
            var metadata = folder.metadata(split: "valid")
            metadata.normStd[0] = 99
            var writer = try ShardWriter(path: odd, metadata: metadata, capacity: 1, syncToDisk: false)
            try writer.append(mel: [Float](repeating: 1, count: 8 * 40), label: 0, path: "x.wav", padded: false,
                              seconds: 1)
            try writer.commit()
        } else {
            try other.writeShard(odd, split: "valid", labels: [0], firstId: 9)
        }
        let error = #expect(throws: TrainingError.self) { try ShardDataset(directory: directory.path) }
        #expect(error?.path == odd)
        let expected = what == "norm" ? "normalisation" : what
        #expect(error?.description.contains(expected) == true, "\(String(describing: error))")
    }

    @Test func aSplitAttributeThatContradictsTheFileNameIsRejected() throws {
        let directory = try TemporaryDirectory()
        let folder = HandMadeFolder()
        try folder.write(to: directory.path, splits: ["train": [[0, 1, 2]], "test": [[1]]])
        // A "test" shard under a valid-… name.
        var writer = try ShardWriter(path: directory.file("valid-00000.h5"), metadata: folder.metadata(split: "test"),
                                     capacity: 1, syncToDisk: false)
        try writer.append(mel: [Float](repeating: 1, count: 8 * 40), label: 0, path: "x.wav", padded: false, seconds: 1)
        try writer.commit()
        let error = #expect(throws: TrainingError.self) { try ShardDataset(directory: directory.path) }
        #expect(error?.path == directory.file("valid-00000.h5"))
    }

    @Test func anEmptySplitIsAnErrorNamingTheSplit() throws {
        let directory = try TemporaryDirectory()
        let folder = HandMadeFolder()
        try folder.write(to: directory.path, splits: ["train": [[0, 1, 2]], "test": [[1]]])
        #expect(throws: TrainingError.emptySplit(directory: directory.path, split: "valid")) {
            try ShardDataset(directory: directory.path)
        }
        // Without requiring it, the folder opens; asking for the split is the error.
        let dataset = try ShardDataset(directory: directory.path, requiredSplits: ["train", "test"])
        #expect(throws: TrainingError.emptySplit(directory: directory.path, split: "valid")) {
            try dataset.split("valid")
        }
        // A split whose shards hold no clip is empty too.
        try folder.writeShard(directory.file("valid-00000.h5"), split: "valid", labels: [], firstId: 0)
        let error = #expect(throws: TrainingError.self) { try ShardDataset(directory: directory.path) }
        #expect(error == .emptySplit(directory: directory.path, split: "valid"))
        #expect(error?.description.contains("valid split is empty") == true)
    }

    @Test func aClassWithoutTrainingClipsIsAnErrorNamingTheClass() throws {
        let directory = try TemporaryDirectory()
        let folder = HandMadeFolder()
        try folder.write(to: directory.path, splits: ["train": [[0, 2, 0]], "valid": [[1]], "test": [[1]]])
        let error = #expect(throws: TrainingError.self) { try ShardDataset(directory: directory.path) }
        #expect(error == .classesWithoutTrainingClips(directory: directory.path, classes: ["jazz"]))
        #expect(error?.description.contains("\"jazz\"") == true)
        // Evaluation-only use does not need training clips.
        _ = try ShardDataset(directory: directory.path, requiredSplits: ["test"])
    }

    @Test func aFolderWithoutShardsIsAnError() throws {
        let directory = try TemporaryDirectory()
        #expect(throws: TrainingError.noShards(directory: directory.path)) {
            try ShardDataset(directory: directory.path)
        }
        #expect(throws: TrainingError.self) { try ShardDataset(directory: directory.file("missing")) }
    }

    @Test func aCropLongerThanTheClipsIsRejected() throws {
        let directory = try TemporaryDirectory()
        try standardHandMadeFolder(directory.path)
        let dataset = try ShardDataset(directory: directory.path)
        let error = #expect(throws: TrainingError.self) {
            _ = try TrainingBatches(dataset: dataset, epoch: 1, options: .init(cropFrames: 41))
        }
        #expect(error?.description.contains("longer than the clips' 40 frames") == true)
        #expect(throws: TrainingError.self) {
            _ = try EvaluationWindows(dataset: dataset, split: "test", cropFrames: 41)
        }
    }

    @Test func aShardReplacedAfterOpeningIsDetected() throws {
        let directory = try TemporaryDirectory()
        let folder = HandMadeFolder()
        try standardHandMadeFolder(directory.path, folder: folder)
        let dataset = try ShardDataset(directory: directory.path)
        try folder.writeShard(directory.file("test-00000.h5"), split: "test", labels: [0, 0], firstId: 70)
        let error = #expect(throws: TrainingError.self) { _ = try dataset.clip(0, of: "test") }
        guard case .mismatch(let path, _)? = error else {
            Issue.record("expected a mismatch, got \(String(describing: error))")
            return
        }
        #expect(path == directory.file("test-00000.h5"))
    }

    /// The folder `genre preprocess` writes opens, with the clip geometry of 4-second clips.
    @Test func opensAPipelineShardFolder() throws {
        let folder = try PipelineFixture.folder()
        let dataset = try ShardDataset(directory: folder)
        #expect(dataset.classes.count == 10)
        var configuration = try PipelineConfiguration.parse(toml: "")
        configuration.audio.clipSeconds = 4
        #expect(dataset.nMels == 128 && dataset.frames == configuration.framesPerClip)
        #expect(dataset.frames == 1 + 4 * 22050 / 512)  // centred STFT frames of 4 s at hop 512: 173
        #expect(try dataset.split("train").count == 10)
        #expect(try dataset.split("valid").count == 10)
        #expect(try dataset.split("test").count == 10)
        #expect(try dataset.split("train").shards.count == 3)
        #expect(dataset.parameters["hop_length"] == .int(512))
    }
}
