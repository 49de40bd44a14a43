import Dispatch
import Foundation
import GenreCore

/// How a model spreads one batch over the CPU cores.
public enum Parallelism: Sendable, Equatable, Hashable, Codable {
    /// Split each batch into chunks of samples that `threads` workers process at the same time, each calling
    /// single-threaded OpenBLAS (sets ``BLAS/threads`` to 1 while the model runs). Every loop runs in parallel,
    /// not only the matrix products; the fastest mode for batches of at least a few samples per thread.
    case batch(threads: Int)
    /// One thread walks the batch; OpenBLAS uses `threads` threads inside each matrix product (sets
    /// ``BLAS/threads``). The non-BLAS loops run on one core.
    case blas(threads: Int)

    /// The default: one worker per active processor core.
    public static var automatic: Parallelism { .batch(threads: max(1, ProcessInfo.processInfo.activeProcessorCount)) }
}

/// Hands a non-Sendable value to the worker closures of one `DispatchQueue.concurrentPerform` call.
/// Invariant that makes the `@unchecked Sendable` sound: the value is used only during that call, and the workers
/// write disjoint memory (each chunk of samples is processed by exactly one worker, scratch buffers are indexed by
/// worker, partial sums by chunk); the calling thread combines results after the call returns.
struct WorkerHandoff<T>: @unchecked Sendable {
    let value: T
}

/// Hands out chunk numbers `0..<count` to the workers of one batch, first come first served, under a lock.
struct ChunkDispenser: Sendable {
    /// The next chunk to hand out.
    private let next = LockedValueBox(0)
    private let count: Int

    init(count: Int) { self.count = count }

    func take() -> Int? {
        next.withLockedValue { next in
            guard next < count else { return nil }
            next += 1
            return next - 1
        }
    }
}

/// The batch-splitting helper used by every layer.
///
/// A batch is cut into a fixed number of contiguous chunks that depends only on the batch size
/// (``chunks(for:)``, at most 8), and the `count` workers pull chunks as they become free. Pulling balances the
/// load when a core is shared with other work; fixing the chunks independently of the worker count keeps every
/// floating-point sum in the same order, so results are bit-identical for any number of threads (partial
/// gradients are kept per chunk and added in chunk order).
struct Workers {
    /// Number of worker threads (>= 1).
    let count: Int

    /// Chunks per batch: `min(batch, 8)`.
    static func chunks(for batch: Int) -> Int { max(1, min(batch, 8)) }

    /// The samples of chunk `chunk` of `chunks` in a batch of `batch` (contiguous; sizes differ by at most one).
    @inline(__always)
    static func share(_ chunk: Int, of chunks: Int, batch: Int) -> Range<Int> {
        let base = batch / chunks, extra = batch % chunks
        let start = chunk * base + min(chunk, extra)
        return start..<(start + base + (chunk < extra ? 1 : 0))
    }

    /// How many workers a batch of `batch` samples actually uses (the scratch sets a stage must provide).
    @inline(__always)
    func parts(for batch: Int) -> Int { max(1, min(count, Self.chunks(for: batch))) }

    /// Runs `body(worker, chunk, samples)` once for every chunk of `0..<batch`, on up to ``count`` threads;
    /// returns when all chunks are done. `body` must only write memory belonging to its samples, to scratch indexed
    /// by `worker`, or to partial sums indexed by `chunk`.
    func runChunks(batch: Int, _ body: (_ worker: Int, _ chunk: Int, _ samples: Range<Int>) -> Void) {
        let chunks = Self.chunks(for: batch), parts = parts(for: batch)
        if parts == 1 {
            for chunk in 0..<chunks { body(0, chunk, Self.share(chunk, of: chunks, batch: batch)) }
            return
        }
        let dispenser = ChunkDispenser(count: chunks)
        withoutActuallyEscaping(body) { escapable in
            let handoff = WorkerHandoff(value: escapable)
            DispatchQueue.concurrentPerform(iterations: parts) { worker in
                while let chunk = dispenser.take() {
                    handoff.value(worker, chunk, Workers.share(chunk, of: chunks, batch: batch))
                }
            }
        }
    }

    /// ``runChunks(batch:_:)`` for loops that do not need the chunk number.
    func run(batch: Int, _ body: (_ worker: Int, _ samples: Range<Int>) -> Void) {
        runChunks(batch: batch) { worker, _, samples in body(worker, samples) }
    }
}
