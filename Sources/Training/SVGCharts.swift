import Foundation

/// Text made safe for HTML and SVG content and attribute values (`&`, `<`, `>`, `"`, `'` escaped).
public func escapeHTML(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for character in text {
        switch character {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.append(character)
        }
    }
    return out
}

/// A named line of a line chart: `(x, y)` points in x order.
public struct ChartSeries: Sendable {
    /// The legend text.
    public var name: String
    /// The line colour, `#rrggbb`.
    public var color: String
    /// The points; non-finite ones are left out.
    public var points: [(x: Double, y: Double)]

    public init(name: String, color: String, points: [(x: Double, y: Double)]) {
        self.name = name
        self.color = color
        self.points = points
    }
}

/// Inline SVG charts for the HTML report (no `xmlns`, no external resources: they live inside an HTML page).
/// Sizes are in CSS pixels.
public enum SVGChart {
    /// Estimated width of `text` at the charts' 11 px sans-serif font.
    static func textWidth(_ text: String, fontSize: Double = 11) -> Double { Double(text.count) * fontSize * 0.62 }

    /// A number for an SVG attribute (at most 2 decimals).
    static func n(_ value: Double) -> String {
        guard value.isFinite, abs(value) < 1e12 else { return "0" }
        let rounded = (value * 100).rounded() / 100
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(format: "%.2f", rounded)
    }

    /// The confusion matrix as a heatmap: rows = true class, columns = predicted class, cell colour from the
    /// row-normalised value (white → dark blue), the count written in each cell, class names on both axes (each
    /// row's with its support, `name (n=clips)`).
    public static func confusionHeatmap(classes: [String], counts: [[Int]], normalised: [[Double]]) -> String {
        let count = classes.count
        let maxCountWidth = textWidth(String(counts.flatMap { $0 }.max() ?? 0))
        let cell = max(34, maxCountWidth + 12)
        // Row labels carry the row's support (its clips): "blues (n=12)".
        let rowLabels = classes.indices.map { "\(classes[$0]) (n=\(counts[$0].reduce(0, +)))" }
        let labelWidth = (classes.map { textWidth($0) }.max() ?? 20) + 10
        let rowLabelWidth = (rowLabels.map { textWidth($0) }.max() ?? 20) + 10
        let left = rowLabelWidth + 26, top = 12.0
        let bottom = labelWidth * 0.72 + 40
        let width = left + Double(count) * cell + 12
        let height = top + Double(count) * cell + bottom
        var svg = "<svg class=\"chart\" width=\"\(n(width))\" height=\"\(n(height))\" viewBox=\"0 0 \(n(width)) "
            + "\(n(height))\" role=\"img\" aria-label=\"confusion matrix\" font-family=\"sans-serif\" "
            + "font-size=\"11\">\n"
        for t in 0..<count {
            for p in 0..<count {
                let value = min(1, max(0, normalised[t][p]))
                let x = left + Double(p) * cell, y = top + Double(t) * cell
                let fill = blend(RGB(247, 251, 255), RGB(8, 48, 107), value)
                svg += "<rect x=\"\(n(x))\" y=\"\(n(y))\" width=\"\(n(cell))\" height=\"\(n(cell))\" "
                    + "fill=\"\(fill.hex)\" stroke=\"#ffffff\"><title>"
                    + escapeHTML("true \(classes[t]), predicted \(classes[p]): \(counts[t][p]) "
                                 + "(\(fixed(value * 100, 1))%)") + "</title></rect>\n"
                if counts[t][p] > 0 {
                    svg += "<text x=\"\(n(x + cell / 2))\" y=\"\(n(y + cell / 2 + 4))\" text-anchor=\"middle\" "
                        + "fill=\"\(value > 0.5 ? "#ffffff" : "#222222")\">\(counts[t][p])</text>\n"
                }
            }
        }
        for (k, name) in classes.enumerated() {
            let centre = Double(k) * cell + cell / 2
            svg += "<text x=\"\(n(left - 6))\" y=\"\(n(top + centre + 4))\" text-anchor=\"end\">"
                + escapeHTML(rowLabels[k]) + "</text>\n"
            let x = left + centre, y = top + Double(count) * cell + 8
            svg += "<text x=\"\(n(x))\" y=\"\(n(y))\" text-anchor=\"end\" transform=\"rotate(-45 \(n(x)) \(n(y)))\" "
                + "dy=\"4\">" + escapeHTML(name) + "</text>\n"
        }
        let middleY = top + Double(count) * cell / 2
        svg += "<text x=\"12\" y=\"\(n(middleY))\" text-anchor=\"middle\" font-weight=\"bold\" "
            + "transform=\"rotate(-90 12 \(n(middleY)))\">true class</text>\n"
        svg += "<text x=\"\(n(left + Double(count) * cell / 2))\" y=\"\(n(height - 6))\" text-anchor=\"middle\" "
            + "font-weight=\"bold\">predicted class</text>\n"
        return svg + "</svg>"
    }

