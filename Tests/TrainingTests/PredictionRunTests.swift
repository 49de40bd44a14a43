import Foundation
import Net
import Pipeline
import Testing

@testable import Training

/// A tiny classifier checkpoint (two conv blocks, 16 mel bands, 16-frame windows, seeded weights) whose pipeline is
/// the default one with 16 mel bands: prediction runs in milliseconds per file.
func writeTinyClassifier(to path: String, classes: [String] = ["blues", "jazz", "rock"]) throws {
    var training = try TrainingConfiguration.parse(toml: "")
    training.model.channels = [4, 8]
    training.model.cropFrames = 16
    let spec = training.modelSpec(classes: classes.count, nMels: 16)
    let state = try Sequential(spec: spec, seed: 7).stateDictionary()
    let pipeline = try PipelineConfiguration.parse(toml: "[mel]\nn_mels = 16\n")
    try Checkpoint(
        classes: classes, modelSpec: spec, training: training, pipelineConfiguration: pipeline.jsonText(),
        shardParameters: "{}", normMean: (0..<16).map { -40 + Float($0) }, normStd: [Float](repeating: 12, count: 16),
        modelState: state, optimizerState: [:], epoch: 1, bestValidAccuracy: 0.5, bestEpoch: 1,
        epochsWithoutImprovement: 0, optimizerSteps: 1
    ).write(to: path)
}

