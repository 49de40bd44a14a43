import AudioIO
import Foundation
import Testing

@testable import Pipeline

@Suite struct CorpusScannerTests {
    let extensions = PipelineConfiguration().audio.extensions

    @Test func classesAreSortedFolderNamesAndBadFilesAreReported() throws {
        let f = TemporaryFolder()
        f.writeTone("rock/b.wav", frequency: 440, seconds: 0.5)
        f.writeTone("rock/a.WAV", frequency: 440, seconds: 0.5)          // upper-case extension
        f.writeTone("blues/ünïcode name.au", frequency: 220, seconds: 0.5, format: .auPCM16)
        f.writeTone("blues/sub/deeper.flac", frequency: 220, seconds: 0.5, format: .flacPCM16)
        f.write("blues/notes.txt", text: "not audio, not an audio extension")
        f.write("blues/fake.wav", text: "this is not a wav file at all")  // audio extension, not audio
        f.write("jazz/empty.wav", text: "")                               // zero-length
        f.makeFolder("classical")                                          // empty class folder
        f.writeTone("stray.wav", frequency: 440, seconds: 0.2)           // at the root
        let m = try CorpusScanner(root: f.path, extensions: extensions, jobs: 2).scan()
        #expect(m.classes == ["blues", "rock"])
        #expect(m.entries.map(\.path) == ["blues/sub/deeper.flac", "blues/ünïcode name.au", "rock/a.WAV", "rock/b.wav"])
        #expect(m.entries.map(\.label) == [0, 0, 1, 1])
        let deeper = m.entries[0]
        #expect(deeper.sampleRate == 22050 && deeper.channels == 1 && deeper.frames == 11025)
        #expect(abs(deeper.seconds - 0.5) < 1e-9)
        let skipped = Dictionary(uniqueKeysWithValues: m.skipped.map { ($0.path, $0.reason) })
        #expect(skipped["blues/fake.wav"] != nil)
        #expect(skipped["jazz/empty.wav"] != nil)
        #expect(skipped["classical/"] != nil)
        #expect(skipped["jazz/"] != nil)  // its only file is unusable: not a class
        #expect(skipped["stray.wav"]?.contains("corpus root") == true)
        #expect(skipped["blues/notes.txt"] == nil)  // not audio by extension: ignored silently
    }

    @Test func missingRootIsAnError() {
        #expect(throws: ScanError.self) {
            _ = try CorpusScanner(root: "/nonexistent/corpus", extensions: extensions).scan()
        }
    }

    @Test func corpusWithoutClassFoldersIsAnError() {
        let f = TemporaryFolder()
        f.writeTone("a.wav", frequency: 440, seconds: 0.1)
        #expect(throws: ScanError.self) { _ = try CorpusScanner(root: f.path, extensions: extensions).scan() }
    }

    @Test func symlinkLoopsAreNotFollowed() throws {
        let f = TemporaryFolder()
        f.writeTone("pop/a.wav", frequency: 440, seconds: 0.2)
        try FileManager.default.createSymbolicLink(atPath: f.file("pop/loop"), withDestinationPath: f.file("pop"))
        try FileManager.default.createSymbolicLink(atPath: f.file("pop/self.wav"), withDestinationPath: f.file("pop/self.wav"))
        let m = try CorpusScanner(root: f.path, extensions: extensions).scan()
        #expect(m.entries.map(\.path) == ["pop/a.wav"])
        #expect(m.skipped.contains { $0.path == "pop/self.wav" })
    }
}
