import Synchronization

/// A value shared between threads, reachable only inside ``withLockedValue(_:)``: the one way GenreKit guards
/// mutable state that several workers touch (counters, progress, caches' bookkeeping), after swift-nio's
/// `NIOLockedValueBox`.
///
/// It is `Sendable` because the value is only ever reached while holding the mutex; the body must not let a
/// reference to the value escape.
public final class LockedValueBox<Value: ~Copyable>: Sendable {
    private let mutex: Mutex<Value>

    /// A box holding `value`.
    public init(_ value: consuming sending Value) { mutex = Mutex(value) }

    /// Runs `body` with exclusive access to the value and returns its result.
    public func withLockedValue<Result: ~Copyable, E: Error>(
        _ body: (inout sending Value) throws(E) -> sending Result
    ) throws(E) -> sending Result {
        try mutex.withLock(body)
    }
}

extension LockedValueBox where Value: Copyable {
    /// A copy of the value as it is now.
    public var value: Value { withLockedValue { $0 } }
}
