import Foundation

/// Slots that several threads fill, each slot written by exactly one thread and read only after all of them
/// have finished (`DispatchQueue.concurrentPerform` returns after its last iteration): no two threads touch the
/// same element, which is the invariant that makes this `@unchecked Sendable`.
final class DisjointSlots<T>: @unchecked Sendable {
    private let storage: UnsafeMutableBufferPointer<T?>
    init(count: Int) {
        storage = .allocate(capacity: count)
        storage.initialize(repeating: nil)
    }
    deinit {
        storage.deinitialize()
        storage.deallocate()
    }
    func set(_ i: Int, _ value: T) { storage[i] = value }
    func take() -> [T] { storage.map { $0! } }
}

/// Maps 0..<count on `workers` threads; results in index order. Work is handed out one index at a time.
func parallelMap<T>(count: Int, workers: Int, _ body: @Sendable (Int) -> T) -> [T] {
    guard count > 0 else { return [] }
    let slots = DisjointSlots<T>(count: count)
    let next = AtomicCounter()
    DispatchQueue.concurrentPerform(iterations: max(1, min(workers, count))) { _ in
        while true {
            let i = next.increment() - 1
            if i >= count { break }
            slots.set(i, body(i))
        }
    }
    return slots.take()
}

/// A counter shared by worker threads.
final class AtomicCounter: @unchecked Sendable {
    // Invariant: `value` is only touched while holding `lock`.
    private let lock = NSLock()
    private var value = 0
    /// Adds one and returns the new value.
    func increment(by n: Int = 1) -> Int {
        lock.lock()
        defer { lock.unlock() }
        value += n
        return value
    }
    var current: Int {
        lock.lock()
        defer { lock.unlock() }
        return value
    }
}
