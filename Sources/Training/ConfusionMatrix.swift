/// Precision, recall, F1 and support of one class.
public struct ClassMetrics: Sendable, Equatable, Codable {
    /// The class name.
    public var name: String
    /// Correct predictions of the class / all predictions of the class (0 when it was never predicted).
    public var precision: Double
    /// Correct predictions of the class / clips of the class (0 when it has no clip).
    public var recall: Double
    /// Harmonic mean of precision and recall (0 when both are 0).
    public var f1: Double
    /// Clips of the class (true labels).
    public var support: Int

    public init(name: String, precision: Double, recall: Double, f1: Double, support: Int) {
        self.name = name
        self.precision = precision
        self.recall = recall
        self.f1 = f1
        self.support = support
    }

    enum CodingKeys: String, CodingKey {
        case name = "class", precision, recall, f1, support
    }
}

/// Counts of (true class, predicted class) pairs, and the metrics derived from them, defined as the reference
/// trainer's `metrics()` does.
public struct ConfusionMatrix: Sendable, Equatable, Codable {
    /// Class names in label order.
    public let classes: [String]
    /// `counts[true][predicted]`: rows are true classes, columns predicted ones.
    public private(set) var counts: [[Int]]

    /// An empty matrix for `classes`.
    public init(classes: [String]) {
        self.classes = classes
        counts = Array(repeating: Array(repeating: 0, count: classes.count), count: classes.count)
    }

    /// The matrix of `truth` against `predicted` (class indices, same length).
    public init(classes: [String], truth: [Int], predicted: [Int]) {
        precondition(truth.count == predicted.count, "\(truth.count) true labels for \(predicted.count) predictions")
        self.init(classes: classes)
        for (t, p) in zip(truth, predicted) { add(truth: t, predicted: p) }
    }

    /// Counts one prediction.
    public mutating func add(truth: Int, predicted: Int) {
        precondition(classes.indices.contains(truth) && classes.indices.contains(predicted),
                     "class index outside the \(classes.count) classes")
        counts[truth][predicted] += 1
    }

    /// Number of predictions counted.
    public var total: Int { counts.reduce(0) { $0 + $1.reduce(0, +) } }
    /// Correct predictions (the diagonal).
    public var correct: Int { classes.indices.reduce(0) { $0 + counts[$1][$1] } }
    /// correct / total (0 when empty).
    public var accuracy: Double { Double(correct) / Double(max(total, 1)) }

    /// Clips of each class (row sums).
    public var support: [Int] { counts.map { $0.reduce(0, +) } }
    /// Predictions of each class (column sums).
    public var predictedCounts: [Int] { classes.indices.map { c in counts.reduce(0) { $0 + $1[c] } } }

    /// Each row divided by its sum (a row without clips stays 0): `[true][predicted]` fractions.
    public var rowNormalised: [[Double]] {
        counts.map { row in
            let sum = row.reduce(0, +)
            return row.map { sum > 0 ? Double($0) / Double(sum) : 0 }
        }
    }

    /// Precision, recall, F1 and support of every class, in label order.
    public var perClass: [ClassMetrics] {
        let rows = support, columns = predictedCounts
        return classes.indices.map { c in
            let tp = Double(counts[c][c])
            let precision = columns[c] > 0 ? tp / Double(columns[c]) : 0
            let recall = rows[c] > 0 ? tp / Double(rows[c]) : 0
            let f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0
            return ClassMetrics(name: classes[c], precision: precision, recall: recall, f1: f1, support: rows[c])
        }
    }

    /// Mean F1 over the classes present in the truth or the predictions (0 when none is).
    public var macroF1: Double {
        let rows = support, columns = predictedCounts
        let present = classes.indices.filter { rows[$0] + columns[$0] > 0 }
        guard !present.isEmpty else { return 0 }
        let f1 = perClass
        return present.reduce(0) { $0 + f1[$1].f1 } / Double(present.count)
    }
}

/// Sums window logits per clip to give clip-level logits (their mean over the clip's windows).
public struct ClipLogits: Sendable {
    /// Classes per logit row.
    public let classCount: Int
    /// Sum of the window logits of each clip, `[clips, classCount]` row-major.
    public private(set) var sums: [Double]
    /// Windows added for each clip.
    public private(set) var windows: [Int]

    /// Empty sums for `clipCount` clips.
    public init(clipCount: Int, classCount: Int) {
        self.classCount = classCount
        sums = [Double](repeating: 0, count: clipCount * classCount)
        windows = [Int](repeating: 0, count: clipCount)
    }

    /// Adds a batch of window logits `[clips.count, classCount]` row-major; `clips[i]` is row `i`'s clip.
    public mutating func add(logits: [Float], clips: [Int]) {
        precondition(logits.count == clips.count * classCount, "\(logits.count) logits for \(clips.count) windows "
                     + "of \(classCount) classes")
        for (row, clip) in clips.enumerated() {
            for c in 0..<classCount { sums[clip * classCount + c] += Double(logits[row * classCount + c]) }
            windows[clip] += 1
        }
    }

    /// Mean logits of clip `clip`.
    public func mean(of clip: Int) -> [Double] {
        let n = Double(max(windows[clip], 1))
        return (0..<classCount).map { sums[clip * classCount + $0] / n }
    }

    /// The predicted class of every clip: argmax of its mean logits (first on ties).
    public var predictions: [Int] {
        windows.indices.map { clip in argmax(mean(of: clip)) }
    }
}

/// Index of the largest value (the first on ties); 0 for an empty collection.
func argmax<T: BinaryFloatingPoint>(_ values: some Collection<T>) -> Int {
    var best = 0
    var bestValue: T?
    for (index, value) in values.enumerated() where bestValue.map({ value > $0 }) ?? true {
        best = index
        bestValue = value
    }
    return best
}
