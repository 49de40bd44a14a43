import Foundation
import HDF5Store
import Testing

@testable import Shards

// MARK: - Fixtures

/// Small clips keep the tests fast: 16 mel bands x 40 frames.
private let mels = 16
private let frames = 40

private func metadata(
    split: String = "train", gzipLevel: Int? = nil, parameters: [String: ShardParameter]? = nil
) -> ShardMetadata {
    ShardMetadata(
        classes: ["blues", "classical", "hip-hop", "música"], split: split, nMels: mels, frames: frames,
        normMean: (0..<mels).map { -40 + Float($0) * 0.5 }, normStd: (0..<mels).map { 10 + Float($0) * 0.25 },
        parameters: parameters ?? [
            "sample_rate": 22050, "n_fft": 2048, "hop_length": 512, "window": "hann (periodic)", "center": true,
            "fmax": 11025.0, "crop_frames": .ints([128, 1292]), "weights": .floats([0.5, 1.5]),
        ],
        configuration: "[audio]\nsample_rate = 22050\n[mel]\nn_mels = 16\n", gzipLevel: gzipLevel)
}

/// Clip `index`: distinct pseudo-random values (deterministic), including negatives and tiny magnitudes.
private func clip(_ index: Int) -> [Float] {
    var state = UInt64(index + 1) &* 0x9E37_79B9_7F4A_7C15
    return (0..<(mels * frames)).map { _ in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Float(Int64(bitPattern: state >> 11) % 2_000_000 - 1_000_000) * 1.0e-5
    }
}

private func clipPath(_ index: Int) -> String {
    ["blues/blues.\(index).au", "métal/Motörhead – \(index).wav", "日本語/曲\(index).flac", "emoji/🎸\(index).mp3"][index % 4]
}

/// Writes a shard of `clips` clips (labels `i % 4`, every third clip padded, 20 + i seconds) and returns the path.
@discardableResult
private func writeShard(
    in directory: TemporaryDirectory, index: Int = 0, clips: Int, capacity: Int? = nil,
    metadata shardMetadata: ShardMetadata = metadata()
) throws -> String {
    let path = directory.file(ShardSchema.fileName(split: shardMetadata.split, index: index))
    var writer = try ShardWriter(path: path, metadata: shardMetadata, capacity: capacity ?? clips)
    for index in 0..<clips {
        try writer.append(mel: clip(index), label: Int32(index % 4), path: clipPath(index), padded: index % 3 == 0,
                          seconds: 20 + Float(index))
    }
    try writer.commit()
    return path
}

private func entries(of directory: TemporaryDirectory) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
}

// MARK: - Writing and reading back

/// The unvalidated reader `genre verify` uses sees what the writer wrote, laid out as `ShardSchema.datasets` says.
@Test func rawShardReadsEveryPartAsTheSchemaDescribes() throws {
    let directory = try TemporaryDirectory()
    let clips = 5
    let path = try writeShard(in: directory, clips: clips)
    try RawShard.checkStructure(path: path)
    let shard = try RawShard(path: path)
    let attributes = try shard.attributes()
    #expect(attributes[ShardSchema.schemaAttribute] == .string(ShardSchema.version))
    #expect(attributes["crop_frames"] == .ints([128, 1292]))
    for dataset in ShardSchema.datasets(clips: clips, nMels: mels, frames: frames) {
        let layout = try shard.layout(of: dataset.name)
        #expect(layout?.elementType == dataset.elementType, "\(dataset.name)")
        #expect(layout?.shape == dataset.shape.map { $0! }, "\(dataset.name)")
        #expect(layout?.isCompressed == false)
    }
    #expect(try shard.layout(of: "no-such-dataset") == nil)
    #expect(try shard.labels() == (0..<clips).map { Int32($0 % 4) })
    #expect(try shard.paths() == (0..<clips).map(clipPath))
    #expect(try shard.paddedBytes() == (0..<clips).map { $0 % 3 == 0 ? 1 : 0 })
    #expect(try shard.floats(ShardSchema.secondsDataset) == (0..<clips).map { 20 + Float($0) })
    #expect(try shard.floats(ShardSchema.normMeanDataset) == metadata().normMean)
    var batch = [Float](repeating: .nan, count: 2 * mels * frames)
    try batch.withUnsafeMutableBufferPointer { try shard.mels(from: 3, into: $0) }
    #expect(batch == clip(3) + clip(4))
}

