import Foundation
import Training

/// `report.html` of a cross-validation: a self-contained page (inline CSS and SVG, nothing loaded from elsewhere;
/// all text HTML-escaped) with the folds table, mean ± sd of accuracy and macro-F1, per-class F1 with support, and
/// the confusion matrix summed over the folds (Training's heatmap).
public struct CrossValidationReport: Sendable {
    public var summary: CrossValidationSummary
    public var title: String

    public init(summary: CrossValidationSummary, title: String = "GenreKit cross-validation") {
        self.summary = summary
        self.title = title
    }

    /// The page.
    public var html: String {
        let s = summary
        var page = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(title))</title>
            <style>
            \(HTMLReport.style)
            </style>
            </head>
            <body>
            <h1>\(escape(title))</h1>

            """
        let missing = s.missing.isEmpty ? "" : " Missing folds: \(s.missing.map(String.init).joined(separator: ", "))."
        page += "<p class=\"note\">\(s.completed.count) of \(s.foldCount) folds (stratified, seed \(s.pipeline.split.seed)); "
            + "each fold tested once, the next fold validating. Corpus: \(escape(s.corpus)).\(escape(missing))</p>\n"

        page += "<h2>Summary</h2>\n<table>\n<tr><th></th><th>mean ± sd over folds</th><th>pooled (summed matrix)</th></tr>\n"
        page += "<tr><th>accuracy</th><td class=\"num\">\(stat(s.accuracy))</td><td class=\"num\">\(fixed(s.pooledAccuracy))</td></tr>\n"
        page += "<tr><th>window accuracy</th><td class=\"num\">\(stat(s.windowAccuracy))</td><td></td></tr>\n"
        page += "<tr><th>macro-F1</th><td class=\"num\">\(stat(s.macroF1))</td><td class=\"num\">\(fixed(s.pooledMacroF1))</td></tr>\n"
        page += "</table>\n"

        page += "<h2>Folds</h2>\n<table>\n<tr><th>fold</th><th>test clips</th><th>accuracy</th><th>window accuracy</th>"
            + "<th>macro-F1</th><th>best epoch</th><th>seconds</th></tr>\n"
        for r in s.folds {
            page += "<tr><td class=\"num\">\(r.fold)</td><td class=\"num\">\(r.clips)</td><td class=\"num\">\(fixed(r.accuracy))</td>"
                + "<td class=\"num\">\(fixed(r.windowAccuracy))</td><td class=\"num\">\(fixed(r.macroF1))</td>"
                + "<td class=\"num\">\(r.bestEpoch)</td><td class=\"num\">\(String(format: "%.1f", r.seconds.total))</td></tr>\n"
        }
        page += "</table>\n"

        page += "<h2>Per class</h2>\n<table>\n<tr><th>class</th><th>F1 mean ± sd</th><th>support</th>"
        page += s.folds.map { "<th>F1 fold \($0.fold)</th>" }.joined() + "</tr>\n"
        for c in s.perClass {
            page += "<tr><td>\(escape(c.name))</td><td class=\"num\">\(stat(c.f1))</td><td class=\"num\">\(c.support)</td>"
            page += c.f1PerFold.map { "<td class=\"num\">\($0.map(fixed) ?? "")</td>" }.joined() + "</tr>\n"
        }
        page += "</table>\n"

        let normalised = s.confusion.map { row in
            let total = row.reduce(0, +)
            return row.map { total > 0 ? Double($0) / Double(total) : 0 }
        }
        page += "<h2>Confusion matrix, summed over the folds</h2>\n<p class=\"note\">Rows are true classes, columns "
            + "predicted classes; every clip counted once, in the fold that tested it. The colour is the fraction of "
            + "the row, the number the count of clips.</p>\n"
        page += SVGChart.confusionHeatmap(classes: s.classes, counts: s.confusion, normalised: normalised) + "\n"
        page += "<footer>GenreKit cross-validation report</footer>\n</body>\n</html>\n"
        return page
    }

    private func fixed(_ value: Double) -> String { String(format: "%.4f", value) }

    private func stat(_ s: FoldStatistic) -> String {
        fixed(s.mean) + " ± " + (s.standardDeviation.map(fixed) ?? "n/a") + " (n = \(s.count))"
    }

    private func escape(_ text: String) -> String { escapeHTML(text) }
}
