import Foundation
import Testing

@testable import Training

@Suite struct PNGEncoderTests {
    @Test func indexedImagesDecodeBackToTheirPixels() throws {
        let width = 300, height = 230  // > 65535 bytes of image data
        let indices = (0..<(width * height)).map { UInt8(($0 * 7 + $0 / width) % 256) }
        let palette = ColorMap.viridis.palette
        let png = PNGEncoder.indexed(width: width, height: height, indices: indices, palette: palette)
        let chunks = try #require(pngChunks(png))
        #expect(chunks.map(\.type) == ["IHDR", "PLTE", "IDAT", "IEND"])
        #expect(chunks.allSatisfy { $0.crcMatches })
        let header = chunks[0].data
        #expect(bigEndian(header[0..<4]) == UInt32(width) && bigEndian(header[4..<8]) == UInt32(height))
        #expect(Array(header[8...]) == [8, 3, 0, 0, 0])
        #expect(chunks[1].data.count == 256 * 3)
        #expect(Array(chunks[1].data[0..<3]) == [palette[0].red, palette[0].green, palette[0].blue])
        let raw = try #require(inflateImageData(chunks))
        #expect(raw.count == height * (width + 1))
        for row in 0..<height {
            #expect(raw[row * (width + 1)] == 0)  // filter type none
            #expect(Array(raw[(row * (width + 1) + 1)..<((row + 1) * (width + 1))])
                    == Array(indices[(row * width)..<((row + 1) * width)]))
        }
    }

    @Test func rgbImagesAndChecksums() throws {
        let pixels: [UInt8] = [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255]
        let png = PNGEncoder.rgb(width: 2, height: 2, pixels: pixels)
        let chunks = try #require(pngChunks(png))
        #expect(chunks.allSatisfy { $0.crcMatches })
        #expect(Array(chunks[0].data[8...]) == [8, 2, 0, 0, 0])
        #expect(try #require(inflateImageData(chunks)) == [0, 255, 0, 0, 0, 255, 0, 0, 0, 0, 255, 255, 255, 255])
        // Known check values.
        #expect(PNGEncoder.crc32(Array("123456789".utf8)) == 0xCBF4_3926)
        let long = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        #expect(PNGEncoder.crc32(long) == bitwiseCRC32(long))
    }

    @Test func spectrogramPicturesPutLowBandsAtTheBottom() throws {
        // 4 bands x 6 frames: band b has value b everywhere, so rows go bright (top) to dark (bottom).
        let values = (0..<24).map { Float($0 / 6) }
        let png = SpectrogramPicture.png(values: values, nMels: 4, frames: 6, maxWidth: 3)
        let chunks = try #require(pngChunks(png))
        #expect(bigEndian(chunks[0].data[0..<4]) == 3 && bigEndian(chunks[0].data[4..<8]) == 4)
        let raw = try #require(inflateImageData(chunks))
        let rows = (0..<4).map { Array(raw[($0 * 4 + 1)..<($0 * 4 + 4)]) }
        #expect(rows == [[255, 255, 255], [170, 170, 170], [85, 85, 85], [0, 0, 0]])
        let db = SpectrogramPicture.decibels(normalised: [1, 2, -1, 0], mean: [-10, -20], std: [2, 4], frames: 2)
        #expect(db == [-8, -6, -24, -20])
    }
}

@Suite struct ReportTests {
    func sampleResult(classes: [String]) -> EvaluationResult {
        let n = classes.count
        let truth = (0..<(3 * n)).map { $0 % n }
        let predicted = truth.enumerated().map { $0.offset % 4 == 0 ? ($0.element + 1) % n : $0.element }
        return EvaluationResult(
            clipConfusion: ConfusionMatrix(classes: classes, truth: truth, predicted: predicted),
            windowConfusion: ConfusionMatrix(classes: classes, truth: truth, predicted: predicted),
            info: ["split": "test"])
    }