@Test(arguments: [(clips: 7, capacity: 7), (clips: 7, capacity: 3), (clips: 5, capacity: 20), (clips: 0, capacity: 4)])
func shardRoundTripsBitExact(clips: Int, capacity: Int) throws {
    let directory = try TemporaryDirectory()
    let path = try writeShard(in: directory, clips: clips, capacity: capacity)
    let reader = try ShardReader(path: path)
    #expect(reader.path == path)
    #expect(reader.metadata == metadata())
    #expect(reader.count == clips)
    #expect(reader.labels == (0..<clips).map { Int32($0 % 4) })
    #expect(reader.paths == (0..<clips).map(clipPath))
    #expect(reader.padded == (0..<clips).map { $0 % 3 == 0 })
    #expect(reader.seconds == (0..<clips).map { 20 + Float($0) })
    for index in 0..<clips {
        #expect(try reader.mel(at: index).map(\.bitPattern) == clip(index).map(\.bitPattern))
    }
    if clips >= 3 {
        var batch = [Float](repeating: .nan, count: 2 * mels * frames)
        try batch.withUnsafeMutableBufferPointer { try reader.mels(from: 1, into: $0) }
        #expect(batch == clip(1) + clip(2))
        var one = [Float](repeating: .nan, count: mels * frames)
        try one.withUnsafeMutableBufferPointer { try reader.mel(at: clips - 1, into: $0) }
        #expect(one == clip(clips - 1))
    }
    // The trimmed extent is what other readers see too.
    let file = try HDF5File(openingForReading: path)
    #expect(try file.shape(of: ShardSchema.melDataset) == [clips, mels, frames])
    #expect(try file.attribute(ShardSchema.clipsAttribute) == .int(clips))
}

@Test func gzipOptionRoundTrips() throws {
    let directory = try TemporaryDirectory()
    let compressed = metadata(gzipLevel: 4)
    let path = try writeShard(in: directory, clips: 3, metadata: compressed)
    let reader = try ShardReader(path: path)
    #expect(reader.metadata == compressed)
    #expect(reader.metadata.gzipLevel == 4)
    #expect(try reader.mel(at: 2) == clip(2))
}

@Test func metadataWithoutParametersRoundTrips() throws {
    let directory = try TemporaryDirectory()
    let plain = metadata(split: "valid", parameters: [:])
    let path = try writeShard(in: directory, index: 12, clips: 2, metadata: plain)
    #expect(path.hasSuffix("/valid-00012.h5"))
    #expect(try ShardReader(path: path).metadata == plain)
}

// MARK: - The temporary file

@Test func theShardAppearsUnderItsNameOnlyAtCommit() throws {
    let directory = try TemporaryDirectory()
    let path = directory.file(ShardSchema.fileName(split: "train", index: 0))
    var writer = try ShardWriter(path: path, metadata: metadata(), capacity: 2)
    try writer.append(mel: clip(0), label: 1, path: clipPath(0), padded: false, seconds: 30)
    #expect(!FileManager.default.fileExists(atPath: path))
    #expect(FileManager.default.fileExists(atPath: writer.temporaryPath))
    #expect(writer.temporaryPath.hasPrefix(directory.path + "/.train-00000.h5.partial-"))
    #expect(try entries(of: directory).count == 1)
    #expect(try ShardDirectory.list(directory.path).isEmpty)
    try writer.append(mel: clip(1), label: 2, path: clipPath(1), padded: true, seconds: 12.5)
    #expect(writer.count == 2)
    #expect(!FileManager.default.fileExists(atPath: path))
    try writer.commit()
    #expect(try entries(of: directory) == ["train-00000.h5"])
    #expect(try ShardReader(path: path).count == 2)
}

@Test func aDroppedWriterRemovesItsTemporaryFile() throws {
    let directory = try TemporaryDirectory()
    let path = directory.file("train-00001.h5")
    do {
        var writer = try ShardWriter(path: path, metadata: metadata(), capacity: 4)
        try writer.append(mel: clip(0), label: 0, path: clipPath(0), padded: false, seconds: 30)
        #expect(try entries(of: directory).count == 1)
    }
    #expect(try entries(of: directory) == [])
}

