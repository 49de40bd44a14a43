import Foundation

/// Something that builds the batches of one pass, each a pure function of its index (and of data fixed when the
/// builder was made), so that building them on another thread gives the same batches in the same order.
protocol BatchBuilding: ~Copyable, SendableMetatype {
    associatedtype Batch: Sendable
    /// Builds batch `index`. Called with increasing indices from one thread.
    mutating func build(_ index: Int) throws(TrainingError) -> Batch
}

/// Delivers batches `0..<count` in order: built on the caller's thread, or one batch ahead on a background thread
/// (`prefetch`). Either way each batch is a function of its index only, so both give identical batches. After an
/// error no more batches are delivered. Dropping the stream stops the background thread (waiting for the batch it
/// is building).
struct BatchStream<Builder: BatchBuilding & ~Copyable>: ~Copyable {
    let count: Int
    private var local: Builder?
    private let prefetcher: Prefetcher<Builder.Batch>?
    private var nextIndex = 0

    init(count: Int, prefetch: Bool, makeBuilder: @escaping @Sendable () -> Builder) {
        self.count = count
        if prefetch, count > 0 {
            local = nil
            prefetcher = Prefetcher(count: count, makeBuilder: makeBuilder)
        } else {
            local = makeBuilder()
            prefetcher = nil
        }
    }

    deinit { prefetcher?.stop() }

    /// The next batch, or nil when the pass is complete.
    mutating func next() throws(TrainingError) -> Builder.Batch? {
        guard nextIndex < count else { return nil }
        let index = nextIndex
        nextIndex = count  // stays there if building fails
        let batch: Builder.Batch
        if let prefetcher {
            batch = try prefetcher.take()
        } else {
            guard var builder = local.take() else { return nil }
            do {
                batch = try builder.build(index)
            } catch {
                local = consume builder
                throw error
            }
            local = consume builder
        }
        nextIndex = index + 1
        return batch
    }
}

/// One producer thread that builds batches `0..<count` in order and keeps at most one finished batch waiting.
///
/// `@unchecked Sendable`: every mutable property (`waiting`, `stopped`, `producing`) is read and written only while
/// `condition` is locked; the other properties are constants.
final class Prefetcher<Batch: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    /// Built batches (or the failure that ended production) not yet taken, oldest first.
    private var waiting: [Result<Batch, TrainingError>] = []
    /// The consumer asked the producer to stop.
    private var stopped = false
    /// The producer thread has not finished yet.
    private var producing = true
    /// Finished batches that may wait for the consumer.
    private let depth = 1

    init<Builder: BatchBuilding & ~Copyable>(
        count: Int, makeBuilder: @escaping @Sendable () -> Builder
    ) where Builder.Batch == Batch {
        let thread = Thread { [self] in
            produce(count: count, builder: makeBuilder())
        }
        thread.name = "genrekit-batch-prefetch"
        thread.start()
    }

    private func produce<Builder: BatchBuilding & ~Copyable>(
        count: Int, builder: consuming Builder
    ) where Builder.Batch == Batch {
        var builder = builder
        for index in 0..<count {
            condition.lock()
            while waiting.count >= depth, !stopped { condition.wait() }
            let stop = stopped
            condition.unlock()
            if stop { break }

            let result: Result<Batch, TrainingError>
            do throws(TrainingError) {
                result = .success(try builder.build(index))
            } catch {
                result = .failure(error)
            }
            condition.lock()
            waiting.append(result)
            condition.broadcast()
            condition.unlock()
            if case .failure = result { break }
        }
        condition.lock()
        producing = false
        condition.broadcast()
        condition.unlock()
    }

    /// The next batch in order, waiting for the producer if needed.
    func take() throws(TrainingError) -> Batch {
        condition.lock()
        while waiting.isEmpty, producing { condition.wait() }
        guard !waiting.isEmpty else {
            condition.unlock()
            preconditionFailure("the batch producer finished without delivering every batch")
        }
        let result = waiting.removeFirst()
        condition.broadcast()
        condition.unlock()
        return try result.get()
    }

    /// Asks the producer to stop and waits until it has.
    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        while producing { condition.wait() }
        condition.unlock()
    }
}