    @Test func theReportIsSelfContainedAndEscaped() throws {
        let classes = ["blues", "classical", "r&b <x>", "rock"]
        let history = (1...6).map {
            EpochRecord(epoch: $0, trainLoss: 2 / Double($0), trainAccuracy: 0.1 * Double($0),
                        validAccuracy: 0.09 * Double($0), seconds: 3.5, samplesPerSecond: 120)
        }
        let examples = classes.map { name in
            SpectrogramExample(className: name, path: "\(name)/clip.wav", nMels: 16, frames: 40,
                               decibels: (0..<640).map { Float(-($0 % 40)) * 2 })
        }
        let report = HTMLReport(title: "Genre model <v1>", result: sampleResult(classes: classes),
                                runInfo: [ReportField("checkpoint", "runs/a/best.ckpt"), ReportField("seed", "0")],
                                history: history, examples: examples)
        let html = report.html
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        for name in ["blues", "classical", "rock", "r&amp;b &lt;x&gt;"] { #expect(html.contains(name)) }
        #expect(!html.contains("<x>"))
        #expect(html.contains("Genre model &lt;v1&gt;"))
        #expect(html.contains("runs/a/best.ckpt"))
        #expect(html.contains("<svg"))
        #expect(html.components(separatedBy: "<svg").count - 1 == 4)  // heatmap, bars, loss, accuracy
        #expect(html.contains("<polyline"))
        #expect(html.components(separatedBy: "data:image/png;base64,").count - 1 == 4)
        #expect(!html.lowercased().contains("http"))
        #expect(!html.contains("<script"))
        #expect(!html.contains("<link"))
        // Every picture decodes.
        for part in html.components(separatedBy: "data:image/png;base64,").dropFirst() {
            let encoded = String(part.prefix { $0 != "\"" })
            let png = try #require(Data(base64Encoded: encoded))
            let chunks = try #require(pngChunks([UInt8](png)))
            #expect(chunks.allSatisfy { $0.crcMatches })
            #expect(inflateImageData(chunks) != nil)
        }
        let directory = try TemporaryDirectory()
        try report.write(to: directory.file("report.html"))
        #expect(try String(contentsOfFile: directory.file("report.html"), encoding: .utf8) == html)
    }

    @Test func aReportWithoutHistoryOrExamplesSaysSo() {
        let html = HTMLReport(title: "t", result: sampleResult(classes: ["a", "b"])).html
        #expect(html.contains("No training log"))
        #expect(html.contains("No examples"))
        #expect(html.contains("<svg"))
    }

    @Test func chartsSurviveOddData() {
        let one = [EpochRecord(epoch: 1, trainLoss: 1e30, trainAccuracy: nil, validAccuracy: 0.5)]
        let html = HTMLReport(title: "odd", result: sampleResult(classes: ["a"]), history: one).html
        #expect(html.components(separatedBy: "<svg").count - 1 == 4)
        let flat = SVGChart.lineChart(title: "flat", xLabel: "x", yLabel: "y",
                                      series: [ChartSeries(name: "s", color: "#000000",
                                                           points: [(1, 2), (2, 2), (3, .nan), (4, .infinity)])])
        #expect(flat.contains("<polyline points=") && flat.hasSuffix("</svg>"))
        #expect(SVGChart.lineChart(title: "none", xLabel: "x", yLabel: "y", series: []).contains("no data"))
        let huge = SVGChart.lineChart(title: "huge", xLabel: "x", yLabel: "y",
                                      series: [ChartSeries(name: "s", color: "#000000",
                                                           points: [(1, -1e308), (2, 1e308)])])
        #expect(huge.hasSuffix("</svg>"))
    }

    @Test func reportOfPipelineShardsWithExamples() throws {
        let dataset = try ShardDataset(directory: try PipelineFixture.folder())
        let examples = try dataset.spectrogramExamples(split: "test", perClass: 1)
        #expect(examples.count == 10)
        #expect(examples.map(\.className) == dataset.classes)
        for example in examples {
            #expect(example.path.hasPrefix(example.className + "/"))
            let top = example.decibels.max()!
            #expect(top > -100 && top < 100)  // dB, not normalised values
        }
        let html = HTMLReport(title: "synthetic", result: sampleResult(classes: dataset.classes), examples: examples)
            .html
        #expect(html.components(separatedBy: "data:image/png;base64,").count - 1 == 10)
    }

    @Test func theTrainingLogIsReadTolerantly() throws {
        let text = """
            {"epoch": 1, "train_loss": 2.1, "train_accuracy": 0.2, "valid_accuracy": 0.25, "seconds": 4, "samples_per_second": 100.5}
            {"event": "resumed"}

            {"epoch": 2, "train_loss": 1.5, "valid_accuracy": 0.5, "extra": [1, 2]}
            {"epoch": 1, "train_loss": 2.0, "train_accuracy": 0.3, "valid_accuracy": 0.3}
            {"epoch": 3, "train_lo
            """
        let records = try TrainingLog.parse(text, path: "run/log.jsonl")
        #expect(records.map(\.epoch) == [1, 2])
        #expect(records[0] == EpochRecord(epoch: 1, trainLoss: 2.0, trainAccuracy: 0.3, validAccuracy: 0.3))
        #expect(records[1].trainLoss == 1.5 && records[1].trainAccuracy == nil && records[1].validAccuracy == 0.5)
        let broken = "{\"epoch\": 1}\nnot json\n{\"epoch\": 2}\n"
        #expect(throws: TrainingError.invalidLog(path: "run/log.jsonl", line: 2, reason: "not valid JSON")) {
            try TrainingLog.parse(broken, path: "run/log.jsonl")
        }
        #expect(throws: TrainingError.self) { try TrainingLog.parse("[1, 2]\n") }
        let directory = try TemporaryDirectory()
        try text.write(toFile: directory.file("log.jsonl"), atomically: true, encoding: .utf8)
        #expect(try TrainingLog.read(path: directory.file("log.jsonl")) == records)
        #expect(throws: TrainingError.self) { try TrainingLog.read(path: directory.file("missing.jsonl")) }
    }
}