/// A mono 16-bit PCM WAV at 22050 Hz: `seconds` of a chord whose pitch and loudness depend on `tone`, so that
/// files predict differently. Creates the file's folder.
func writeTestWAV(_ path: String, tone: Int, seconds: Double = 1) throws {
    try FileManager.default.createDirectory(
        atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    let rate = 22050, count = Int(seconds * Double(rate))
    var bytes: [UInt8] = []
    func u32(_ v: Int) { bytes += withUnsafeBytes(of: UInt32(v).littleEndian, Array.init) }
    func u16(_ v: Int) { bytes += withUnsafeBytes(of: UInt16(v).littleEndian, Array.init) }
    bytes += Array("RIFF".utf8); u32(36 + 2 * count); bytes += Array("WAVEfmt ".utf8)
    u32(16); u16(1); u16(1); u32(rate); u32(2 * rate); u16(2); u16(16)
    bytes += Array("data".utf8); u32(2 * count)
    let f = 110 * Double(tone + 1), a = 0.2 + 0.05 * Double(tone % 10)
    for n in 0..<count {
        let t = Double(n) / Double(rate)
        let x = a * (sin(2 * .pi * f * t) + 0.5 * sin(2 * .pi * 2.5 * f * t) * (n / 2000 % 2 == 0 ? 1 : 0.2)) / 1.5
        bytes += withUnsafeBytes(of: Int16(x * 32767).littleEndian, Array.init)
    }
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

/// The fields of the CSV line `line` (RFC 4180 quoting; one line, so no quoted line breaks).
func csvFields(_ line: Substring) -> [String] {
    var fields: [String] = [], field = "", quoted = false
    var characters = Array(line)[...]
    while let c = characters.popFirst() {
        if quoted {
            if c == "\"" {
                if characters.first == "\"" { field.append("\""); characters.removeFirst() } else { quoted = false }
            } else {
                field.append(c)
            }
        } else if c == "\"" {
            quoted = true
        } else if c == "," {
            fields.append(field); field = ""
        } else {
            field.append(c)
        }
    }
    return fields + [field]
}

@Suite struct PredictionRunTests {
    @Test func foldersAreSearchedRecursivelySortedAndWithoutDuplicates() throws {
        let dir = try TemporaryDirectory("predict-inputs")
        for name in ["music/b.wav", "music/a.WAV", "music/sub/deeper/c.flac", "music/sub/z.au", "music/.hidden.wav",
                     "music/notes.txt", "music/sub/cover.jpg", "loose.xyz", "empty/readme.md"] {
            try FileManager.default.createDirectory(
                atPath: (dir.file(name) as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data("x".utf8).write(to: URL(fileURLWithPath: dir.file(name)))
        }
        try FileManager.default.createDirectory(atPath: dir.file("music/folder.wav"), withIntermediateDirectories: true)
        try Data("x".utf8).write(to: URL(fileURLWithPath: dir.file("music/folder.wav/inner.ogg")))
        let extensions = PipelineConfiguration().audio.extensions
        let inputs = PredictionInputs(
            arguments: [dir.file("loose.xyz"), dir.file("music/"), dir.file("music/sub/z.au"), dir.file("missing.wav"),
                        dir.file("music/./b.wav"), dir.file("empty"), dir.file("missing.wav")],
            extensions: extensions)
        let music = dir.file("music")
        #expect(inputs.entries.map(\.path) == [
            dir.file("loose.xyz"),
            music + "/a.WAV", music + "/b.wav", music + "/folder.wav/inner.ogg", music + "/sub/deeper/c.flac",
            music + "/sub/z.au",
            dir.file("missing.wav"),
            dir.file("empty"),
        ])
        #expect(inputs.entries[6] == .unusable(path: dir.file("missing.wav"), reason: "no such file or folder"))
        guard case .unusable(_, let reason) = inputs.entries[7] else { Issue.record("empty folder kept"); return }
        #expect(reason.hasPrefix("the folder holds no audio file"))
        #expect(inputs.entries.prefix(6).allSatisfy { if case .file = $0 { true } else { false } })
    }

    @Test func csvHasOneRowPerInputInOrderWithReasonsAndQuoting() throws {
        let dir = try TemporaryDirectory("predict-csv")
        try writeTinyClassifier(to: dir.file("model.h5"))
        try writeTestWAV(dir.file("songs/one.wav"), tone: 1)
        try writeTestWAV(dir.file("songs/deep/two.wav"), tone: 2, seconds: 2.5)
        try writeTestWAV(dir.file("songs/with, \"comma\".wav"), tone: 3)
        try Data((0..<3000).map { UInt8(truncatingIfNeeded: $0 &* 7919) }).write(to: URL(fileURLWithPath: dir.file("songs/corrupt.wav")))
        let run = try PredictionRun(checkpoint: dir.file("model.h5"))
        var lines: [String] = []
        let tally = try run.perform(
            arguments: [dir.file("songs"), dir.file("gone.wav")], options: .init(jobs: 2),
            outputs: .init(lines: .top(2), csvPath: dir.file("out.csv")), write: { lines.append($0) })
        #expect(tally == PredictionTally(predicted: 3, failed: 2))
        #expect(tally.verdict == .somePredicted)
        let text = try String(contentsOfFile: dir.file("out.csv"), encoding: .utf8)
        let rows = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(rows.first == "path,top1,p1,top2,p2,top3,p3,seconds,error")
        #expect(rows.last == "")
        let fields = rows.dropFirst().dropLast().map(csvFields)
        #expect(fields.map { $0[0] } == ["corrupt.wav", "deep/two.wav", "one.wav", "with, \"comma\".wav"]
            .map { dir.file("songs/" + $0) } + [dir.file("gone.wav")])
        #expect(fields.allSatisfy { $0.count == 9 })
        #expect(rows[4].hasPrefix("\"" + dir.file("songs/with, \"\"comma\"\".wav") + "\","))
        for row in [fields[1], fields[2], fields[3]] {
            #expect(Set([row[1], row[3], row[5]]) == ["blues", "jazz", "rock"])
            let p = [row[2], row[4], row[6]].map { Double($0)! }
            #expect(p == p.sorted(by: >) && abs(p.reduce(0, +) - 1) < 1e-5)
            #expect(row[2].split(separator: ".").last?.count == 6)
            #expect(row[8] == "")
        }
        #expect(fields[1][7] == "2.508" && fields[2][7] == "1.022")  // (1 + samples / 512) frames of 512 / 22050 s
        #expect(fields[0][1...7].allSatisfy(\.isEmpty) && !fields[0][8].isEmpty && !fields[0][8].contains("\n"))
        #expect(fields[4][1...7].allSatisfy(\.isEmpty) && fields[4][8] == "no such file or folder")
        #expect(lines.count == 3 && lines[0].hasPrefix(dir.file("songs/deep/two.wav") + ": "))
        #expect(!FileManager.default.fileExists(atPath: dir.file(".out.csv.tmp-\(getpid())")))
    }

    @Test func resultsAreTheSameWhateverTheJobsAndComeInInputOrder() throws {
        let dir = try TemporaryDirectory("predict-jobs")
        try writeTinyClassifier(to: dir.file("model.h5"))
        for k in 0..<7 { try writeTestWAV(dir.file("in/clip\(k).wav"), tone: k, seconds: 0.5 + 0.5 * Double(k % 3)) }
        let run = try PredictionRun(checkpoint: dir.file("model.h5"))
        let inputs = run.inputs([dir.file("in")])
        func outcomes(jobs: Int) throws -> [Predictor.Prediction] {
            var order: [Int] = [], results: [Predictor.Prediction] = []
            let tally = try run.run(inputs, options: .init(windowHop: 5, jobs: jobs)) { index, outcome in
                order.append(index)
                guard case .predicted(let prediction) = outcome else { Issue.record("\(outcome)"); return }
                results.append(prediction)
            }
            #expect(tally == PredictionTally(predicted: 7, failed: 0))
            #expect(order == Array(0..<7))
            return results
        }
        let one = try outcomes(jobs: 1), two = try outcomes(jobs: 2), three = try outcomes(jobs: 3)
        #expect(one.map(\.path) == (0..<7).map { dir.file("in/clip\($0).wav") })
        #expect(one.allSatisfy { $0.windows.count > 1 })
        for other in [two, three] {
            #expect(other.map(\.probabilities) == one.map(\.probabilities))
            #expect(other.map { $0.windows.map(\.probabilities) } == one.map { $0.windows.map(\.probabilities) })
        }
        // Without windows for CSV-only runs, the same file probabilities.
        var lean: [Predictor.Prediction] = []
        _ = try run.run(inputs, options: .init(windowHop: 5, jobs: 2, keepWindows: false)) { _, outcome in
            if case .predicted(let p) = outcome { lean.append(p) }
        }
        #expect(lean.map(\.probabilities) == one.map(\.probabilities) && lean.allSatisfy(\.windows.isEmpty))
    }

    /// SIGINT or SIGTERM (a cancellation flag): no file starts once it is set; the files in progress finish, and the
    /// outcomes delivered — and the CSV rows kept — are those of a prefix of the inputs, in order.
    @Test func aCancelledRunKeepsThePrefixItFinished() throws {
        let dir = try TemporaryDirectory("predict-cancel")
        try writeTinyClassifier(to: dir.file("model.h5"))
        for k in 0..<12 { try writeTestWAV(dir.file("in/clip\(k).wav"), tone: k, seconds: 0.5) }
        let run = try PredictionRun(checkpoint: dir.file("model.h5"))
        let before = CancellationFlag()
        before.cancel("SIGINT")
        let none = try run.perform(arguments: [dir.file("in")], options: .init(jobs: 2, cancellation: before),
                                   outputs: .init(lines: .none, csvPath: dir.file("none.csv")), write: { _ in })
        #expect(none.interrupted == "SIGINT" && none.total == 0)
        #expect(try String(contentsOfFile: dir.file("none.csv"), encoding: .utf8) == PredictionCSV.header + "\n")

        let during = CancellationFlag()
        var order: [Int] = []
        let some = try run.run(run.inputs([dir.file("in")]), options: .init(jobs: 2, cancellation: during)) { index, _ in
            order.append(index)
            during.cancel("SIGTERM")
        }
        #expect(some.interrupted == "SIGTERM")
        #expect(order == Array(0..<some.total) && some.total >= 1 && some.predicted == some.total)
    }

    @Test func jsonListsFailuresAndNothingPredictedIsTheVerdict() throws {
        let dir = try TemporaryDirectory("predict-json")
        try writeTinyClassifier(to: dir.file("model.h5"))
        try Data("not audio".utf8).write(to: URL(fileURLWithPath: dir.file("bad.wav")))
        let run = try PredictionRun(checkpoint: dir.file("model.h5"))
        var printed: [String] = []
        let tally = try run.perform(
            arguments: [dir.file("bad.wav"), dir.file("nothing-here")], outputs: .init(lines: .none, json: true),
            write: { printed.append($0) })
        #expect(tally.verdict == .nonePredicted)
        #expect(printed.count == 1)
        let json = try JSONSerialization.jsonObject(with: Data(printed[0].utf8)) as? [String: Any]
        let failures = json?["failures"] as? [[String: String]]
        #expect(failures?.map { $0["path"] } == [dir.file("bad.wav"), dir.file("nothing-here")])
        #expect((json?["predictions"] as? [Any])?.isEmpty == true)
        #expect(json?["classes"] as? [String] == ["blues", "jazz", "rock"])
        #expect(PredictionTally(predicted: 2).verdict == .allPredicted)
    }

    @Test func badWindowHopAndUnwritableCSVFailBeforeAnyFileIsRead() throws {
        let dir = try TemporaryDirectory("predict-refuse")
        try writeTinyClassifier(to: dir.file("model.h5"))
        let run = try PredictionRun(checkpoint: dir.file("model.h5"))
        #expect(throws: TrainingError.self) {
            _ = try run.run(run.inputs([dir.path]), options: .init(windowHop: 17)) { _, _ in Issue.record("ran") }
        }
        #expect { _ = try run.perform(arguments: [dir.path], outputs: .init(csvPath: dir.file("no/such/out.csv")),
                                      write: { _ in }) } throws: { "\($0)".contains("no/such/out.csv") }
        #expect(throws: TrainingError.self) { _ = try PredictionRun(checkpoint: dir.file("model.h5"), network: .tagger) }
    }

    @Test func taggersShareTheRunWithTagLines() throws {
        let dir = try TemporaryDirectory("predict-tags")
        let spec = ModelSpec.musicnnVGG(tags: 4, filters: 4, inputShape: [1, 64, 96])
        let pipeline = try PipelineConfiguration.parse(toml: "[mel]\nn_mels = 64\n")
        try Checkpoint(
            classes: ["calm", "loud", "slow", "fast"], modelSpec: spec, training: TrainingConfiguration(),
            pipelineConfiguration: pipeline.jsonText(), shardParameters: "{}", normMean: [Float](repeating: -30, count: 64),
            normStd: [Float](repeating: 15, count: 64), modelState: try Sequential(spec: spec, seed: 5).stateDictionary(),
            optimizerState: [:], epoch: 0, bestValidAccuracy: 0, bestEpoch: 0, epochsWithoutImprovement: 0,
            optimizerSteps: 0
        ).write(to: dir.file("tagger.h5"))
        try writeTestWAV(dir.file("a/x.wav"), tone: 4, seconds: 1.5)
        try writeTestWAV(dir.file("a/y.wav"), tone: 8)
        let tagger = try PredictionRun(checkpoint: dir.file("tagger.h5"), network: .tagger)
        var lines: [String] = []
        let tally = try tagger.perform(
            arguments: [dir.file("a")], options: .init(jobs: 2),
            outputs: .init(lines: .top(4), csvPath: dir.file("tags.csv")), write: { lines.append($0) })
        #expect(tally == PredictionTally(predicted: 2))
        #expect(lines.map { $0.split(separator: ",").count } == [4, 4])
        #expect(lines[0].hasPrefix(dir.file("a/x.wav") + ": ") && lines[0].contains(" 0."))
        let rows = try String(contentsOfFile: dir.file("tags.csv"), encoding: .utf8).split(separator: "\n").dropFirst()
        #expect(rows.count == 2 && rows.allSatisfy { csvFields($0)[1...6].allSatisfy { !$0.isEmpty } })
    }

    @Test func csvRowsOfFewClassesAndOddPaths() {
        let prediction = Predictor.Prediction(path: "a\"b,c.wav", seconds: 12.3456, probabilities: [0.25, 0.75], windows: [])
        #expect(PredictionCSV.row(for: .predicted(prediction), classes: ["x", "y"])
                == "\"a\"\"b,c.wav\",y,0.750000,x,0.250000,,,12.346,")
        #expect(PredictionCSV.row(for: .failed(path: "plain.wav", reason: "sf_open: bad, really"), classes: ["x"])
                == "plain.wav,,,,,,,,\"sf_open: bad, really\"")
        #expect(PredictionCSV.field("line\nbreak") == "\"line\nbreak\"")
        #expect(PredictionRun.reason(.io(path: "f.wav", reason: "Format not recognised."), path: "f.wav")
                == "Format not recognised.")
    }
}
