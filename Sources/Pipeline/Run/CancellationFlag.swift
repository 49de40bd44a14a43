import GenreCore

/// Asks a long job to stop at the next safe point (between clips); set from a signal handler's queue.
public final class CancellationFlag: Sendable {
    /// Why the job was asked to stop (the first reason given), or nil.
    private let reason = LockedValueBox<String?>(nil)

    public init() {}

    /// Requests the stop, with what caused it ("SIGINT").
    public func cancel(_ why: String) {
        reason.withLockedValue { if $0 == nil { $0 = why } }
    }

    /// Why the job was asked to stop, or nil.
    public var cancelled: String? { reason.value }
}
