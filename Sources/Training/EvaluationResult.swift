import Foundation

/// The outcome of evaluating a model on a split: clip-level accuracy (window logits averaged per clip), window
/// accuracy, macro-F1, per-class metrics and the confusion matrix. Encodes as `metrics.json` (snake_case keys:
/// `classes`, `accuracy`, `window_accuracy`, `macro_f1`, `per_class`, `confusion`, `confusion_normalised`,
/// `clips`, `windows`, `window_frames`, `window_hop`, `info`; every `per_class` entry carries its `support`).
public struct EvaluationResult: Sendable, Equatable, Codable {
    /// Class names in label order.
    public var classes: [String]
    /// Clip-level accuracy: the argmax of each clip's mean window logits against its label.
    public var accuracy: Double
    /// Window-level accuracy: the argmax of each window's logits against its clip's label.
    public var windowAccuracy: Double
    /// Mean F1 (clip level) over the classes present in the truth or the predictions.
    public var macroF1: Double
    /// Clip-level precision, recall, F1 and support of every class, in label order.
    public var perClass: [ClassMetrics]
    /// Clip-level confusion counts `[true][predicted]`.
    public var confusion: [[Int]]
    /// `confusion` with each row divided by its sum (fractions; a row without clips is 0).
    public var confusionNormalised: [[Double]]
    /// Clips evaluated.
    public var clips: Int
    /// Windows evaluated.
    public var windows: Int
    /// Frames of each evaluation window (nil when not recorded).
    public var windowFrames: Int?
    /// Frames between the starts of a clip's evaluation windows (`[evaluate] window_hop`; nil when not recorded).
    public var windowHop: Int?
    /// Free-form facts about what was evaluated (split, checkpoint, epoch...).
    public var info: [String: String]

    enum CodingKeys: String, CodingKey {
        case classes, accuracy, windowAccuracy = "window_accuracy", macroF1 = "macro_f1", perClass = "per_class"
        case confusion, confusionNormalised = "confusion_normalised", clips, windows
        case windowFrames = "window_frames", windowHop = "window_hop", info
    }

    /// The result of a clip-level and a window-level confusion matrix over the same classes.
    public init(clipConfusion: ConfusionMatrix, windowConfusion: ConfusionMatrix, info: [String: String] = [:]) {
        classes = clipConfusion.classes
        accuracy = clipConfusion.accuracy
        windowAccuracy = windowConfusion.accuracy
        macroF1 = clipConfusion.macroF1
        perClass = clipConfusion.perClass
        confusion = clipConfusion.counts
        confusionNormalised = clipConfusion.rowNormalised
        clips = clipConfusion.total
        windows = windowConfusion.total
        self.info = info
    }

    /// The clip-level confusion matrix.
    public var confusionMatrix: ConfusionMatrix {
        var matrix = ConfusionMatrix(classes: classes)
        for (t, row) in confusion.enumerated() {
            for (p, n) in row.enumerated() { for _ in 0..<n { matrix.add(truth: t, predicted: p) } }
        }
        return matrix
    }

    // MARK: Files

