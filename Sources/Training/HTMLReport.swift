import Foundation

/// A name and a value shown in the report's run information table.
public struct ReportField: Sendable, Equatable {
    /// The label (left column).
    public var name: String
    /// The value (right column), shown as text.
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// One example spectrogram for the report: a clip's features in dB.
public struct SpectrogramExample: Sendable {
    /// The clip's class name.
    public var className: String
    /// The clip's source path (relative to the corpus root).
    public var path: String
    /// Mel bands.
    public var nMels: Int
    /// Frames.
    public var frames: Int
    /// `[nMels, frames]` row-major, in dB.
    public var decibels: [Float]

    public init(className: String, path: String, nMels: Int, frames: Int, decibels: [Float]) {
        self.className = className
        self.path = path
        self.nMels = nMels
        self.frames = frames
        self.decibels = decibels
    }
}

extension ShardDataset {
    /// The first `perClass` clips of each class in split `split` (in storage order), un-normalised back to dB, in
    /// class order: pictures for the report.
    public func spectrogramExamples(split name: String, perClass: Int = 1) throws(TrainingError)
        -> [SpectrogramExample]
    {
        let index = try split(name)
        var chosen: [Int] = []
        for c in classes.indices {
            chosen += index.labels.indices.lazy.filter { Int(index.labels[$0]) == c }.prefix(max(0, perClass))
        }
        var readers = OpenShards(dataset: self, split: index, capacity: 2)
        var buffer = [Float](repeating: 0, count: clipElements)
        var examples: [SpectrogramExample] = []
        for clip in chosen {
            try buffer.withUnsafeMutableBufferPointer { (buffer) throws(TrainingError) in
                try readers.read(clip: clip, into: buffer)
            }
            let db = SpectrogramPicture.decibels(normalised: buffer, mean: normMean, std: normStd, frames: frames)
            examples.append(SpectrogramExample(className: classes[Int(index.labels[clip])], path: index.paths[clip],
                                               nMels: nMels, frames: frames, decibels: db))
        }
        return examples
    }
}

/// A self-contained HTML page about an evaluated model: summary figures, run information, the confusion matrix as a
/// heatmap, per-class precision/recall/F1 bars and table, training curves from the run's log, and example
/// spectrograms. Everything is inline (CSS, SVG, PNG pictures as `data:` URIs): the page loads nothing from a
/// network or from other files. All text is HTML-escaped.
public struct HTMLReport: Sendable {
    /// The page title.
    public var title: String
    /// The evaluation shown.
    public var result: EvaluationResult
    /// Facts about the run (checkpoint, epochs, seed...), shown in this order after the result's own `info`.
    public var runInfo: [ReportField]
    /// The run's epochs (`TrainingLog.read(path:)`); the curves section says when there are none.
    public var history: [EpochRecord]
    /// Example spectrograms (`ShardDataset.spectrogramExamples(split:perClass:)`).
    public var examples: [SpectrogramExample]
    /// dB range shown by the pictures below each picture's maximum (80 dB, like `top_db`).
    public var dynamicRange: Float = 80
    /// Width limit of the pictures in pixels (columns are averaged down to it).
    public var pictureWidth: Int = 512

    public init(
        title: String, result: EvaluationResult, runInfo: [ReportField] = [], history: [EpochRecord] = [],
        examples: [SpectrogramExample] = []
    ) {
        self.title = title
        self.result = result
        self.runInfo = runInfo
        self.history = history
        self.examples = examples
    }

    /// The page.
    public var html: String {
        var page = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escapeHTML(title))</title>
            <style>
            \(Self.style)
            </style>
            </head>
            <body>
            <h1>\(escapeHTML(title))</h1>

