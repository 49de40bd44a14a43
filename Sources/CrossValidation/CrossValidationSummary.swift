import Foundation
public import Pipeline
public import Training

/// A statistic over folds: the mean and the sample standard deviation (divided by n - 1; nil for fewer than two
/// values) of one value per fold.
public struct FoldStatistic: Sendable, Codable, Equatable {
    public var mean: Double
    /// Sample standard deviation (n - 1 in the denominator); nil when fewer than two folds give a value.
    public var standardDeviation: Double?
    /// Folds that give a value.
    public var count: Int

    public init(mean: Double, standardDeviation: Double?, count: Int) {
        self.mean = mean
        self.standardDeviation = standardDeviation
        self.count = count
    }

    /// The mean and sample standard deviation of `values` (mean 0, count 0 when there are none).
    public init(_ values: [Double]) {
        count = values.count
        guard !values.isEmpty else {
            mean = 0
            standardDeviation = nil
            return
        }
        mean = values.reduce(0, +) / Double(values.count)
        if values.count >= 2 {
            let m = mean
            standardDeviation = (values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(values.count - 1)).squareRoot()
        } else {
            standardDeviation = nil
        }
    }

    enum CodingKeys: String, CodingKey { case mean, standardDeviation = "sd", count = "n" }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(mean, forKey: .mean)
        try c.encode(standardDeviation, forKey: .standardDeviation)  // null when undefined
        try c.encode(count, forKey: .count)
    }
}

/// One class over the folds: its F1 (mean ± sd over the folds whose test split holds the class) and its support
/// summed over the folds (every clip is tested once, so this is the class's clips in the cross-validation).
public struct ClassSummary: Sendable, Codable, Equatable {
    public var name: String
    public var f1: FoldStatistic
    /// Test clips of the class, summed over the folds.
    public var support: Int
    /// The class's F1 in each fold, in the order of the summary's `folds` (nil where the test fold has no clip of it).
    public var f1PerFold: [Double?]

    public init(name: String, f1: FoldStatistic, support: Int, f1PerFold: [Double?]) {
        self.name = name
        self.f1 = f1
        self.support = support
        self.f1PerFold = f1PerFold
    }

    enum CodingKeys: String, CodingKey { case name = "class", f1, support, f1PerFold = "f1_per_fold" }
}

/// `summary.json` of a cross-validation: every completed fold's result, mean ± sample standard deviation over them
/// of accuracy, window accuracy, macro-F1 and each class's F1, the confusion matrix summed over the folds (each
/// clip counted once, in the fold that tested it) with the accuracy and macro-F1 it gives, and the configurations.
/// Made by ``aggregate(folds:foldCount:corpus:pipeline:training:)``, a pure function of its arguments.
public struct CrossValidationSummary: Sendable, Codable, Equatable {
    /// K, the number of folds of the split.
    public var foldCount: Int
    /// The folds aggregated (completed), and those not (yet) completed.
    public var completed: [Int]
    public var missing: [Int]
    /// Class names in label order.
    public var classes: [String]
    /// The completed folds' results, by fold number.
    public var folds: [FoldResult]
    /// Mean ± sd over the folds of the clip-level accuracy, window accuracy and macro-F1.
    public var accuracy: FoldStatistic
    public var windowAccuracy: FoldStatistic
    public var macroF1: FoldStatistic
    /// Per class, in label order: F1 mean ± sd and support.
    public var perClass: [ClassSummary]
    /// Clip-level confusion counts `[true][predicted]` summed over the folds.
    public var confusion: [[Int]]
    /// Accuracy and macro-F1 of the summed confusion matrix (every tested clip pooled).
    public var pooledAccuracy: Double
    public var pooledMacroF1: Double
    /// Wall time of the folds, summed (seconds).
    public var seconds: Double
    /// The corpus root (of the first completed fold).
    public var corpus: String
    /// The pipeline configuration of the folds (`split.fold` differs between them: ``CrossValidation`` gives the first
    /// completed fold's).
    public var pipeline: PipelineConfiguration
    /// The training configuration of every fold.
    public var training: TrainingConfiguration

    enum CodingKeys: String, CodingKey {
        case foldCount = "fold_count", completed, missing, classes, folds, accuracy
        case windowAccuracy = "window_accuracy", macroF1 = "macro_f1", perClass = "per_class", confusion
        case pooledAccuracy = "pooled_accuracy", pooledMacroF1 = "pooled_macro_f1", seconds, corpus, pipeline, training
    }

