import Foundation
import Testing
import TestSupport
import Training

@testable import CrossValidation

/// ``CrossValidationSummary/aggregate(folds:foldCount:corpus:pipeline:training:)`` against values computed by hand.
@Suite struct AggregationTests {
    static func fold(
        _ k: Int, accuracy: Double, macroF1: Double, f1: [Double], support: [Int], confusion: [[Int]], seconds: Double = 1
    ) -> FoldResult {
        let classes = ["a", "b"]
        let perClass = classes.indices.map {
            ClassMetrics(name: classes[$0], precision: 0, recall: 0, f1: f1[$0], support: support[$0])
        }
        return FoldResult(
            fold: k, classes: classes, accuracy: accuracy, windowAccuracy: accuracy / 2, macroF1: macroF1,
            perClass: perClass, confusion: confusion, clips: support.reduce(0, +), bestEpoch: k + 1,
            seconds: FoldSeconds(preprocess: seconds, train: 2 * seconds, evaluate: 0))
    }

    /// Three folds; class a has no test clip in fold 2, so its F1 there does not count.
    static let folds = [
        fold(2, accuracy: 0.7, macroF1: 0.9, f1: [1.0, 0.8], support: [0, 5], confusion: [[0, 0], [1, 4]]),
        fold(0, accuracy: 0.8, macroF1: 0.7, f1: [0.6, 0.8], support: [4, 6], confusion: [[3, 1], [1, 5]]),
        fold(1, accuracy: 0.6, macroF1: 0.5, f1: [0.4, 0.6], support: [4, 6], confusion: [[2, 2], [2, 4]]),
    ]

    @Test func meansSampleDeviationsAndTheSummedMatrix() throws {
        let s = try CrossValidationSummary.aggregate(folds: Self.folds, foldCount: 3)
        #expect(s.completed == [0, 1, 2] && s.missing.isEmpty && s.folds.map(\.fold) == [0, 1, 2])
        #expect(s.classes == ["a", "b"])
        // accuracy 0.8, 0.6, 0.7: mean 0.7, sd sqrt((0.01 + 0.01 + 0) / 2) = 0.1
        #expect(abs(s.accuracy.mean - 0.7) < 1e-12)
        #expect(abs(s.accuracy.standardDeviation! - 0.1) < 1e-12)
        #expect(s.accuracy.count == 3)
        #expect(abs(s.windowAccuracy.mean - 0.35) < 1e-12 && abs(s.windowAccuracy.standardDeviation! - 0.05) < 1e-12)
        // macro-F1 0.7, 0.5, 0.9: mean 0.7, sd sqrt((0 + 0.04 + 0.04) / 2) = 0.2
        #expect(abs(s.macroF1.mean - 0.7) < 1e-12)
        #expect(abs(s.macroF1.standardDeviation! - 0.2) < 1e-12)
        // class a: folds 0 and 1 only (0.6, 0.4): mean 0.5, sd sqrt(0.02 / 1); support 4 + 4 + 0
        let a = s.perClass[0], b = s.perClass[1]
        #expect(a.name == "a" && a.support == 8 && a.f1.count == 2)
        #expect(abs(a.f1.mean - 0.5) < 1e-12 && abs(a.f1.standardDeviation! - 0.02.squareRoot()) < 1e-12)
        #expect(a.f1PerFold == [0.6, 0.4, nil])
        // class b: 0.8, 0.6, 0.8: mean 2.2 / 3, sd sqrt((2 * (1/15)^2 + (2/15)^2) / 2) = sqrt(1/75)
        #expect(b.support == 17 && b.f1.count == 3)
        #expect(abs(b.f1.mean - 2.2 / 3) < 1e-12 && abs(b.f1.standardDeviation! - (1.0 / 75).squareRoot()) < 1e-12)
        // Summed confusion [[5, 3], [4, 13]]: pooled accuracy 18/25; F1 a = 10/17, b = 26/33.
        #expect(s.confusion == [[5, 3], [4, 13]])
        #expect(abs(s.pooledAccuracy - 18.0 / 25) < 1e-12)
        #expect(abs(s.pooledMacroF1 - (10.0 / 17 + 26.0 / 33) / 2) < 1e-12)
        #expect(abs(s.seconds - 9) < 1e-12)
    }

    @Test func missingFoldsAndASingleFold() throws {
        let s = try CrossValidationSummary.aggregate(folds: Array(Self.folds.prefix(2)), foldCount: 5)
        #expect(s.completed == [0, 2] && s.missing == [1, 3, 4] && s.foldCount == 5)
        let one = try CrossValidationSummary.aggregate(folds: [Self.folds[1]], foldCount: 3)
        #expect(one.accuracy == FoldStatistic(mean: 0.8, standardDeviation: nil, count: 1))
        #expect(one.confusion == [[3, 1], [1, 5]])
    }

    @Test func summaryJSONRoundTripsWithSnakeCaseKeys() throws {
        let s = try CrossValidationSummary.aggregate(folds: Self.folds, foldCount: 4, corpus: "/corpus")
        let text = s.jsonText
        for key in ["\"fold_count\" : 4", "\"macro_f1\"", "\"per_class\"", "\"sd\"", "\"f1_per_fold\"", "\"pooled_accuracy\"",
                    "\"missing\" : [\n    3\n  ]", "\"pipeline\"", "\"training\"", "\"total\" : 3"] {
            #expect(text.contains(key), "\(key)")
        }
        let back = try JSONDecoder().decode(CrossValidationSummary.self, from: Data(text.utf8))
        #expect(back == s)
        let one = try CrossValidationSummary.aggregate(folds: [Self.folds[0]], foldCount: 3)
        #expect(one.jsonText.contains("\"sd\" : null"))
        #expect(try JSONDecoder().decode(CrossValidationSummary.self, from: Data(one.jsonText.utf8)) == one)
    }

    @Test func reportIsSelfContained() throws {
        var folds = Self.folds
        folds[0].classes = ["a", "<b>"]
        folds[1].classes = ["a", "<b>"]
        folds[2].classes = ["a", "<b>"]
        let s = try CrossValidationSummary.aggregate(folds: folds, foldCount: 3)
        let html = CrossValidationReport(summary: s).html
        #expect(html.hasPrefix("<!DOCTYPE html>") && html.contains("<svg"))
        #expect(html.contains("&lt;b&gt;") && !html.contains("<b>"))
        #expect(html.contains("0.7000 ± 0.1000 (n = 3)"))
        #expect(!html.contains("http://") && !html.contains("https://") && !html.contains("src="))
    }

    @Test func badInputIsRefused() {
        #expect(throws: CrossValidationError.self) { try CrossValidationSummary.aggregate(folds: [], foldCount: 3) }
        #expect(throws: CrossValidationError.self) {
            try CrossValidationSummary.aggregate(folds: [Self.folds[0], Self.folds[0]], foldCount: 3)
        }
        #expect(throws: CrossValidationError.self) { try CrossValidationSummary.aggregate(folds: Self.folds, foldCount: 2) }
        var other = Self.folds[1]
        other.classes = ["a", "c"]
        #expect(throws: CrossValidationError.self) {
            try CrossValidationSummary.aggregate(folds: [Self.folds[0], other], foldCount: 3)
        }
    }
}
