import Shards

/// A run-level failure: names the file or folder and the reason, on one line.
public struct PipelineError: Error, CustomStringConvertible, Sendable {
    public let path: String?
    public let reason: String
    /// The signal that stopped the run ("SIGINT", "SIGTERM"), when it was interrupted rather than failed.
    public let interruption: String?

    public init(path: String?, reason: String, interruption: String? = nil) {
        self.path = path
        self.reason = reason
        self.interruption = interruption
    }

    /// A corpus that cannot be scanned.
    init(_ error: ScanError) { self.init(path: error.path, reason: error.reason) }

    /// A shard that cannot be read, written or listed: the file the error names (`path` when it names none), and
    /// the reason once.
    init(_ error: ShardError, path: String) { self.init(path: error.path ?? path, reason: error.reason) }

    public var description: String { path.map { "\($0): \(reason)" } ?? reason }

    /// The run was asked to stop (by `signal`) after `done` of `total` clips: how far it got and how to go on.
    static func interrupted(by signal: String, done: Int, of total: Int, keptIn cacheFolder: String) -> PipelineError {
        PipelineError(
            path: nil,
            reason: "interrupted by \(signal) after \(done) of \(total) clips; their features are kept in \(cacheFolder) and "
                + "no incomplete shard was left; run the same command again to continue",
            interruption: signal)
    }
}
