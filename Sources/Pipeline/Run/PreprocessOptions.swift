import Foundation

/// How to run a preprocessing job (what the configuration does not say: where, how many workers, how strict).
public struct PreprocessOptions: Sendable {
    /// Corpus root: `<root>/<class>/<clip>.<ext>`.
    public var corpus: String
    /// Output folder for shards, `split.tsv` and `report.json`.
    public var output: String
    /// Worker threads (each with its own FFT buffers); default: one per core.
    public var jobs: Int
    /// Fail (non-zero exit) when any file had to be skipped.
    public var strict: Bool
    /// Feature cache folder; nil: `<output>/.cache`.
    public var cache: String?
    /// Reuse cached features (false: `--no-cache`, everything is recomputed and the cache is left as it was).
    public var useCache: Bool
    /// Set (from a signal handler) to stop at the next clip boundary.
    public var cancellation: CancellationFlag?
    /// Called by the worker that has just finished a clip (extracted, found in the cache, or skipped), with the
    /// number of clips finished so far. Workers take no further clip once `cancellation` is set, so a hook that
    /// cancels after N clips stops a run with `jobs: 1` after exactly N clips (what the tests do).
    public var clipFinished: (@Sendable (_ finished: Int) -> Void)?

    public init(
        corpus: String, output: String, jobs: Int? = nil, strict: Bool = false, cache: String? = nil,
        useCache: Bool = true, cancellation: CancellationFlag? = nil,
        clipFinished: (@Sendable (_ finished: Int) -> Void)? = nil
    ) {
        self.corpus = corpus
        self.output = output
        self.jobs = max(1, jobs ?? ProcessInfo.processInfo.activeProcessorCount)
        self.strict = strict
        self.cache = cache
        self.useCache = useCache
        self.cancellation = cancellation
        self.clipFinished = clipFinished
    }
}