    /// Aggregates the results of the completed folds of a `foldCount`-fold cross-validation.
    /// - Throws: when `folds` is empty, a fold number is out of range or repeated, or the folds have different classes.
    public static func aggregate(
        folds: [FoldResult], foldCount: Int, corpus: String = "", pipeline: PipelineConfiguration = .init(),
        training: TrainingConfiguration = .init()
    ) throws(CrossValidationError) -> CrossValidationSummary {
        guard let first = folds.min(by: { $0.fold < $1.fold }) else {
            throw CrossValidationError(path: nil, reason: "no completed fold to summarise")
        }
        let folds = folds.sorted { $0.fold < $1.fold }
        let numbers = folds.map(\.fold)
        if let bad = numbers.first(where: { !(0..<foldCount).contains($0) }) {
            throw CrossValidationError(path: nil, reason: "fold \(bad) is not one of the \(foldCount) folds (0 to \(foldCount - 1))")
        }
        if Set(numbers).count != numbers.count {
            throw CrossValidationError(path: nil, reason: "a fold appears twice among \(numbers)")
        }
        let classes = first.classes
        let n = classes.count
        for fold in folds where fold.classes != classes || fold.confusion.count != n || fold.perClass.count != n
            || fold.confusion.contains(where: { $0.count != n })
        {
            throw CrossValidationError(
                path: nil, reason: "fold \(fold.fold) has classes \(fold.classes), fold \(first.fold) has \(classes)")
        }

        var confusion = [[Int]](repeating: [Int](repeating: 0, count: n), count: n)
        for fold in folds {
            for t in 0..<n { for p in 0..<n { confusion[t][p] += fold.confusion[t][p] } }
        }
        var pooled = ConfusionMatrix(classes: classes)
        for t in 0..<n { for p in 0..<n { for _ in 0..<confusion[t][p] { pooled.add(truth: t, predicted: p) } } }

        let perClass = classes.indices.map { c in
            let perFold: [Double?] = folds.map { $0.perClass[c].support > 0 ? $0.perClass[c].f1 : nil }
            return ClassSummary(
                name: classes[c], f1: FoldStatistic(perFold.compactMap { $0 }),
                support: folds.reduce(0) { $0 + $1.perClass[c].support }, f1PerFold: perFold)
        }
        return CrossValidationSummary(
            foldCount: foldCount, completed: numbers, missing: (0..<foldCount).filter { !numbers.contains($0) },
            classes: classes, folds: folds, accuracy: FoldStatistic(folds.map(\.accuracy)),
            windowAccuracy: FoldStatistic(folds.map(\.windowAccuracy)), macroF1: FoldStatistic(folds.map(\.macroF1)),
            perClass: perClass, confusion: confusion, pooledAccuracy: pooled.accuracy, pooledMacroF1: pooled.macroF1,
            seconds: folds.reduce(0) { $0 + $1.seconds.total }, corpus: corpus, pipeline: pipeline, training: training)
    }

    /// `summary.json`: pretty-printed, sorted keys.
    public var jsonText: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // Plain numbers (finite: fractions and counts), strings and arrays: encoding cannot fail.
        return String(decoding: try! encoder.encode(self), as: UTF8.self) + "\n"
    }

    /// Reads a `summary.json`.
    public static func read(from path: String) throws(CrossValidationError) -> CrossValidationSummary {
        do {
            return try JSONDecoder().decode(CrossValidationSummary.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw CrossValidationError(path: path, reason: "cannot read the summary: \(error)")
        }
    }

    /// A terminal rendering: one line per fold, then mean ± sd, then per-class F1.
    public var table: String {
        func f(_ v: Double) -> String { String(format: "%.4f", v) }
        func stat(_ s: FoldStatistic) -> String { f(s.mean) + " ± " + (s.standardDeviation.map(f) ?? "n/a") }
        var lines = ["fold  clips  accuracy  macro-F1  best epoch  seconds"]
        for r in folds {
            lines.append(
                String(format: "%4d  %5d  %8.4f  %8.4f  %10d  %7.1f", r.fold, r.clips, r.accuracy, r.macroF1, r.bestEpoch,
                       r.seconds.total))
        }
        lines.append("")
        lines.append("\(completed.count) of \(foldCount) folds" + (missing.isEmpty ? "" : " (missing: \(missing.map(String.init).joined(separator: ", ")))"))
        lines.append("accuracy  \(stat(accuracy))   (pooled \(f(pooledAccuracy)))")
        lines.append("macro-F1  \(stat(macroF1))   (pooled \(f(pooledMacroF1)))")
        lines.append("")
        let width = max(9, classes.map(\.count).max() ?? 0)
        lines.append("class".padding(toLength: width, withPad: " ", startingAt: 0) + "  F1 mean ± sd       support")
        for c in perClass {
            lines.append(c.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  "
                         + stat(c.f1).padding(toLength: 17, withPad: " ", startingAt: 0) + "  " + String(format: "%7d", c.support))
        }
        return lines.joined(separator: "\n")
    }
}