            """
        page += summarySection + confusionSection + perClassSection + curvesSection + examplesSection
        page += "<footer>GenreKit evaluation report</footer>\n</body>\n</html>\n"
        return page
    }

    /// Writes the page to `path` atomically.
    public func write(to path: String) throws(TrainingError) {
        try writeText(html, to: path)
    }

    /// The stylesheet of GenreKit's HTML reports (this one and the cross-validation report), for a `<style>` element.
    public static let style = """
        body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 24px auto;
               max-width: 1100px; padding: 0 16px; color: #222; background: #fff; }
        h1 { font-size: 24px; margin-bottom: 8px; }
        h2 { font-size: 18px; margin-top: 32px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
        .cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0; }
        .card { border: 1px solid #ddd; border-radius: 6px; padding: 10px 16px; min-width: 130px; background: #fafafa; }
        .card .value { font-size: 26px; font-weight: 600; }
        .card .label { font-size: 12px; color: #666; }
        table { border-collapse: collapse; font-size: 13px; margin: 8px 0; }
        th, td { border: 1px solid #ddd; padding: 3px 8px; }
        th { background: #f3f3f3; text-align: left; }
        td.num { text-align: right; font-variant-numeric: tabular-nums; }
        .charts { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
        svg.chart { background: #fff; max-width: 100%; height: auto; }
        .examples { display: grid; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); gap: 14px; }
        figure { margin: 0; }
        figure img { width: 100%; height: 128px; image-rendering: pixelated; border: 1px solid #ccc; }
        figcaption { font-size: 12px; color: #444; overflow-wrap: anywhere; }
        .note { color: #666; font-size: 13px; }
        footer { margin-top: 40px; font-size: 12px; color: #888; }
        """

    private var summarySection: String {
        func card(_ value: String, _ label: String) -> String {
            "<div class=\"card\"><div class=\"value\">\(escapeHTML(value))</div>"
                + "<div class=\"label\">\(escapeHTML(label))</div></div>\n"
        }
        var html = "<div class=\"cards\">\n"
        html += card(fixed(result.accuracy * 100, 1) + "%", "clip accuracy")
        html += card(fixed(result.windowAccuracy * 100, 1) + "%", "window accuracy")
        html += card(fixed(result.macroF1, 3), "macro-F1")
        html += card(String(result.clips), (result.info["split"] ?? "test") + " clips")
        html += card(String(result.windows), result.windowFrames.map { frames in
            "windows of \(frames) frames, hop \(result.windowHop.map(String.init) ?? "?")"
        } ?? "windows")
        html += "</div>\n"
        let fields = result.info.keys.sorted().map { ReportField($0, result.info[$0]!) } + runInfo
        if !fields.isEmpty {
            html += "<h2>Run</h2>\n<table>\n"
            for field in fields {
                html += "<tr><th>\(escapeHTML(field.name))</th><td>\(escapeHTML(field.value))</td></tr>\n"
            }
            html += "</table>\n"
        }
        return html
    }

    private var confusionSection: String {
        "<h2>Confusion matrix</h2>\n<p class=\"note\">Rows are true classes, columns predicted classes; the colour "
            + "is the fraction of the row, the number the count of clips.</p>\n"
            + SVGChart.confusionHeatmap(classes: result.classes, counts: result.confusion,
                                        normalised: result.confusionNormalised) + "\n"
    }

    private var perClassSection: String {
        var html = "<h2>Per class</h2>\n<div class=\"charts\">\n" + SVGChart.perClassBars(result.perClass) + "\n"
        html += "<table>\n<tr><th>class</th><th>precision</th><th>recall</th><th>F1</th><th>support (clips)</th></tr>\n"
        for m in result.perClass {
            html += "<tr><td>\(escapeHTML(m.name))</td><td class=\"num\">\(fixed(m.precision, 3))</td>"
                + "<td class=\"num\">\(fixed(m.recall, 3))</td><td class=\"num\">\(fixed(m.f1, 3))</td>"
                + "<td class=\"num\">\(m.support)</td></tr>\n"
        }
        html += "<tr><th>macro-F1</th><td></td><td></td><td class=\"num\">\(fixed(result.macroF1, 3))</td>"
            + "<td class=\"num\">\(result.clips)</td></tr>\n</table>\n</div>\n"
        return html
    }

    private var curvesSection: String {
        var html = "<h2>Training</h2>\n"
        guard !history.isEmpty else { return html + "<p class=\"note\">No training log.</p>\n" }
        func points(_ value: KeyPath<EpochRecord, Double?>) -> [(x: Double, y: Double)] {
            history.compactMap { record in record[keyPath: value].map { (Double(record.epoch), $0) } }
        }
        html += "<div class=\"charts\">\n"
        html += SVGChart.lineChart(
            title: "Training loss", xLabel: "epoch", yLabel: "loss",
            series: [ChartSeries(name: "train loss", color: "#c44e52", points: points(\.trainLoss))]) + "\n"
        html += SVGChart.lineChart(
            title: "Accuracy", xLabel: "epoch", yLabel: "accuracy",
            series: [ChartSeries(name: "train", color: "#4c72b0", points: points(\.trainAccuracy)),
                     ChartSeries(name: "valid", color: "#55a868", points: points(\.validAccuracy))],
            yRange: 0...1) + "\n"
        html += "</div>\n"
        let seconds = history.compactMap(\.seconds), rates = history.compactMap(\.samplesPerSecond)
        var facts = ["\(history.count) epochs"]
        if !seconds.isEmpty {
            facts.append("\(fixed(seconds.reduce(0, +), 1)) s in all, "
                         + "\(fixed(seconds.reduce(0, +) / Double(seconds.count), 2)) s per epoch")
        }
        if !rates.isEmpty { facts.append("\(fixed(rates.reduce(0, +) / Double(rates.count), 1)) samples/s") }
        if let best = history.filter({ $0.validAccuracy != nil }).max(by: { $0.validAccuracy! < $1.validAccuracy! }) {
            facts.append("best valid accuracy \(fixed(best.validAccuracy! * 100, 1))% at epoch \(best.epoch)")
        }
        html += "<p class=\"note\">\(escapeHTML(facts.joined(separator: "; ")))</p>\n"
        return html
    }

    private var examplesSection: String {
        var html = "<h2>Example spectrograms</h2>\n"
        guard !examples.isEmpty else { return html + "<p class=\"note\">No examples.</p>\n" }
        html += "<p class=\"note\">Log-mel spectrograms in dB (\(fixed(Double(dynamicRange), 0)) dB below each "
            + "clip's maximum to its maximum), low frequencies at the bottom, time to the right.</p>\n"
        html += "<div class=\"examples\">\n"
        for example in examples {
            let finite = example.decibels.filter(\.isFinite)
            let top = finite.max() ?? 0
            let png = SpectrogramPicture.png(
                values: example.decibels, nMels: example.nMels, frames: example.frames,
                range: (top - dynamicRange)...top, maxWidth: pictureWidth)
            html += "<figure><img alt=\"\(escapeHTML(example.className)) spectrogram\" "
                + "src=\"data:image/png;base64,\(Data(png).base64EncodedString())\">"
                + "<figcaption><b>\(escapeHTML(example.className))</b> \(escapeHTML(example.path))</figcaption>"
                + "</figure>\n"
        }
        return html + "</div>\n"
    }
}