@Test func aFailedCommitLeavesNothingBehind() throws {
    let directory = try TemporaryDirectory()
    let path = directory.file("train-00002.h5")
    var writer = try ShardWriter(path: path, metadata: metadata(), capacity: 1)
    try writer.append(mel: clip(0), label: 0, path: clipPath(0), padded: false, seconds: 30)
    // A non-empty directory in the way makes the rename fail.
    try FileManager.default.createDirectory(atPath: path + "/occupied", withIntermediateDirectories: true)
    do {
        try writer.commit()
        Issue.record("commit succeeded with a directory in the way")
    } catch .io(let errorPath, let reason) {
        #expect(errorPath == path)
        #expect(reason.contains("cannot rename"), "\(reason)")
    } catch {
        Issue.record("expected an io error, got \(error)")
    }
    #expect(try entries(of: directory) == ["train-00002.h5"])  // only the directory in the way
}

@Test func committingReplacesAnOlderShardAtomically() throws {
    let directory = try TemporaryDirectory()
    try writeShard(in: directory, clips: 5)
    let path = try writeShard(in: directory, clips: 2)
    #expect(try ShardReader(path: path).count == 2)
    #expect(try entries(of: directory) == ["train-00000.h5"])
}

// MARK: - A second reader: h5dump / h5ls (Debian hdf5-tools)

