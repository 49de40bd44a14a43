import Foundation
import Testing

@testable import Training

@Suite struct MetricsTests {
    let classes = ["blues", "classical", "country", "disco"]

    /// Numbers from the reference trainer's numpy `metrics()` on the same labels (and by hand: precision of
    /// "classical" = 2 / 4 predictions, recall of "country" = 3 / 4 clips...).
    @Test func perClassMetricsAndMacroF1MatchTheReference() {
        let matrix = ConfusionMatrix(classes: classes, truth: [0, 0, 0, 1, 1, 2, 2, 2, 2],
                                     predicted: [0, 1, 0, 1, 1, 2, 2, 2, 1])
        #expect(matrix.counts == [[2, 1, 0, 0], [0, 2, 0, 0], [0, 1, 3, 0], [0, 0, 0, 0]])
        #expect(matrix.total == 9 && matrix.correct == 7)
        #expect(abs(matrix.accuracy - 0.7777777777777778) < 1e-12)
        let m = matrix.perClass
        let precision = [1.0, 0.5, 1.0, 0.0], recall = [0.6666666666666666, 1.0, 0.75, 0.0]
        let f1 = [0.8, 0.6666666666666666, 0.8571428571428571, 0.0]
        for c in 0..<4 {
            #expect(abs(m[c].precision - precision[c]) < 1e-12)
            #expect(abs(m[c].recall - recall[c]) < 1e-12)
            #expect(abs(m[c].f1 - f1[c]) < 1e-12)
        }
        #expect(m.map(\.support) == [3, 2, 4, 0])
        // "disco" is in neither the truth nor the predictions: the mean is over the other three.
        #expect(abs(matrix.macroF1 - 0.7746031746031746) < 1e-12)
        let rows = matrix.rowNormalised
        #expect(abs(rows[2][1] - 0.25) < 1e-12 && abs(rows[2][2] - 0.75) < 1e-12)
        #expect(rows[3] == [0, 0, 0, 0])
    }

    @Test func aClassOnlyPredictedCountsInMacroF1() {
        let matrix = ConfusionMatrix(classes: classes, truth: [0, 0, 1, 1], predicted: [0, 3, 1, 1])
        #expect(abs(matrix.macroF1 - 0.5555555555555556) < 1e-12)  // (2/3 + 1 + 0) / 3
        #expect(abs(matrix.accuracy - 0.75) < 1e-12)
        #expect(ConfusionMatrix(classes: classes).macroF1 == 0)
        #expect(ConfusionMatrix(classes: classes).accuracy == 0)
    }

    /// Clip predictions come from the mean of the window logits, not from a vote of the windows.
    @Test func clipLevelAccuracyAveragesWindowLogits() {
        var accumulator = EvaluationAccumulator(classes: ["a", "b"], clipLabels: [1, 0])
        // Clip 0 (true b): windows predict b, a, a; mean logits (0.25, 0.4) → b.
        accumulator.add(logits: [0.1, 0.9, 0.3, 0.2], clips: [0, 0])
        accumulator.add(logits: [0.35, 0.1, 2.0, 0.0], clips: [0, 1])
        // Clip 1 (true a): its only window predicts a.
        let result = accumulator.result(info: ["split": "test"])
        #expect(accumulator.clipLogits.windows == [3, 1])
        let mean = accumulator.clipLogits.mean(of: 0)
        #expect(abs(mean[0] - 0.25) < 1e-7 && abs(mean[1] - 0.4) < 1e-7)
        #expect(result.accuracy == 1)
        #expect(result.windowAccuracy == 0.5)  // 2 of 4 windows right
        #expect(result.clips == 2 && result.windows == 4)
        #expect(result.confusion == [[1, 0], [0, 1]])
        #expect(result.info["split"] == "test")
        #expect(argmax([Float(1), 3, 3, 2]) == 1)  // first maximum, as numpy
    }

    func sampleResult() -> EvaluationResult {
        let clips = ConfusionMatrix(classes: classes, truth: [0, 0, 0, 1, 1, 2, 2, 2, 2],
                                    predicted: [0, 1, 0, 1, 1, 2, 2, 2, 1])
        let windows = ConfusionMatrix(classes: classes, truth: [0, 0, 1, 1], predicted: [0, 1, 1, 1])
        return EvaluationResult(clipConfusion: clips, windowConfusion: windows, info: ["checkpoint": "best.ckpt"])
    }

