import Foundation
import Shards
import Testing

@testable import Training

@Suite struct ClipWindowTests {
    @Test func windowStartsFollowTheHopAndEndAtTheLastAudioFrame() {
        // Non-overlapping, reaching the end exactly: no extra window.
        #expect(ClipWindows.starts(audioFrames: 40, windowFrames: 10, hop: 10) == [0, 10, 20, 30])
        // Overlapping (hop 8 < 16): 0, 8, 16, 24 (24 + 16 = 40 reaches the end).
        #expect(ClipWindows.starts(audioFrames: 40, windowFrames: 16, hop: 8) == [0, 8, 16, 24])
        // 0, 10, 20 (20 + 16 = 36 < 45, 30 + 16 > 45), then 29 ending at frame 45.
        #expect(ClipWindows.starts(audioFrames: 45, windowFrames: 16, hop: 10) == [0, 10, 20, 29])
        #expect(ClipWindows.starts(audioFrames: 17, windowFrames: 16, hop: 16) == [0, 1])
        // As long as a window, and shorter: one window at 0.
        #expect(ClipWindows.starts(audioFrames: 16, windowFrames: 16, hop: 4) == [0])
        #expect(ClipWindows.starts(audioFrames: 5, windowFrames: 16, hop: 4) == [0])
        #expect(ClipWindows.starts(audioFrames: 0, windowFrames: 16, hop: 16) == [0])
    }

    @Test func audioFramesFollowTheSTFT() {
        // 10 s at 22050 Hz = 220500 samples; centred: 1 + floor(220500 / 512) = 431.
        let centred = SpectrogramTiming(sampleRate: 22050, hopLength: 512, nFFT: 2048, center: true)
        #expect(centred.audioFrames(seconds: 10) == 431)
        #expect(centred.audioFrames(seconds: 30) == 1292)  // 661500 samples
        #expect(centred.audioFrames(seconds: 0) == 1)
        // Not centred: 1 + floor((220500 - 2048) / 512) = 427; shorter than the FFT: 0.
        let plain = SpectrogramTiming(sampleRate: 22050, hopLength: 512, nFFT: 2048, center: false)
        #expect(plain.audioFrames(seconds: 10) == 427)
        #expect(plain.audioFrames(seconds: 0.05) == 0)
        // samples = round(seconds · rate): 0.0116 s = 255.78 → 256 samples → 1 + 256 / 256 = 2 frames.
        #expect(SpectrogramTiming(sampleRate: 22050, hopLength: 256, nFFT: 512).audioFrames(seconds: 0.0116) == 2)
        #expect(SpectrogramTiming(parameters: ["sample_rate": 22050, "hop_length": 512, "n_fft": 1024,
                                               "center": false])
                == SpectrogramTiming(sampleRate: 22050, hopLength: 512, nFFT: 1024, center: false))
        #expect(SpectrogramTiming(parameters: ["sample_rate": 22050]) == nil)
        #expect(centred.seconds(ofFrame: 431) == 431.0 * 512 / 22050)
    }

    /// Shards of 30 s clips at 100 Hz with a hop of 10 samples (centred, n_fft 20): 301 frames per clip. Test clips:
    /// 30 s, 10 s (padded), 2 s (padded, shorter than a window), 45 s (cropped: capped at 301 frames).
    func paddedFolder(_ directory: TemporaryDirectory) throws -> (ShardDataset, [Int]) {
        var folder = HandMadeFolder()
        folder.frames = 301
        folder.parameters = ["sample_rate": 100, "hop_length": 10, "n_fft": 20, "center": true]
        folder.clipSeconds = [3: 30, 4: 10, 5: 2, 6: 45]
        let ids = try folder.write(to: directory.path, splits: [
            "train": [[0, 1, 2]], "test": [[0, 1, 2, 0]],
        ])
        return (try ShardDataset(directory: directory.path, requiredSplits: ["test"]), ids["test"]!)
    }

    @Test func paddedClipsAreWindowedInsideTheirAudio() throws {
        let directory = try TemporaryDirectory()
        let (dataset, ids) = try paddedFolder(directory)
        let test = try dataset.split("test")
        #expect(test.seconds == [30, 10, 2, 45])
        #expect((0..<4).map { dataset.audioFrames(clip: $0, of: test) } == [301, 101, 21, 301])
        var windows = try EvaluationWindows(dataset: dataset, split: "test", cropFrames: 40, batchSize: 3)
        // 30 s: 0, 40, ..., 240, then 261 ending at frame 301. 10 s (101 frames): 0, 40, then 61 ending at 101.
        // 2 s (21 frames, shorter than a window): 0.
        let expected: [[Int]] = [[0, 40, 80, 120, 160, 200, 240, 261], [0, 40, 61], [0],
                                 [0, 40, 80, 120, 160, 200, 240, 261]]
        #expect(windows.windowsPerClip == expected.map(\.count))
        #expect(windows.windows == expected.enumerated().flatMap { clip, starts in
            starts.map { ClipWindow(clip: clip, start: $0) }
        })
        var seen: [ClipWindow] = []
        while let batch = try windows.next() {
            #expect(batch.count <= 3)
            for i in 0..<batch.count {
                seen.append(ClipWindow(clip: batch.clips[i], start: batch.starts[i]))
                for t in [0, 39] {
                    #expect(batch.inputs[(i * 8 + 2) * 40 + t]
                            == cellValue(clip: ids[batch.clips[i]], band: 2, frame: batch.starts[i] + t))
                }
            }
        }
        #expect(seen == windows.windows)
        // The 10 s clip's windows lie inside its first 10 s (101 frames).
        #expect(windows.windows.filter { $0.clip == 1 }.allSatisfy { $0.start + 40 <= 101 })
    }

    @Test func overlappingWindowsAndClipLogitsAreTheMeanOverExactlyThoseWindows() throws {
        let directory = try TemporaryDirectory()
        let (dataset, ids) = try paddedFolder(directory)
        // Hop 25 over the 10 s clip's 101 frames: 0, 25, 50 (75 + 40 > 101), then 61 ending at frame 101.
        var windows = try EvaluationWindows(dataset: dataset, split: "test", cropFrames: 40, hop: 25, batchSize: 5)
        #expect(windows.windows.filter { $0.clip == 1 }.map(\.start) == [0, 25, 50, 61])
        #expect(windows.windows.filter { $0.clip == 0 }.map(\.start) == [0, 25, 50, 75, 100, 125, 150, 175, 200, 225, 250, 261])
        #expect(windows.windows.filter { $0.clip == 2 }.map(\.start) == [0])
        #expect(throws: TrainingError.self) { _ = try EvaluationWindows(dataset: dataset, split: "test", cropFrames: 40, hop: 41) }
        #expect(throws: TrainingError.self) { _ = try EvaluationWindows(dataset: dataset, split: "test", cropFrames: 40, hop: 0) }

        // A stand-in model: logits (mean of band 0 over the window, 0, 0).
        var accumulator = EvaluationAccumulator(classes: dataset.classes, clipLabels: windows.labels)
        while let batch = try windows.next() {
            var logits = [Float](repeating: 0, count: batch.count * 3)
            for i in 0..<batch.count {
                logits[i * 3] = batch.inputs[(i * 8 * 40)..<(i * 8 * 40 + 40)].reduce(0, +) / 40
            }
            accumulator.add(logits: logits, of: batch)
        }
        let starts: [[Int]] = [Array(stride(from: 0, through: 250, by: 25)) + [261], [0, 25, 50, 61], [0],
                               Array(stride(from: 0, through: 250, by: 25)) + [261]]
        for (clip, clipStarts) in starts.enumerated() {
            // cellValue(band 0, frame f) = id·100000 + f + 1: a window's band-0 mean is id·100000 + start + 20.5.
            let expected = clipStarts.map { Double(ids[clip] * 100_000 + $0) + 20.5 }.reduce(0, +) / Double(clipStarts.count)
            #expect(accumulator.clipLogits.windows[clip] == clipStarts.count)
            #expect(abs(accumulator.clipLogits.mean(of: clip)[0] - expected) <= 1e-6 * expected)
        }
        #expect(accumulator.result().windows == starts.map(\.count).reduce(0, +))
    }
}