    /// `metrics.json`: the result as pretty-printed JSON with sorted keys.
    public var jsonText: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        // Encoding plain numbers, strings and arrays cannot fail (non-finite numbers are not produced here).
        let data = (try? encoder.encode(self)) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// `confusion.csv`: a header row `true\predicted,<class>...` then one row per true class with its counts.
    public var confusionCSV: String {
        var lines = [(["true\\predicted"] + classes).map(csvField).joined(separator: ",")]
        for (name, row) in zip(classes, confusion) {
            lines.append(([csvField(name)] + row.map { String($0) }).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `per_class.csv`: `class,precision,recall,f1,support`, one row per class.
    public var perClassCSV: String {
        var lines = ["class,precision,recall,f1,support"]
        for m in perClass {
            lines.append([csvField(m.name), fixed(m.precision, 6), fixed(m.recall, 6), fixed(m.f1, 6),
                          String(m.support)].joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes `metrics.json`, `confusion.csv` and `per_class.csv` into `directory` (created if needed), each
    /// atomically.
    public func write(to directory: String) throws(TrainingError) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .io(path: directory, reason: "cannot create the folder: \(error.localizedDescription)")
        }
        try writeText(jsonText, to: directory + "/metrics.json")
        try writeText(confusionCSV, to: directory + "/confusion.csv")
        try writeText(perClassCSV, to: directory + "/per_class.csv")
    }

    /// Reads a `metrics.json` written by `write(to:)`.
    public static func read(from path: String) throws(TrainingError) -> EvaluationResult {
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            return try JSONDecoder().decode(EvaluationResult.self, from: data)
        } catch {
            throw .io(path: path, reason: "cannot read evaluation metrics: \(error.localizedDescription)")
        }
    }

    // MARK: Text

    /// A terminal rendering: summary line, the confusion matrix as counts and as row percentages (rows = true
    /// class, columns = predicted, column headers abbreviated to fit), and the per-class table.
    public var table: String {
        var lines: [String] = []
        let windowing = windowFrames.map { frames in
            " (\(frames) frames every \(windowHop.map(String.init) ?? "?"))"
        } ?? ""
        lines.append("clips \(clips), windows \(windows)\(windowing): accuracy \(fixed(accuracy, 4)) (clip level), "
                     + "window accuracy \(fixed(windowAccuracy, 4)), macro-F1 \(fixed(macroF1, 4))")
        let counts = confusion.map { $0.map { String($0) } }
        let percentages = confusionNormalised.map { $0.map { fixed($0 * 100, 1) } }
        lines.append("")
        lines.append("confusion (counts; rows = true class, columns = predicted)")
        lines += matrixLines(counts)
        lines.append("")
        lines.append("confusion (% of each true class)")
        lines += matrixLines(percentages)
        lines.append("")
        let nameWidth = max(9, classes.map(\.count).max() ?? 0)
        lines.append(pad("class", nameWidth) + "  precision  recall      f1  support")
        for m in perClass {
            lines.append(pad(m.name, nameWidth) + "  " + padLeft(fixed(m.precision, 4), 9) + "  "
                         + padLeft(fixed(m.recall, 4), 6) + "  " + padLeft(fixed(m.f1, 4), 6) + "  "
                         + padLeft(String(m.support), 7))
        }
        lines.append(pad("macro F1", nameWidth) + "  " + String(repeating: " ", count: 9 + 2 + 6 + 2)
                     + padLeft(fixed(macroF1, 4), 6) + "  " + padLeft(String(clips), 7))
        return lines.joined(separator: "\n")
    }

    /// Rows of a `[true][predicted]` matrix of cell texts, with row names and abbreviated column headers.
    private func matrixLines(_ cells: [[String]]) -> [String] {
        let nameWidth = max(5, classes.map(\.count).max() ?? 0)
        let widest = cells.flatMap { $0 }.map(\.count).max() ?? 1
        let cellWidth = max(6, widest + 1)
        let headers = columnHeaders(width: cellWidth - 1)
        var lines = [String(repeating: " ", count: nameWidth) + headers.map { padLeft($0, cellWidth) }.joined()]
        for (name, row) in zip(classes, cells) {
            lines.append(pad(name, nameWidth) + row.map { padLeft($0, cellWidth) }.joined())
        }
        return lines
    }

    /// Class names cut to `width` characters, or the class indices when the cut names would not be unique.
    private func columnHeaders(width: Int) -> [String] {
        let cut = classes.map { String($0.prefix(width)) }
        if Set(cut).count == cut.count { return cut }
        return classes.indices.map { "#\($0)" }
    }
}

/// Accumulates an evaluation pass batch by batch: window predictions and per-clip logit sums.
public struct EvaluationAccumulator: Sendable {
    /// Class names in label order.
    public let classes: [String]
    /// Class of every clip of the split.
    public let clipLabels: [Int32]
    /// Per-clip logit sums.
    public private(set) var clipLogits: ClipLogits
    /// Window-level confusion so far.
    public private(set) var windowConfusion: ConfusionMatrix

    /// An empty pass over clips with `clipLabels`.
    public init(classes: [String], clipLabels: [Int32]) {
        self.classes = classes
        self.clipLabels = clipLabels
        clipLogits = ClipLogits(clipCount: clipLabels.count, classCount: classes.count)
        windowConfusion = ConfusionMatrix(classes: classes)
    }

    /// Adds the logits `[clips.count, classes.count]` row-major of a batch of windows; `clips[i]` is row `i`'s clip.
    public mutating func add(logits: [Float], clips: [Int]) {
        clipLogits.add(logits: logits, clips: clips)
        let classCount = classes.count
        for (row, clip) in clips.enumerated() {
            let predicted = argmax(logits[(row * classCount)..<((row + 1) * classCount)])
            windowConfusion.add(truth: Int(clipLabels[clip]), predicted: predicted)
        }
    }

    /// Adds the logits of an evaluation batch.
    public mutating func add(logits: [Float], of batch: EvaluationBatch) {
        add(logits: logits, clips: batch.clips)
    }

    /// The result so far (clips without any window count as predicted class 0: feed every batch first).
    public func result(info: [String: String] = [:]) -> EvaluationResult {
        let clipConfusion = ConfusionMatrix(classes: classes, truth: clipLabels.map { Int($0) },
                                            predicted: clipLogits.predictions)
        return EvaluationResult(clipConfusion: clipConfusion, windowConfusion: windowConfusion, info: info)
    }
}

// MARK: - Text helpers

/// `value` with `digits` decimals (`"0.8533"`).
func fixed(_ value: Double, _ digits: Int) -> String {
    guard value.isFinite else { return String(value) }
    return String(format: "%.\(digits)f", value)
}

/// `text` padded with spaces on the right to `width` characters.
func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}

/// `text` padded with spaces on the left to `width` characters.
func padLeft(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
}

/// A CSV field, quoted (with doubled quotes) when it holds a comma, quote or line break.
func csvField(_ text: String) -> String {
    guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
    return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}

/// Writes `text` as UTF-8 to `path` atomically.
func writeText(_ text: String, to path: String) throws(TrainingError) {
    do {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    } catch {
        throw .io(path: path, reason: "cannot write: \(error.localizedDescription)")
    }
}
