/// Where a cross-validation keeps its files, under one folder `DIR`:
///
/// | path | what |
/// | --- | --- |
/// | `DIR/cache` | the feature cache every fold shares (the folds differ only in the split) |
/// | `DIR/fold-K/shards` | fold K's shards, `split.tsv`, `report.json` (`genre preprocess` with `split.fold = K`) |
/// | `DIR/fold-K/run` | fold K's training run: `best.h5`, `last.h5`, `log.jsonl`, `run.json` |
/// | `DIR/fold-K/evaluation` | `best.h5` on fold K's test split: `metrics.json`, `confusion.csv`, `per_class.csv`, `report.html` |
/// | `DIR/fold-K/fold.json` | ``FoldRecord``, written last: the fold is complete |
/// | `DIR/summary.json`, `DIR/report.html` | ``CrossValidationSummary`` of the completed folds, ``CrossValidationReport`` |
public struct CrossValidationLayout: Sendable, Equatable {
    public let directory: String

    public init(directory: String) {
        var directory = directory
        while directory.count > 1, directory.hasSuffix("/") { directory.removeLast() }
        self.directory = directory
    }

    public var cache: String { directory + "/cache" }
    public func fold(_ k: Int) -> String { directory + "/fold-\(k)" }
    public func shards(_ k: Int) -> String { fold(k) + "/shards" }
    public func run(_ k: Int) -> String { fold(k) + "/run" }
    public func evaluation(_ k: Int) -> String { fold(k) + "/evaluation" }
    public func record(_ k: Int) -> String { fold(k) + "/fold.json" }
    public var summary: String { directory + "/summary.json" }
    public var report: String { directory + "/report.html" }
}