    @Test func metricsJSONHasTheDocumentedKeys() throws {
        let directory = try TemporaryDirectory()
        let result = sampleResult()
        try result.write(to: directory.file("eval"))
        let data = try Data(contentsOf: URL(fileURLWithPath: directory.file("eval/metrics.json")))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        for key in ["classes", "accuracy", "window_accuracy", "macro_f1", "per_class", "confusion",
                    "confusion_normalised", "clips", "windows"] {
            #expect(object[key] != nil, "metrics.json lacks \(key)")
        }
        #expect(object["classes"] as? [String] == classes)
        #expect(abs((object["accuracy"] as? Double ?? 0) - 7.0 / 9) < 1e-9)
        #expect(abs((object["window_accuracy"] as? Double ?? 0) - 0.75) < 1e-9)
        let perClass = try #require(object["per_class"] as? [[String: Any]])
        #expect(perClass.count == 4)
        #expect(perClass[2]["class"] as? String == "country")
        #expect(Set(perClass[2].keys) == ["class", "precision", "recall", "f1", "support"])
        #expect(perClass[2]["support"] as? Int == 4)
        let confusion = try #require(object["confusion"] as? [[Int]])
        #expect(confusion[2] == [0, 1, 3, 0])
        // It reads back equal.
        #expect(try EvaluationResult.read(from: directory.file("eval/metrics.json")) == result)
    }

    @Test func csvFilesHaveClassNamesAndCounts() throws {
        let directory = try TemporaryDirectory()
        var result = sampleResult()
        result.classes[3] = "rock, roll"  // needs quoting
        result.perClass[3].name = "rock, roll"
        try result.write(to: directory.path)
        let confusion = try String(contentsOfFile: directory.file("confusion.csv"), encoding: .utf8)
        let lines = confusion.split(separator: "\n").map(String.init)
        #expect(lines.count == 5)
        #expect(lines[0] == "true\\predicted,blues,classical,country,\"rock, roll\"")
        #expect(lines[3] == "country,0,1,3,0")
        #expect(lines[4] == "\"rock, roll\",0,0,0,0")
        let perClass = try String(contentsOfFile: directory.file("per_class.csv"), encoding: .utf8)
            .split(separator: "\n").map(String.init)
        #expect(perClass[0] == "class,precision,recall,f1,support")
        #expect(perClass[1] == "blues,1.000000,0.666667,0.800000,3")
        #expect(perClass.count == 5)
    }

    @Test func theTableIsAlignedAndNamesTheClasses() {
        var result = sampleResult()
        result.classes = ["blues", "classical", "country", "hiphop"]
        let table = result.table
        for name in result.classes { #expect(table.contains(name)) }
        #expect(table.contains("accuracy 0.7778"))
        #expect(table.contains("macro-F1 0.7746"))
        let lines = table.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        // The two matrices: header + 4 rows each, all of one width.
        for title in ["confusion (counts", "confusion (% of"] {
            let start = lines.firstIndex { $0.hasPrefix(title) }!
            let block = lines[(start + 1)...(start + 5)]
            #expect(Set(block.map(\.count)).count == 1, "\(block)")
        }
        #expect(table.contains(" 75.0"))  // country → country, row percentage
        // Columns are abbreviated class names ("class" and "count" stay distinct) and lines stay short.
        #expect(lines.allSatisfy { $0.count <= 100 })
        // Ten classes of up to 10 characters still fit a terminal.
        let ten = (0..<10).map { "genre\($0)abcd" }
        let wide = EvaluationResult(
            clipConfusion: ConfusionMatrix(classes: ten, truth: Array(0..<10), predicted: Array(0..<10)),
            windowConfusion: ConfusionMatrix(classes: ten))
        #expect(wide.table.split(separator: "\n").allSatisfy { $0.count <= 100 })
        #expect(wide.table.contains("#9"))  // cut names would collide: columns are numbered
    }
}
