import Foundation
import HDF5Store
import Shards
import SyntheticCorpus
import Testing

@testable import Pipeline

/// A valid shard folder (10 genres x 5 clips of 1 s, split 40/5/5, 4 clips per shard), made once; each test copies it.
enum VerifierFixture {
    static let folder: Result<String, any Error> = Result {
        let root = NSTemporaryDirectory() + "genrekit-verifier-fixture-\(getpid())"
        atexit { try? FileManager.default.removeItem(atPath: NSTemporaryDirectory() + "genrekit-verifier-fixture-\(getpid())") }
        try SyntheticCorpus.write(to: root + "/corpus", options: .init(clipsPerGenre: 5, seconds: 1, seed: 3))
        _ = try Preprocessor(configuration: try smallConfiguration(seconds: 1, clipsPerShard: 4),
                             options: .init(corpus: root + "/corpus", output: root + "/shards")).run()
        return root + "/shards"
    }

    /// A private copy of the fixture's shards (only the `.h5` files).
    static func copy(into temporary: borrowing TemporaryFolder) throws -> String {
        let source = try folder.get()
        let destination = temporary.file("shards")
        try FileManager.default.createDirectory(atPath: destination, withIntermediateDirectories: true)
        for name in try FileManager.default.contentsOfDirectory(atPath: source) where name.hasSuffix(".h5") {
            try FileManager.default.copyItem(atPath: source + "/" + name, toPath: destination + "/" + name)
        }
        return destination
    }
}

