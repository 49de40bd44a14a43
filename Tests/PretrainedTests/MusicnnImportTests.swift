import Foundation
import Net
import Pipeline
import TensorBundle
import TestSupport
import Testing
import Training
import Deflate

@testable import Pretrained

@Suite struct MusicnnImportTests {
    @Test func convolutionKernelIsTransposedToOutInMelTime() {
        // tf[t][m][i][o] = 1000 t + 100 m + 10 i + o, with 2 inputs and 3 outputs.
        var tf = [Float]()
        for t in 0..<3 { for m in 0..<3 { for i in 0..<2 { for o in 0..<3 { tf.append(Float(1000 * t + 100 * m + 10 * i + o)) } } } }
        let ours = MusicnnVGG.convolutionKernel(tf, inChannels: 2, outChannels: 3)
        for o in 0..<3 { for i in 0..<2 { for m in 0..<3 { for t in 0..<3 {
            #expect(ours[((o * 2 + i) * 3 + m) * 3 + t] == Float(1000 * t + 100 * m + 10 * i + o))
        } } } }
    }

    @Test func denseKernelRowsFollowTheChannelMajorFlatten() {
        // 3 channels x 2 time positions = 6 features, 4 tags; tf[row][k] = 10 row + k, row = t * 3 + c.
        let tf = (0..<6).flatMap { row in (0..<4).map { Float(10 * row + $0) } }
        let ours = MusicnnVGG.denseKernel(tf, channels: 3, tags: 4)
        for k in 0..<4 { for c in 0..<3 { for t in 0..<2 {
            #expect(ours[k * 6 + c * 2 + t] == Float(10 * (t * 3 + c) + k))
        } } }
        #expect(MusicnnVGG.pool5FromTensorFlowOrder([0, 1, 2, 10, 11, 12], channels: 3) == [0, 10, 1, 11, 2, 12])
    }

    /// The Python-written bundle (an independent writer) reads, with its Adam slots and int64 global step.
    @Test func pythonWrittenBundleReads() throws {
        let bundle = try TensorBundle(prefixPath: MusicnnFixtures.smallBundlePrefix)
        #expect(bundle.names.contains("1CNN/kernel/Adam_1"))
        #expect(try bundle.entry("global_step").dataType == .int64)
        #expect(try bundle.entry("5CNN/kernel").shape == [3, 3, 4, 4])
        #expect(try bundle.floats("dense/bias").count == 50)
    }

    /// The small random network in TensorFlow's names and layouts, through the importer's mapping, a checkpoint
    /// written and read back, and GenreKit's forward pass, against numpy's TensorFlow-semantics forward pass.
    @Test func smallNetworkForwardMatchesNumpy() throws {
        let golden = try MusicnnFixtures.golden("musicnn-small-forward.json")
        let bundle = try TensorBundle(prefixPath: MusicnnFixtures.smallBundlePrefix)
        let state = try MusicnnVGG.stateDictionary(from: bundle, filters: golden.filters)
        let directory = try TemporaryDirectory("pretrained")
        let checkpoint = try PretrainedImport.makeCheckpoint(state: state, filters: golden.filters, tags: MusicnnVGG.msdTags)
        try checkpoint.write(to: directory.file("small.h5"))
        let read = try Checkpoint.read(from: directory.file("small.h5"))
        #expect(read.classes == MusicnnVGG.msdTags)
        #expect(read.modelSpec.output == .sigmoid)
        #expect(read.normMean == [Float](repeating: 0, count: 96) && read.normStd == [Float](repeating: 1, count: 96))
        #expect(read.provenance["source"] == "musicnn-0.1.0 MSD_vgg" && read.provenance["licence"] == "ISC")
        let pipeline = try read.pipeline()
        #expect(pipeline.audio.sampleRate == 16000 && pipeline.stft.nFFT == 512 && pipeline.stft.hopLength == 256 && pipeline.mel.nMels == 96)
        #expect(pipeline.db.kind == .log1p && pipeline.db.scale == 10000 && pipeline.normalise.kind == .none)
        try MusicnnFixtures.expectForwardMatches(state: read.modelState, filters: golden.filters, golden: golden)
    }