@Test func h5dumpAndH5lsReadTheShard() throws {
    let directory = try TemporaryDirectory()
    let path = try writeShard(in: directory, clips: 5, capacity: 2)

    let listing = try run("/usr/bin/h5ls", ["-r", path])
    #expect(listing.contains("/mel                     Dataset {5/Inf, \(mels), \(frames)}"), "\(listing)")
    #expect(listing.contains("/label                   Dataset {5}"))
    #expect(listing.contains("/path                    Dataset {5}"))
    #expect(listing.contains("/norm/mean               Dataset {\(mels)}"))

    let header = try run("/usr/bin/h5dump", ["-H", "-w", "0", path])
    #expect(header.contains("DATASPACE  SIMPLE { ( 5, \(mels), \(frames) ) / ( H5S_UNLIMITED, \(mels), \(frames) ) }"))
    #expect(header.contains("DATASET \"label\" {\n      DATATYPE  H5T_STD_I32LE"))
    #expect(header.contains("DATASET \"padded\" {\n      DATATYPE  H5T_STD_U8LE"))
    #expect(header.contains("DATASET \"seconds\" {\n      DATATYPE  H5T_IEEE_F32LE"))
    #expect(header.contains("CSET H5T_CSET_UTF8"))
    #expect(header.contains("STRSIZE H5T_VARIABLE"))

    func attribute(_ name: String) throws -> String { try run("/usr/bin/h5dump", ["-w", "0", "-a", "/" + name, path]) }
    #expect(h5dumpStrings(try attribute("schema")).dropFirst(2).first == ShardSchema.version)
    #expect(h5dumpStrings(try attribute("classes")).suffix(4) == ["blues", "classical", "hip-hop", "música"])
    #expect(h5dumpStrings(try attribute("split")).last == "train")
    #expect(try attribute("n_mels").contains("(0): \(mels)"))
    #expect(try attribute("clips").contains("(0): 5"))
    #expect(try attribute("sample_rate").contains("(0): 22050"))
    #expect(try attribute("center").contains("(0): TRUE"))

    let paths = try run("/usr/bin/h5dump", ["-w", "0", "-d", "/path", path])
    #expect(h5dumpStrings(paths).suffix(5) == (0..<5).map(clipPath)[...], "\(paths)")

    let values = try run("/usr/bin/h5dump", ["-w", "0", "-d", "/mel", "-s", "3,2,0", "-c", "1,1,4", path])
    let expected = clip(3)[(2 * frames)..<(2 * frames + 4)]
    let line = try #require(values.split(separator: "\n").first { $0.contains("(3,2,0):") })
    let dumped = line.split(separator: ":")[1].split(separator: ",").compactMap {
        Float($0.trimmingCharacters(in: .whitespaces))
    }
    #expect(dumped.count == 4)
    for (printed, value) in zip(dumped, expected) { #expect(abs(printed - value) <= 1e-6 * max(1, abs(value))) }

    let labels = try run("/usr/bin/h5dump", ["-w", "0", "-d", "/label", path])
    #expect(labels.contains("(0): 0, 1, 2, 3, 0"))
}

// MARK: - The reader rejects what is not a valid shard

/// A shard written normally, then changed with HDF5Store.
private func tamperedShard(in directory: TemporaryDirectory, _ change: (borrowing HDF5File) throws -> Void) throws
    -> String
{
    let path = try writeShard(in: directory, clips: 3)
    let file = try HDF5File(openingForWriting: path)
    try change(file)
    try file.close()
    return path
}

@Test func readerRejectsAnotherSchemaVersion() throws {
    let directory = try TemporaryDirectory()
    let path = try tamperedShard(in: directory) { try $0.setAttribute("schema", to: "genrekit-shard/999") }
    let error = #expect(throws: ShardError.self) { _ = try ShardReader(path: path) }
    #expect(error == .wrongSchema(path: path, found: "\"genrekit-shard/999\""))
    #expect(error?.description.hasPrefix(path + ": not a shard of schema \"\(ShardSchema.version)\"") == true)
}

@Test func readerRejectsAnHDF5FileThatIsNotAShard() throws {
    let directory = try TemporaryDirectory()
    let path = directory.file("other.h5")
    do {
        let file = try HDF5File.create(path: path)
        try file.write([Float(1), 2], to: "mel")
    }
    #expect(throws: ShardError.wrongSchema(path: path, found: nil)) { _ = try ShardReader(path: path) }
}

@Test(arguments: [
    ("n_mels attribute disagrees with /mel", "n_mels"),
    ("clips attribute disagrees with /mel", "clips"),
    ("frames attribute has the wrong type", "frames"),
    ("classes attribute missing", "classes"),
])
func readerRejectsInconsistentAttributes(_ label: String, _ attribute: String) throws {
    let directory = try TemporaryDirectory()
    let path = try tamperedShard(in: directory) { file in
        switch attribute {
        case "n_mels": try file.setAttribute("n_mels", to: .int(mels + 1))
        case "clips": try file.setAttribute("clips", to: .int(4))
        case "frames": try file.setAttribute("frames", to: "forty")
        default: try file.removeAttribute(attribute)
        }
    }
    let error = #expect(throws: ShardError.self, "\(label)") { _ = try ShardReader(path: path) }
    guard case .inconsistent(let errorPath, let reason)? = error else {
        Issue.record("expected an inconsistency, got \(String(describing: error))")
        return
    }
    #expect(errorPath == path)
    #expect(reason.contains(attribute) || reason.contains("mel"), "\(reason)")
}

@Test func readerRejectsMismatchedDatasetShapes() throws {
    let directory = try TemporaryDirectory()
    // A shard assembled by hand whose /label has one entry too many.
    let path = directory.file("train-00000.h5")
    do {
        let file = try HDF5File.create(path: path)
        let shard = metadata()
        let mel = try file.createDataset("mel", of: Float.self, shape: [2, mels, frames], chunks: [1, mels, frames])
        try (clip(0) + clip(1)).withUnsafeBufferPointer { try mel.writeRows($0, at: 0) }
        try file.write([Int32(0), 1, 2], to: "label")
        try file.write(["a", "b"], to: "path")
        try file.write([UInt8(0), 1], to: "padded")
        try file.write([Float(1), 2], to: "seconds")
        try file.write(shard.normMean, to: "norm/mean")
        try file.write(shard.normStd, to: "norm/std")
        for (name, value) in [("schema", AttributeValue.string(ShardSchema.version)), ("classes", .strings(shard.classes)),
                              ("split", "train"), ("n_mels", .int(mels)), ("frames", .int(frames)), ("clips", 2),
                              ("configuration", "")] {
            try file.setAttribute(name, to: value)
        }
    }
    let error = #expect(throws: ShardError.self) { _ = try ShardReader(path: path) }
    #expect(error == .inconsistent(path: path, reason: "dataset \"label\" has shape [3], expected [2] for clips 2, "
                                   + "n_mels \(mels), frames \(frames)"))
}