@Suite struct ShardVerifierTests {
    /// `genre inspect` on a folder or file that is not there, or not a shard: one line, the path once.
    @Test func inspectionErrorsNameThePathOnce() throws {
        let missing = "/nonexistent-genrekit-folder"
        #expect { _ = try ShardInspection.inspect(directory: missing) } throws: { error in
            "\(error)" == "\(missing): no such directory"
        }
        let f = TemporaryFolder()
        let folder = f.file("shards")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: folder + "/train-00000.h5", contents: Data("not hdf5".utf8))
        #expect { _ = try ShardInspection.inspect(directory: folder) } throws: { error in
            let text = "\(error)"
            return text.hasPrefix(folder + "/train-00000.h5: ") && text.components(separatedBy: "train-00000.h5").count == 2
                && !text.contains("\n")
        }
    }

    @Test func aFreshFolderIsClean() throws {
        let f = TemporaryFolder()
        let shards = try VerifierFixture.copy(into: f)
        let result = try ShardVerifier.verify(directory: shards)
        #expect(result.problems == [], "\(result.text)")
        #expect(result.warnings == [])
        #expect(result.clips == 50)
        #expect(try result.shards == ShardDirectory.list(shards).values.map(\.count).reduce(0, +))
        #expect(result.summary == "verified \(result.shards) shards, 50 clips: OK")
    }

    /// Many things broken at once, each in its own file: every one is reported, naming its file.
    @Test func listsEveryProblemWithItsFile() throws {
        let f = TemporaryFolder()
        let shards = try VerifierFixture.copy(into: f)
        let listing = try ShardDirectory.list(shards)
        let train = try #require(listing["train"]), valid = try #require(listing["valid"])
        let test = try #require(listing["test"])
        try #require(train.count >= 4)
        func name(_ path: String) -> String { (path as NSString).lastPathComponent }

        // train-00000: a NaN in the features (also breaks the checksum).
        do {
            let file = try HDF5File(openingForWriting: train[0])
            let nMels = try #require(try file.attribute("n_mels")?.intValue)
            let frames = try #require(try file.attribute("frames")?.intValue)
            var clip = [Float](repeating: 0, count: nMels * frames)
            try clip.withUnsafeMutableBufferPointer { try file.readRows(from: "mel", at: 0, into: $0) }
            clip[5] = .nan
            try clip.withUnsafeBufferPointer { try file.writeRows($0, to: "mel", at: 0) }
        }
        // train-00001: missing (train-00002 and later exist).
        try FileManager.default.removeItem(atPath: train[1])
        // train-00002: bytes of a clip changed without touching anything else: only the checksum can tell.
        do {
            let file = try HDF5File(openingForWriting: train[2])
            let shape = try file.shape(of: "mel")
            var clip = [Float](repeating: 0, count: shape[1] * shape[2])
            try clip.withUnsafeMutableBufferPointer { try file.readRows(from: "mel", at: 1, into: $0) }
            clip[clip.count / 2] += 0.25
            try clip.withUnsafeBufferPointer { try file.writeRows($0, to: "mel", at: 1) }
        }
        // train-00003: split attribute says valid; a label outside the classes.
        do {
            let file = try HDF5File(openingForWriting: train[3])
            try file.setAttribute("split", to: .string("valid"))
            try [Int32(99)].withUnsafeBufferPointer { try file.writeRows($0, to: "label", at: 0) }
        }
        // valid-00000: a parameter differs; the std of a band is 0.
        let parameter: String
        do {
            parameter = try #require(try ShardReader(path: valid[0]).metadata.parameters.keys.sorted().first)
            let file = try HDF5File(openingForWriting: valid[0])
            try file.setAttribute(parameter, to: .string("changed"))
            try [Float(0)].withUnsafeBufferPointer { try file.writeRows($0, to: "norm/std", at: 3) }
        }
        // test-00001: a new, otherwise valid shard holding a training clip (leakage).
        let leaked: String
        do {
            let source = try ShardReader(path: train[0 + 2])
            var metadata = source.metadata
            metadata.split = "test"
            leaked = source.paths[0]
            var writer = try ShardWriter(path: shards + "/test-00001.h5", metadata: metadata, capacity: 1,
                                         syncToDisk: false)
            try writer.append(mel: try source.mel(at: 0), label: source.labels[0], path: leaked, padded: false,
                              seconds: 1)
            try writer.commit()
        }
        // A temporary file left behind.
        _ = FileManager.default.createFile(atPath: shards + "/.train-00009.h5.partial-1-abc", contents: Data([1, 2]))

        let result = try ShardVerifier.verify(directory: shards)
        let lines = result.problems.map(\.description)
        func reported(_ file: String, _ text: String) -> Bool {
            result.problems.contains { name($0.file) == file && $0.message.contains(text) }
        }
        #expect(!result.isClean)
        #expect(reported(name(train[0]), "not finite"), "\(lines)")
        #expect(reported(name(train[0]), "checksum mismatch"), "\(lines)")
        #expect(reported(name(train[1]), "missing"), "\(lines)")
        #expect(reported(name(train[2]), "checksum mismatch"), "\(lines)")
        #expect(!reported(name(train[2]), "not finite"))
        #expect(reported(name(train[3]), "split attribute is \"valid\""), "\(lines)")
        #expect(reported(name(train[3]), "outside the 10 classes"), "\(lines)")
        #expect(reported(name(valid[0]), "parameter \"\(parameter)\" differs from \(train[0])"), "\(lines)")
        #expect(reported(name(valid[0]), "norm/std of band 3"), "\(lines)")
        #expect(reported(name(valid[0]), "norm/std differs"), "\(lines)")
        #expect(reported("test-00001.h5", "leakage"), "\(lines)")
        #expect(result.warnings.contains { $0.file.hasSuffix(".train-00009.h5.partial-1-abc") })
        // Nothing else: the untouched test shard is clean.
        #expect(!result.problems.contains { name($0.file) == name(test[0]) }, "\(lines)")
        #expect(result.summary.contains("\(result.problems.count) problems"))
        #expect(lines.allSatisfy { !$0.contains("\n") })
    }

    @Test func shardsWithoutChecksumAreAWarning() throws {
        let f = TemporaryFolder()
        let shards = try VerifierFixture.copy(into: f)
        let path = try #require(try ShardDirectory.list(shards)["test"]?.first)
        let file = try HDF5File(openingForWriting: path)
        try file.removeAttribute(ShardSchema.checksumAttribute)
        try file.removeAttribute(ShardSchema.checksumAlgorithmAttribute)
        try file.close()
        let result = try ShardVerifier.verify(directory: shards)
        #expect(result.isClean, "\(result.text)")
        #expect(result.warnings.map(\.file) == [path])
    }

    @Test func unreadableAndForeignFilesAreProblems() throws {
        let f = TemporaryFolder()
        let shards = try VerifierFixture.copy(into: f)
        let listing = try ShardDirectory.list(shards)
        let valid = try #require(listing["valid"]?.first), test = try #require(listing["test"]?.first)
        try Data("not hdf5".utf8).write(to: URL(fileURLWithPath: valid))
        let file = try HDF5File(openingForWriting: test)
        try file.setAttribute("schema", to: .string("other/2"))
        try file.close()
        let result = try ShardVerifier.verify(directory: shards)
        #expect(result.problems.contains { $0.file == valid && $0.message.contains("cannot open") }, "\(result.text)")
        #expect(result.problems.contains { $0.file == test && $0.message.contains("schema") }, "\(result.text)")
        #expect(throws: PipelineError.self) { try ShardVerifier.verify(directory: f.file("nothing")) }
    }

    /// Shards of schema 1 (checksum genrekit-lanehash64/1) get one line that says what to do about them.
    @Test func shardsOfTheOlderSchemaSayToPreprocessAgain() throws {
        let f = TemporaryFolder()
        let shards = try VerifierFixture.copy(into: f)
        let path = try #require(try ShardDirectory.list(shards)["train"]?.first)
        let file = try HDF5File(openingForWriting: path)
        try file.setAttribute(ShardSchema.schemaAttribute, to: .string("genrekit-shard/1"))
        try file.setAttribute(ShardSchema.checksumAlgorithmAttribute, to: .string("genrekit-lanehash64/1"))
        try file.close()
        let result = try ShardVerifier.verify(directory: shards)
        let problem = try #require(result.problems.first { $0.file == path }, "\(result.text)")
        #expect(problem.message.contains("older GenreKit"), "\(result.text)")
        #expect(problem.message.contains("preprocess again"), "\(result.text)")
    }
}