    /// The importer's front end is the one `pipelines/musicnn.toml` describes (shards made with that file feed the
    /// imported network).
    @Test func frontEndIsPipelinesMusicnnToml() throws {
        let file = MusicnnFixtures.packageRoot.appendingPathComponent("pipelines/musicnn.toml").path
        #expect(MusicnnVGG.frontEnd() == (try PipelineConfiguration.load(path: file)))
    }

    @Test func missingTensorIsNamed() throws {
        let bundle = try TensorBundle(prefixPath: MusicnnFixtures.smallBundlePrefix)
        var tensors = [TensorBundleWriter.Tensor]()
        for name in bundle.names where (try? bundle.entry(name).dataType) == .float && name != "batch_normalization_3/moving_variance" {
            tensors.append(.init(name: name, shape: try bundle.entry(name).shape, values: try bundle.floats(name)))
        }
        let (index, data) = TensorBundleWriter().write(tensors)
        let damaged = try TensorBundle(indexBytes: index, dataBytes: data, source: "small.index")
        #expect(throws: PretrainedError.missingTensor(source: "small.index", name: "batch_normalization_3/moving_variance")) {
            try MusicnnVGG.stateDictionary(from: damaged, filters: 4)
        }
        #expect(PretrainedError.missingTensor(source: "small.index", name: "x").description
                == "small.index: the checkpoint has no tensor x")
    }

    /// A folder holding the small network's `.index`/`.data` is read as a checkpoint folder; the importer of the
    /// 128-filter MSD_vgg then names the first tensor whose shape disagrees.
    @Test func directorySourceAndShapeMismatch() throws {
        let directory = try TemporaryDirectory("pretrained-dir")
        let checkpointFolder = directory.file("musicnn/MSD_vgg")
        try FileManager.default.createDirectory(atPath: checkpointFolder, withIntermediateDirectories: true)
        for suffix in [".index", ".data-00000-of-00001"] {
            try FileManager.default.copyItem(atPath: MusicnnFixtures.smallBundlePrefix + suffix, toPath: checkpointFolder + "/" + suffix)
        }
        for path in [checkpointFolder, directory.path] {
            #expect(throws: PretrainedError.tensorShape(
                source: checkpointFolder + "/.index", name: "1CNN/kernel", expected: [3, 3, 1, 128], found: [3, 3, 1, 4])) {
                try PretrainedImport.importMusicnnMSDVGG(from: .directory(path: path), to: directory.file("out.h5"))
            }
        }
        #expect(!FileManager.default.fileExists(atPath: directory.file("out.h5")))
        // A dist-info of another version next to the unzipped wheel is refused.
        let distInfo = directory.file("musicnn-0.2.0.dist-info")
        try FileManager.default.createDirectory(atPath: distInfo, withIntermediateDirectories: true)
        try Data("Metadata-Version: 2.1\nName: musicnn\nVersion: 0.2.0\n".utf8).write(to: URL(fileURLWithPath: distInfo + "/METADATA"))
        #expect(throws: PretrainedError.source(path: distInfo + "/METADATA", reason: "is musicnn 0.2.0; GenreKit imports musicnn 0.1.0 only")) {
            try PretrainedImport.importMusicnnMSDVGG(from: .directory(path: directory.path), to: directory.file("out.h5"))
        }
        #expect(throws: PretrainedError.source(path: directory.file("nothing"), reason: "no such folder")) {
            try PretrainedImport.importMusicnnMSDVGG(from: .directory(path: directory.file("nothing")), to: directory.file("out.h5"))
        }
        try FileManager.default.createDirectory(atPath: directory.file("empty"), withIntermediateDirectories: true)
        #expect(throws: PretrainedError.source(
            path: directory.file("empty"),
            reason: "holds neither .index (a checkpoint folder) nor musicnn/MSD_vgg/.index (an unzipped wheel)")) {
            try PretrainedImport.importMusicnnMSDVGG(from: .directory(path: directory.file("empty")), to: directory.file("out.h5"))
        }
    }

    /// Small wheels made here: another version (by METADATA, and by file name), a wheel without the checkpoint,
    /// a file that is not a zip.
    @Test func wheelProblemsAreOneLine() throws {
        let directory = try TemporaryDirectory("pretrained-wheel")
        func makeWheel(_ name: String, version: String, withCheckpoint: Bool) throws -> String {
            let path = directory.file(name)
            var zip = ZipWriter()
            func add(_ member: String, _ bytes: [UInt8]) throws { try zip.add(member, bytes) }
            try add("musicnn-\(version).dist-info/METADATA", Array("Metadata-Version: 2.1\nName: musicnn\nVersion: \(version)\n".utf8))
            if withCheckpoint {
                for suffix in [".index", ".data-00000-of-00001"] {
                    try add("musicnn/MSD_vgg/" + suffix, [UInt8](try Data(contentsOf: URL(fileURLWithPath: MusicnnFixtures.smallBundlePrefix + suffix))))
                }
            }
            try Data(zip.finished()).write(to: URL(fileURLWithPath: path))
            return path
        }
        let other = try makeWheel("other.whl", version: "0.2.0", withCheckpoint: true)
        #expect(throws: PretrainedError.source(path: other, reason: "is musicnn 0.2.0; GenreKit imports musicnn 0.1.0 only")) {
            try PretrainedImport.importMusicnnMSDVGG(from: .wheel(path: other), to: directory.file("out.h5"))
        }
        let named = try makeWheel("musicnn-0.2.0-py3-none-any.whl", version: "0.1.0", withCheckpoint: true)
        #expect(throws: PretrainedError.source(path: named, reason: "is musicnn 0.2.0; GenreKit imports musicnn 0.1.0 only")) {
            try PretrainedImport.importMusicnnMSDVGG(from: .wheel(path: named), to: directory.file("out.h5"))
        }
        let empty = try makeWheel("empty.whl", version: "0.1.0", withCheckpoint: false)
        #expect(throws: PretrainedError.source(path: empty, reason: "the wheel has no musicnn/MSD_vgg/.index")) {
            try PretrainedImport.importMusicnnMSDVGG(from: .wheel(path: empty), to: directory.file("out.h5"))
        }
        // The small network inside a 0.1.0 wheel: read through the zip, refused by shape.
        let small = try makeWheel("small.whl", version: "0.1.0", withCheckpoint: true)
        #expect(throws: PretrainedError.tensorShape(
            source: small + ":musicnn/MSD_vgg/.index", name: "1CNN/kernel", expected: [3, 3, 1, 128], found: [3, 3, 1, 4])) {
            try PretrainedImport.importMusicnnMSDVGG(from: .wheel(path: small), to: directory.file("out.h5"))
        }
        try Data("not a zip".utf8).write(to: URL(fileURLWithPath: directory.file("bad.whl")))
        #expect(throws: PretrainedError.source(path: directory.file("bad.whl"), reason: "not a readable wheel: not a zip archive (no end of central directory)")) {
            try PretrainedImport.importMusicnnMSDVGG(from: .wheel(path: directory.file("bad.whl")), to: directory.file("out.h5"))
        }
        #expect(throws: PretrainedError.source(path: directory.file("none.whl"), reason: "no such wheel file")) {
            try PretrainedImport.importMusicnnMSDVGG(from: .wheel(path: directory.file("none.whl")), to: directory.file("out.h5"))
        }
    }
}