    /// Grouped bars of precision, recall and F1 (0...1) per class, with a legend; each class label and bar title
    /// carries the class's support (`name (n=clips)`).
    public static func perClassBars(_ metrics: [ClassMetrics]) -> String {
        let bars: [(String, String, KeyPath<ClassMetrics, Double>)] = [
            ("precision", "#4c72b0", \.precision), ("recall", "#dd8452", \.recall), ("F1", "#55a868", \.f1),
        ]
        let barWidth = 11.0, group = barWidth * 3 + 14
        let left = 44.0, top = 28.0, plotHeight = 180.0
        let names = metrics.map { "\($0.name) (n=\($0.support))" }
        let labelWidth = (names.map { textWidth($0) }.max() ?? 20)
        let bottom = labelWidth * 0.72 + 24
        let width = max(left + Double(metrics.count) * group + 16, 300)
        let height = top + plotHeight + bottom
        var svg = "<svg class=\"chart\" width=\"\(n(width))\" height=\"\(n(height))\" viewBox=\"0 0 \(n(width)) "
            + "\(n(height))\" role=\"img\" aria-label=\"per-class precision, recall and F1\" "
            + "font-family=\"sans-serif\" font-size=\"11\">\n"
        for tick in stride(from: 0.0, through: 1.0001, by: 0.2) {
            let y = top + plotHeight * (1 - tick)
            svg += "<line x1=\"\(n(left))\" y1=\"\(n(y))\" x2=\"\(n(width - 8))\" y2=\"\(n(y))\" "
                + "stroke=\"#dddddd\"/>\n"
            svg += "<text x=\"\(n(left - 6))\" y=\"\(n(y + 4))\" text-anchor=\"end\">\(fixed(tick, 1))</text>\n"
        }
        for (k, m) in metrics.enumerated() {
            let x0 = left + Double(k) * group + 7
            for (b, bar) in bars.enumerated() {
                let value = min(1, max(0, m[keyPath: bar.2]))
                let h = plotHeight * value
                svg += "<rect x=\"\(n(x0 + Double(b) * barWidth))\" y=\"\(n(top + plotHeight - h))\" "
                    + "width=\"\(n(barWidth - 1))\" height=\"\(n(h))\" fill=\"\(bar.1)\"><title>"
                    + escapeHTML("\(names[k]) \(bar.0): \(fixed(value, 3))") + "</title></rect>\n"
            }
            let x = x0 + barWidth * 1.5, y = top + plotHeight + 10
            svg += "<text x=\"\(n(x))\" y=\"\(n(y))\" text-anchor=\"end\" transform=\"rotate(-45 \(n(x)) \(n(y)))\" "
                + "dy=\"4\">" + escapeHTML(names[k]) + "</text>\n"
        }
        svg += "<line x1=\"\(n(left))\" y1=\"\(n(top + plotHeight))\" x2=\"\(n(width - 8))\" "
            + "y2=\"\(n(top + plotHeight))\" stroke=\"#444444\"/>\n"
        var legendX = left
        for bar in bars {
            svg += "<rect x=\"\(n(legendX))\" y=\"8\" width=\"10\" height=\"10\" fill=\"\(bar.1)\"/>"
                + "<text x=\"\(n(legendX + 14))\" y=\"17\">\(bar.0)</text>\n"
            legendX += 14 + textWidth(bar.0) + 16
        }
        return svg + "</svg>"
    }

    /// A line chart of `series` against x (epochs), with axes, ticks, axis labels and a legend.
    /// - Parameter yRange: the y axis range; default: the data's, widened to round ticks.
    public static func lineChart(
        title: String, xLabel: String, yLabel: String, series: [ChartSeries], yRange: ClosedRange<Double>? = nil
    ) -> String {
        let all = series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite }
        let width = 560.0, height = 280.0
        let legendWidth = (series.map { textWidth($0.name) }.max() ?? 0) + 34
        let left = 56.0, right = legendWidth + 12, top = 28.0, bottom = 44.0
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        var svg = "<svg class=\"chart\" width=\"\(n(width))\" height=\"\(n(height))\" viewBox=\"0 0 \(n(width)) "
            + "\(n(height))\" role=\"img\" aria-label=\"\(escapeHTML(title))\" font-family=\"sans-serif\" "
            + "font-size=\"11\">\n"
        svg += "<text x=\"\(n(left))\" y=\"16\" font-weight=\"bold\">\(escapeHTML(title))</text>\n"
        guard !all.isEmpty else {
            return svg + "<text x=\"\(n(left))\" y=\"\(n(top + plotHeight / 2))\">no data</text>\n</svg>"
        }
        var xLow = all.map(\.x).min()!, xHigh = all.map(\.x).max()!
        if xHigh == xLow { xLow -= 1; xHigh += 1 }
        let xTicks = niceTicks(xLow, xHigh, count: 8, integers: true)
        var yLow = yRange?.lowerBound ?? all.map(\.y).min()!
        var yHigh = yRange?.upperBound ?? all.map(\.y).max()!
        if yHigh == yLow { yLow -= 0.5; yHigh += 0.5 }
        let yTicks = niceTicks(yLow, yHigh, count: 5, integers: false)
        if yRange == nil { yLow = min(yLow, yTicks.first!); yHigh = max(yHigh, yTicks.last!) }
        func px(_ x: Double) -> Double { left + (x - xLow) / (xHigh - xLow) * plotWidth }
        func py(_ y: Double) -> Double { top + (1 - (y - yLow) / (yHigh - yLow)) * plotHeight }