@Suite struct SupportInReportsTests {
    @Test func everyPerClassScoreShowsItsSupport() throws {
        let classes = ["blues", "classical", "country"]
        let clips = ConfusionMatrix(classes: classes, truth: [0, 0, 0, 1, 1, 2, 2, 2, 2],
                                    predicted: [0, 1, 0, 1, 1, 2, 2, 2, 1])
        var result = EvaluationResult(clipConfusion: clips, windowConfusion: clips, info: ["split": "test"])
        result.windowFrames = 128
        result.windowHop = 64
        #expect(result.perClass.map(\.support) == [3, 2, 4])

        // The text summary: a support column, and the window hop.
        let table = result.table
        #expect(table.contains("(128 frames every 64)"))
        let header = try #require(table.split(separator: "\n").first { $0.hasPrefix("class ") })
        #expect(header.hasSuffix("support"))
        for (name, support) in zip(classes, [3, 2, 4]) {
            let row = try #require(table.split(separator: "\n").last { $0.hasPrefix(name + " ") })
            #expect(row.hasSuffix(" \(support)"), "\(row)")
        }

        // metrics.json: every per_class entry has its support; the windows are described.
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.jsonText.utf8)) as? [String: Any])
        let perClass = try #require(object["per_class"] as? [[String: Any]])
        #expect(perClass.map { $0["support"] as? Int } == [3, 2, 4])
        #expect(object["window_hop"] as? Int == 64 && object["window_frames"] as? Int == 128)
        #expect(try JSONDecoder().decode(EvaluationResult.self, from: Data(result.jsonText.utf8)) == result)

        // The HTML report: the table's support column, the bar labels and the heatmap's row labels.
        let html = HTMLReport(title: "t", result: result).html
        #expect(html.contains("<th>support (clips)</th>"))
        for (name, support) in zip(classes, [3, 2, 4]) {
            #expect(html.contains("<td>\(name)</td>"))
            #expect(html.contains(">\(name) (n=\(support))</text>"))
            #expect(html.components(separatedBy: ">\(name) (n=\(support))</text>").count - 1 == 2)  // heatmap + bars
            #expect(html.contains("\(name) (n=\(support)) F1:"))
        }
        #expect(html.contains("windows of 128 frames, hop 64"))
    }
}