@Test func readerRejectsLabelsOutsideTheClasses() throws {
    let directory = try TemporaryDirectory()
    let path = try tamperedShard(in: directory) { try $0.setAttribute("classes", to: .strings(["blues", "jazz"])) }
    let error = #expect(throws: ShardError.self) { _ = try ShardReader(path: path) }
    #expect(error == .inconsistent(path: path, reason: "clip 2 has label 2, outside the 2 classes"))
}

@Test(arguments: [0.5, 0.999, 0.01])
func readerRejectsATruncatedFile(fraction: Double) throws {
    let directory = try TemporaryDirectory()
    let complete = try writeShard(in: directory, clips: 6)
    let data = try Data(contentsOf: URL(fileURLWithPath: complete))
    let path = directory.file("train-00009.h5")
    try data.prefix(Int(Double(data.count) * fraction)).write(to: URL(fileURLWithPath: path))
    let error = #expect(throws: ShardError.self) { _ = try ShardReader(path: path) }
    #expect(error?.path == path)
    #expect(error?.description.hasPrefix(path + ": ") == true)
    // Cut anywhere, the superblock's end-of-file address no longer matches the file size (or the superblock
    // itself is gone): HDF5 refuses to open it.
    guard case .hdf5(let hdf5)? = error else {
        Issue.record("expected an HDF5 error, got \(String(describing: error))")
        return
    }
    #expect(hdf5.function == "H5Fopen")
    #expect(hdf5.message.contains(fraction > 0.1 ? "truncated file" : "unable to open file"), "\(hdf5)")
}

@Test func readerReportsAMissingFile() throws {
    let directory = try TemporaryDirectory()
    let path = directory.file("train-00000.h5")
    let error = #expect(throws: ShardError.self) { _ = try ShardReader(path: path) }
    #expect(error?.description.hasPrefix("\(path): H5Fopen: unable to open file") == true)
}

@Test func readerRejectsBadClipRequests() throws {
    let directory = try TemporaryDirectory()
    let reader = try ShardReader(path: try writeShard(in: directory, clips: 2))
    #expect(throws: ShardError.self) { _ = try reader.mel(at: 2) }
    #expect(throws: ShardError.self) { _ = try reader.mel(at: -1) }
    var short = [Float](repeating: 0, count: mels * frames - 1)
    #expect(throws: ShardError.self) { try short.withUnsafeMutableBufferPointer { try reader.mel(at: 0, into: $0) } }
}

// MARK: - The writer rejects what cannot make a valid shard

@Test func writerRejectsInvalidMetadataAndClips() throws {
    let directory = try TemporaryDirectory()
    let path = directory.file("train-00000.h5")
    var bad = metadata()
    bad.normStd[3] = 0
    bad.parameters["clips"] = 3
    bad.split = ".hidden"
    let error = #expect(throws: ShardError.self) { _ = try ShardWriter(path: path, metadata: bad, capacity: 1) }
    guard case .invalidArgument(path, let reason)? = error else {
        Issue.record("expected invalidArgument, got \(String(describing: error))")
        return
    }
    #expect(reason.contains("norm std") && reason.contains("reserved") && reason.contains(".hidden"), "\(reason)")

    var writer = try ShardWriter(path: path, metadata: metadata(), capacity: 1)
    #expect(throws: ShardError.self) {
        try writer.append(mel: [Float](repeating: 0, count: 3), label: 0, path: "a", padded: false, seconds: 1)
    }
    #expect(throws: ShardError.self) { try writer.append(mel: clip(0), label: 4, path: "a", padded: false, seconds: 1) }
    #expect(throws: ShardError.self) { try writer.append(mel: clip(0), label: -1, path: "a", padded: false, seconds: 1) }
    #expect(throws: ShardError.self) { try writer.append(mel: clip(0), label: 0, path: "a\u{0}", padded: false, seconds: 1) }
    #expect(writer.count == 0)
    try writer.append(mel: clip(0), label: 0, path: "a", padded: false, seconds: 1)
    try writer.commit()
    #expect(try ShardReader(path: path).count == 1)
}