@Suite struct ZipArchiveTests {
    static func archive() throws -> [UInt8] {
        var zip = ZipWriter()
        try zip.add("a/stored.txt", Array("stored, not deflated".utf8), deflate: false)
        try zip.add("a/deflated.bin", (0..<5000).map { UInt8(truncatingIfNeeded: $0 * 7 % 13) })
        try zip.add("empty", [])
        return zip.finished()
    }

    @Test func readsStoredAndDeflatedMembers() throws {
        let zip = try ZipArchive(bytes: Self.archive())
        #expect(zip.members.map(\.name) == ["a/stored.txt", "a/deflated.bin", "empty"])
        #expect(try zip.contents(zip.member("a/stored.txt")!) == Array("stored, not deflated".utf8))
        #expect(try zip.contents(zip.member("a/deflated.bin")!) == (0..<5000).map { UInt8(truncatingIfNeeded: $0 * 7 % 13) })
        #expect(try zip.contents(zip.member("empty")!) == [])
        #expect(zip.member("nope") == nil)
    }

    @Test func rawInflateChecksTheLength() throws {
        let data = (0..<3000).map { UInt8(truncatingIfNeeded: $0 * 31 % 251) }
        let raw = Array(try Zlib.compress(data).dropFirst(2).dropLast(4))
        #expect(try Zlib.inflateRaw(raw, originalSize: data.count) == data)
        #expect(throws: ZlibError.self) { try Zlib.inflateRaw(Array(raw.prefix(raw.count / 2)), originalSize: data.count) }
        #expect(throws: ZlibError.self) { try Zlib.inflateRaw(raw, originalSize: data.count - 1) }
        #expect(throws: ZlibError.self) { try Zlib.inflateRaw(raw, originalSize: data.count + 1) }
    }