        for tick in yTicks where tick >= yLow - 1e-12 && tick <= yHigh + 1e-12 {
            svg += "<line x1=\"\(n(left))\" y1=\"\(n(py(tick)))\" x2=\"\(n(left + plotWidth))\" "
                + "y2=\"\(n(py(tick)))\" stroke=\"#e3e3e3\"/>\n"
            svg += "<text x=\"\(n(left - 6))\" y=\"\(n(py(tick) + 4))\" text-anchor=\"end\">"
                + "\(tickLabel(tick, yTicks))</text>\n"
        }
        for tick in xTicks where tick >= xLow - 1e-12 && tick <= xHigh + 1e-12 {
            svg += "<line x1=\"\(n(px(tick)))\" y1=\"\(n(top + plotHeight))\" x2=\"\(n(px(tick)))\" "
                + "y2=\"\(n(top + plotHeight + 4))\" stroke=\"#444444\"/>\n"
            svg += "<text x=\"\(n(px(tick)))\" y=\"\(n(top + plotHeight + 16))\" text-anchor=\"middle\">"
                + "\(tickLabel(tick, xTicks))</text>\n"
        }
        svg += "<polyline points=\"\(n(left)),\(n(top)) \(n(left)),\(n(top + plotHeight)) "
            + "\(n(left + plotWidth)),\(n(top + plotHeight))\" fill=\"none\" stroke=\"#444444\"/>\n"
        svg += "<text x=\"\(n(left + plotWidth / 2))\" y=\"\(n(height - 6))\" text-anchor=\"middle\">"
            + "\(escapeHTML(xLabel))</text>\n"
        svg += "<text x=\"14\" y=\"\(n(top + plotHeight / 2))\" text-anchor=\"middle\" "
            + "transform=\"rotate(-90 14 \(n(top + plotHeight / 2)))\">\(escapeHTML(yLabel))</text>\n"

        for (k, line) in series.enumerated() {
            let points = line.points.filter { $0.x.isFinite && $0.y.isFinite }
            let path = points.map { "\(n(px($0.x))),\(n(py(min(yHigh, max(yLow, $0.y)))))" }.joined(separator: " ")
            if points.count > 1 {
                svg += "<polyline points=\"\(path)\" fill=\"none\" stroke=\"\(line.color)\" stroke-width=\"2\"/>\n"
            }
            if points.count <= 60 {
                for p in points {
                    svg += "<circle cx=\"\(n(px(p.x)))\" cy=\"\(n(py(min(yHigh, max(yLow, p.y)))))\" r=\"2.5\" "
                        + "fill=\"\(line.color)\"><title>" + escapeHTML("\(line.name) epoch \(n(p.x)): "
                        + fixed(p.y, 4)) + "</title></circle>\n"
                }
            }
            let ly = top + 8 + Double(k) * 18, lx = left + plotWidth + 14
            svg += "<line x1=\"\(n(lx))\" y1=\"\(n(ly))\" x2=\"\(n(lx + 16))\" y2=\"\(n(ly))\" "
                + "stroke=\"\(line.color)\" stroke-width=\"2\"/><text x=\"\(n(lx + 20))\" y=\"\(n(ly + 4))\">"
                + escapeHTML(line.name) + "</text>\n"
        }
        return svg + "</svg>"
    }

    /// Round tick values covering `low...high` (about `count` of them), steps of 1, 2 or 5 times a power of 10.
    static func niceTicks(_ low: Double, _ high: Double, count: Int, integers: Bool) -> [Double] {
        let raw = (high - low) / Double(max(count, 1))
        guard raw.isFinite, raw > 0 else { return [low, high] }
        let magnitude = pow(10, floor(log10(raw)))
        var step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        if integers { step = max(1, step.rounded()) }
        let first = floor(low / step) * step, last = ceil(high / step) * step
        guard ((last - first) / step).isFinite, (last - first) / step < 1000 else { return [low, high] }
        return stride(from: first, through: last + step / 2, by: step).map { $0 }
    }

    /// A tick label with as many decimals as the ticks' step needs.
    static func tickLabel(_ value: Double, _ ticks: [Double]) -> String {
        let step = ticks.count > 1 ? ticks[1] - ticks[0] : 1
        guard step.isFinite, step > 0 else { return String(format: "%g", value) }
        let decimals = min(12, max(0, Int(ceil(-log10(step) - 1e-9))))
        return fixed(value, decimals)
    }

    /// `a` → `b` at fraction `t`.
    static func blend(_ a: RGB, _ b: RGB, _ t: Double) -> RGB {
        func mix(_ x: UInt8, _ y: UInt8) -> UInt8 { UInt8((Double(x) * (1 - t) + Double(y) * t).rounded()) }
        return RGB(mix(a.red, b.red), mix(a.green, b.green), mix(a.blue, b.blue))
    }
}
