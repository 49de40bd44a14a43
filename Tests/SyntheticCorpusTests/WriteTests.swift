import AudioIO
import Foundation
import Testing
import SyntheticCorpus

@Suite struct WriteTests {
    static let options = SyntheticCorpus.Options(clipsPerGenre: 2, seconds: 2, seed: 3)

    /// All regular files under `root`, relative paths, sorted (hidden ones included).
    static func files(under root: String) -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: root)
        var found = [String]()
        while let path = enumerator?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: root + "/" + path, isDirectory: &isDirectory), !isDirectory.boolValue {
                found.append(path)
            }
        }
        return found.sorted()
    }

    @Test func writesADecodableCorpusWithNoTemporaryFilesLeft() throws {
        let directory = try TemporaryDirectory()
        let root = directory.path + "/corpus"
        let written = try SyntheticCorpus.write(to: root, options: Self.options)
        #expect(written == SyntheticCorpus.plan(Self.options))
        #expect(Self.files(under: root) == written.map(\.relativePath).sorted())

        for plan in written {
            let path = root + "/" + plan.relativePath
            let info = try AudioDecoder.info(path: path)
            #expect(info.sampleRate == plan.sampleRate && info.channels == plan.channels, "\(plan.relativePath)")
            #expect(info.frames == 2 * plan.sampleRate, "\(plan.relativePath)")
            #expect(info.container == plan.format.container && info.encoding == plan.format.encoding)
            let decoded = try AudioDecoder.decodeMono(path: path)
            #expect(decoded.sampleRate == plan.sampleRate && decoded.samples.count == 2 * plan.sampleRate)
            // The file holds the rendered clip up to 16-bit quantisation.
            let expected = downmix(SyntheticCorpus.render(plan, options: Self.options), channels: plan.channels)
            var worst: Float = 0
            for (a, b) in zip(decoded.samples, expected) { worst = max(worst, abs(a - b)) }
            #expect(worst < 1.0 / 16_384, "\(plan.relativePath) differs from its rendering by \(worst)")
        }
    }

    @Test func outputDoesNotDependOnTheNumberOfWorkers() throws {
        let directory = try TemporaryDirectory()
        var single = SyntheticCorpus.Options(clipsPerGenre: 1, seconds: 1, seed: 8)
        single.workers = 1
        var several = single
        several.workers = 3
        let plans = try SyntheticCorpus.write(to: directory.path + "/one", options: single)
        try SyntheticCorpus.write(to: directory.path + "/three", options: several)
        for plan in plans {
            let a = try Data(contentsOf: URL(fileURLWithPath: directory.path + "/one/" + plan.relativePath))
            let b = try Data(contentsOf: URL(fileURLWithPath: directory.path + "/three/" + plan.relativePath))
            #expect(a == b, "\(plan.relativePath)")
        }
    }

    @Test func rewritingReplacesFilesInPlace() throws {
        let directory = try TemporaryDirectory()
        let options = SyntheticCorpus.Options(clipsPerGenre: 1, seconds: 0.5, seed: 1)
        let plans = try SyntheticCorpus.write(to: directory.path, options: options)
        try SyntheticCorpus.write(to: directory.path, options: options)
        #expect(Self.files(under: directory.path) == plans.map(\.relativePath).sorted())
    }

    @Test func unwritableRootThrowsAnErrorNamingThePath() throws {
        let directory = try TemporaryDirectory()
        let blocker = directory.path + "/not-a-folder"
        try Data("x".utf8).write(to: URL(fileURLWithPath: blocker))
        let error = #expect(throws: SyntheticCorpusError.self) {
            try SyntheticCorpus.write(to: blocker + "/corpus", options: SyntheticCorpus.Options(clipsPerGenre: 1, seconds: 0.1))
        }
        #expect(error?.path == blocker)
        #expect(error?.description.hasPrefix(blocker + ": ") == true)
        print("SyntheticCorpus write error example: \(error.map(String.init(describing:)) ?? "none")")
    }
}