    @Test func damageIsNamed() throws {
        var bytes = try Self.archive()
        bytes[45] ^= 0x01  // inside the stored member's data
        let zip = try ZipArchive(bytes: bytes)
        #expect(throws: ZipArchive.Malformed.self) { try zip.contents(zip.member("a/stored.txt")!) }
        do {
            _ = try zip.contents(zip.member("a/stored.txt")!)
        } catch {
            #expect(error.reason == "a/stored.txt fails its CRC-32 (damaged archive)")
        }
        let truncated = Array(try Self.archive().prefix(100))
        do {
            _ = try ZipArchive(bytes: truncated)
            Issue.record("no error")
        } catch {
            #expect(error.reason == "not a zip archive (no end of central directory)")
        }
    }
}

/// With the real wheel (skipped when absent): its index, the import, and the forward pass against numpy's.
@Suite(.enabled(if: MusicnnFixtures.wheelPath != nil, MusicnnFixtures.wheelMissingReason))
struct MusicnnWheelTests {

    @Test func importsTheWheelAndMatchesNumpysForwardPass() throws {
        let wheel = try #require(MusicnnFixtures.wheelPath)
        let directory = try TemporaryDirectory("pretrained-real")
        let output = directory.file("musicnn.h5")
        let summary = try PretrainedImport.importMusicnnMSDVGG(from: .wheel(path: wheel), to: output)
        #expect(summary.tags == MusicnnVGG.msdTags && summary.tags.count == 50)
        #expect(summary.tensorsImported == 36)
        #expect(summary.tensorsInCheckpoint > summary.tensorsImported)
        #expect(summary.outputPath == output)
        let checkpoint = try Checkpoint.read(from: output)
        #expect(checkpoint.modelSpec == ModelSpec.musicnnVGG())
        // An output folder that does not exist: one line naming the file.
        do {
            try PretrainedImport.importMusicnnMSDVGG(from: .wheel(path: wheel), to: directory.file("no/such/folder/m.h5"))
            Issue.record("no error")
        } catch {
            guard case .output(let path, _) = error else { Issue.record("\(error)"); return }
            #expect(path == directory.file("no/such/folder/m.h5") && !error.description.contains("\n"))
        }
        let golden = try MusicnnFixtures.golden("musicnn-msd-vgg-forward.json")
        try MusicnnFixtures.expectForwardMatches(state: checkpoint.modelState, filters: 128, golden: golden)
    }
}

/// Reports, once per run, when the wheel tests are skipped and why.
@Test func reportWhetherTheWheelTestsRun() {
    if let wheel = MusicnnFixtures.wheelPath {
        print("musicnn wheel tests run on \(wheel)")
    } else {
        print("musicnn wheel tests skipped: \(MusicnnFixtures.wheelMissingReason)")
    }
}
