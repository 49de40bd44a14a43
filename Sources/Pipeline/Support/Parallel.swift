import Dispatch
import GenreCore

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
    let next = LockedValueBox(0)
    DispatchQueue.concurrentPerform(iterations: max(1, min(workers, count))) { _ in
        while true {
            let i = next.withLockedValue { $0 += 1; return $0 - 1 }
            if i >= count { break }
            slots.set(i, body(i))
        }
    }
    return slots.take()
}