// MARK: - Names and directories

@Test func fileNamesParseBack() {
    #expect(ShardSchema.fileName(split: "train", index: 0) == "train-00000.h5")
    #expect(ShardSchema.fileName(split: "valid", index: 42) == "valid-00042.h5")
    #expect(ShardSchema.fileName(split: "test", index: 123_456) == "test-123456.h5")
    #expect(ShardSchema.parseFileName("train-00003.h5")! == ("train", 3))
    #expect(ShardSchema.parseFileName("my-split-00010.h5")! == ("my-split", 10))
    #expect(ShardSchema.parseFileName("test-123456.h5")! == ("test", 123_456))
    for name in ["train-0003.h5", ".train-00000.h5.partial-1-ab", "train-00000.h5.tmp", "train.h5", "-00000.h5",
                 "train-0000x.h5", ".train-00000.h5", "train-+0001.h5"] {
        #expect(ShardSchema.parseFileName(name) == nil, "\(name)")
    }
}

@Test func directoryListingGroupsBySplitSortsByIndexAndIgnoresTheRest() throws {
    let directory = try TemporaryDirectory()
    for (split, index) in [("train", 10), ("train", 2), ("test", 0), ("train", 0), ("valid", 1)] {
        try writeShard(in: directory, index: index, clips: 1, metadata: metadata(split: split))
    }
    for other in ["notes.txt", "train.h5", ".train-00003.h5.partial-77-abc", "train-00004.h5.partial"] {
        try Data().write(to: URL(fileURLWithPath: directory.file(other)))
    }
    try FileManager.default.createDirectory(atPath: directory.file("train-00005.h5"), withIntermediateDirectories: false)
    let listing = try ShardDirectory.list(directory.path)
    #expect(listing == [
        "train": ["train-00000.h5", "train-00002.h5", "train-00010.h5"].map(directory.file),
        "test": [directory.file("test-00000.h5")],
        "valid": [directory.file("valid-00001.h5")],
    ])
    #expect(throws: ShardError.io(path: directory.file("nowhere"), reason: "no such directory")) {
        _ = try ShardDirectory.list(directory.file("nowhere"))
    }
}

// MARK: - Parallel use

@Test func shardsAreWrittenAndReadInParallelTasks() async throws {
    let directory = try TemporaryDirectory()
    try await withThrowingTaskGroup(of: Void.self) { group in
        for index in 0..<6 {
            group.addTask {
                let path = try writeShard(in: directory, index: index, clips: 4 + index, capacity: 2)
                let reader = try ShardReader(path: path)
                #expect(reader.count == 4 + index)
                #expect(try reader.mel(at: 3 + index) == clip(3 + index))
            }
        }
        try await group.waitForAll()
    }
    #expect(try ShardDirectory.list(directory.path)["train"]?.count == 6)
}

/// Full-size clips (`[128, 1292]` float32) appended, committed and read back. The throughput of the same work (256
/// clips) is printed by `BenchmarkTests` on request (no clock here).
@Test func fullSizeClipsRoundTrip() throws {
    let directory = try TemporaryDirectory()
    let (clips, fullMels, fullFrames) = (4, 128, 1292)
    let full = ShardMetadata(classes: ["a", "b"], split: "train", nMels: fullMels, frames: fullFrames,
                             normMean: [Float](repeating: 0, count: fullMels),
                             normStd: [Float](repeating: 1, count: fullMels))
    let values = (0..<(fullMels * fullFrames)).map { Float($0 % 1013) * 0.001 }
    let path = directory.file("train-00000.h5")
    var writer = try ShardWriter(path: path, metadata: full, capacity: clips)
    try values.withUnsafeBufferPointer { values in
        for index in 0..<clips {
            try writer.append(mel: values, label: Int32(index % 2), path: "a/\(index).wav", padded: false, seconds: 30)
        }
    }
    try writer.commit()
    let reader = try ShardReader(path: path)
    #expect(reader.count == clips)
    var buffer = [Float](repeating: 0, count: fullMels * fullFrames)
    for index in 0..<clips {
        try buffer.withUnsafeMutableBufferPointer { try reader.mel(at: index, into: $0) }
        #expect(buffer == values, "clip \(index)")
    }
}
