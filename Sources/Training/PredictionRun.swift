import Dispatch
import Foundation
public import GenreCore
import Net
public import Pipeline

/// What became of one input of a prediction run.
public enum PredictionOutcome: Sendable {
    /// The file was predicted.
    case predicted(Predictor.Prediction)
    /// The file (or path) could not be predicted: why, in one line (without the path).
    case failed(path: String, reason: String)

    /// The input's path, as the results show it.
    public var path: String {
        switch self {
        case .predicted(let prediction): prediction.path
        case .failed(let path, _): path
        }
    }
}

/// How many inputs of a run were predicted and how many failed.
public struct PredictionTally: Sendable, Equatable {
    public var predicted = 0
    public var failed = 0
    public var total: Int { predicted + failed }
    /// Set when the run was asked to stop (``PredictionRun/Options/cancellation``): why ("SIGINT"). The outcomes
    /// delivered are then those of the first `total` inputs.
    public var interrupted: String?

    public init(predicted: Int = 0, failed: Int = 0) {
        self.predicted = predicted
        self.failed = failed
    }

    /// The run's result as `genre predict` exits with it.
    public enum Verdict: Sendable, Equatable {
        /// Every input was predicted (exit status 0).
        case allPredicted
        /// Some inputs were predicted, some not (exit status 2).
        case somePredicted
        /// No input was predicted (exit status 1).
        case nonePredicted
    }

    public var verdict: Verdict {
        failed == 0 ? .allPredicted : predicted == 0 ? .nonePredicted : .somePredicted
    }
}

/// `genre predict` and `genre tags` at folder scale: a checkpoint applied to many files on every core.
///
/// Workers: `jobs` threads (all active cores by default, never more than there are files) each own a
/// ``Predictor`` — a `Sequential` keeps activation buffers between calls, so a model is never shared between
/// threads. With more than one worker each network runs single-threaded (``Parallelism/batch(threads:)`` 1 and
/// one OpenBLAS thread): files in parallel, not windows, so the cores are not oversubscribed. With one worker the
/// network spreads each file's windows over the cores. Net's results do not depend on its thread count, so the
/// probabilities are the same, bit for bit, whatever `jobs`.
///
/// Order and memory: workers take files in input order; outcomes are handed to the caller on the calling thread in
/// input order as soon as a file and every file before it are done (later files wait, without their per-window
/// probabilities unless `keepWindows`). Nothing else of a file is kept once it is handed over.
public final class PredictionRun {
    /// Which kind of network the checkpoint must hold.
    public enum Network: Sendable, Equatable {
        /// A genre classifier (softmax output): `genre predict`.
        case classifier
        /// A tagging network (sigmoid output, e.g. the imported musicnn): `genre tags`.
        case tagger
    }

    /// How a run goes.
    public struct Options: Sendable, Equatable {
        /// Frames between window starts, `1...window length`; nil: the checkpoint's `[evaluate] window_hop`.
        public var windowHop: Int?
        /// Files predicted at once (worker threads, >= 1); nil: one per active core.
        public var jobs: Int?
        /// Keep every window's probabilities in the outcomes (for `--json`); false drops them before an outcome
        /// waits for its turn, so a long run holds only a few numbers per file.
        public var keepWindows: Bool

        /// Asks the run to stop: no file is started once it is set; the files in progress finish and are delivered.
        public var cancellation: CancellationFlag?

        public init(windowHop: Int? = nil, jobs: Int? = nil, keepWindows: Bool = true, cancellation: CancellationFlag? = nil) {
            self.windowHop = windowHop
            self.jobs = jobs
            self.keepWindows = keepWindows
            self.cancellation = cancellation
        }

        public static func == (a: Options, b: Options) -> Bool {
            a.windowHop == b.windowHop && a.jobs == b.jobs && a.keepWindows == b.keepWindows
                && a.cancellation === b.cancellation
        }
    }

    public let checkpointPath: String
    public let network: Network
    /// The checkpoint's class (tag) names: the order of every probability vector.
    public let classes: [String]
    /// The audio extensions the checkpoint's pipeline scans for (`[audio] extensions`): what folders are searched for.
    public let extensions: [String]
    /// The window length in frames (the network's input width).
    public let windowFrames: Int
    /// Loaded predictors (the first at `init`, more when a run needs more workers).
    private var predictors: [Predictor]

    /// Reads the checkpoint. Throws when it cannot be read or is not a `network`.
    public init(checkpoint path: String, network: Network = .classifier) throws(TrainingError) {
        let first = try Self.load(path, network)
        checkpointPath = path
        self.network = network
        classes = first.checkpoint.classes
        extensions = first.pipeline.audio.extensions
        windowFrames = first.checkpoint.windowFrames
        predictors = [first]
    }

    private static func load(_ path: String, _ network: Network) throws(TrainingError) -> Predictor {
        switch network {
        case .classifier: try Predictor(checkpointPath: path)
        case .tagger: try Predictor(tagger: path)
        }
    }

    /// The inputs `arguments` (files or folders) name, folders searched for ``extensions``.
    public func inputs(_ arguments: [String]) -> PredictionInputs {
        PredictionInputs(arguments: arguments, extensions: extensions)
    }

    /// Predicts every entry of `inputs` and calls `deliver(index, outcome)` on the calling thread once per entry,
    /// in input order. A file that cannot be predicted is a `.failed` outcome and the run goes on; its line
    /// (`error: <path>: <reason>`) goes to `progress.message`. Progress (`files`, done of total, failures in the
    /// phase name) goes to `progress` from the calling thread.
    ///
    /// - Throws: `.invalidOptions` for a window hop outside `1...window length` (before any file is read), the
    ///   error of loading another predictor, or the first error `deliver` throws (the workers then stop taking
    ///   files and the run returns once the files in progress are done).
    public func run(
        _ inputs: PredictionInputs, options: Options = Options(), progress: any ProgressObserver = SilentProgress(),
        deliver: (_ index: Int, _ outcome: PredictionOutcome) throws(TrainingError) -> Void
    ) throws(TrainingError) -> PredictionTally {
        if let hop = options.windowHop, !(1...windowFrames).contains(hop) {
            throw .invalidOptions(directory: checkpointPath, reason: "a window hop of \(hop) frames (must be "
                                  + "1...\(windowFrames), the window length)")
        }
        let entries = inputs.entries, count = entries.count
        let workers = max(1, min(options.jobs ?? ProcessInfo.processInfo.activeProcessorCount, count))
        while predictors.count < workers { predictors.append(try Self.load(checkpointPath, network)) }
        if workers > 1 {
            BLAS.threads = 1
            for predictor in predictors.prefix(workers) { predictor.model.parallelism = .batch(threads: 1) }
        } else {
            predictors[0].model.parallelism = .automatic
        }

        let board = ResultBoard()
        let next = LockedValueBox(0), stop = LockedValueBox(false)
        let finished = DispatchSemaphore(value: 0)
        let group = DispatchGroup()
        let hop = options.windowHop, keepWindows = options.keepWindows, cancellation = options.cancellation
        for worker in 0..<workers {
            let owned = OwnedPredictor(predictors[worker])
            DispatchQueue.global().async(group: group) {
                while !stop.value && cancellation?.cancelled == nil {
                    let i = next.withLockedValue { $0 += 1; return $0 - 1 }
                    if i >= count { break }
                    board.post(i, Self.predict(entries[i], with: owned.predictor, windowHop: hop, keepWindows: keepWindows))
                    finished.signal()
                }
            }
        }

        var tally = PredictionTally()
        var failure: TrainingError?
        let clock = ContinuousClock(), start = clock.now
        var lastDrawn = -1.0
        var delivered = 0
        func phase() -> String { tally.failed == 0 ? "files" : "files (\(tally.failed) failed)" }
        func deliverReady() {
            while delivered < count, failure == nil, let outcome = board.take(delivered) {
                switch outcome {
                case .predicted: tally.predicted += 1
                case .failed(let path, let reason):
                    tally.failed += 1
                    progress.message("error: \(path): \(reason)")
                }
                do throws(TrainingError) { try deliver(delivered, outcome) } catch { failure = error }
                delivered += 1
            }
        }
        while delivered < count && failure == nil {
            _ = finished.wait(timeout: .now() + 0.25)
            deliverReady()
            if let why = cancellation?.cancelled {
                // Workers start no file now: wait for those in progress, then deliver every finished one (the
                // inputs are taken in order, so they are the next ones).
                group.wait()
                deliverReady()
                tally.interrupted = why
                break
            }
            let elapsed = (clock.now - start).seconds
            if elapsed - lastDrawn >= 0.1 || delivered == count {
                lastDrawn = elapsed
                progress.progress(phase: phase(), done: delivered, total: count, elapsed: elapsed)
            }
        }
        stop.withLockedValue { $0 = true }
        group.wait()
        if let failure { throw failure }
        progress.finish(phase: phase(), done: delivered, elapsed: (clock.now - start).seconds)
        return tally
    }

    /// One entry's outcome on a worker thread.
    private static func predict(
        _ entry: PredictionInputs.Entry, with predictor: Predictor, windowHop: Int?, keepWindows: Bool
    ) -> PredictionOutcome {
        switch entry {
        case .unusable(let path, let reason):
            return .failed(path: path, reason: reason)
        case .file(let path):
            do {
                var prediction = try predictor.predict(path: path, windowHop: windowHop)
                if !keepWindows { prediction.windows = [] }
                return .predicted(prediction)
            } catch {
                return .failed(path: path, reason: Self.reason(error, path: path))
            }
        }
    }

    /// The error's line without the leading `<path>: ` (the path has a column of its own), on one line.
    static func reason(_ error: TrainingError, path: String) -> String {
        var text = error.description
        if text.hasPrefix(path + ": ") { text.removeFirst(path.count + 2) }
        return text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}

/// Outcomes the workers have finished and the calling thread has not taken yet, by input index.
private final class ResultBoard: Sendable {
    private let waiting = LockedValueBox<[Int: PredictionOutcome]>([:])

    func post(_ index: Int, _ outcome: PredictionOutcome) {
        waiting.withLockedValue { $0[index] = outcome }
    }

    func take(_ index: Int) -> PredictionOutcome? {
        waiting.withLockedValue { $0.removeValue(forKey: index) }
    }
}

/// Hands one ``Predictor`` (not `Sendable`: its network keeps buffers) to the one worker thread that uses it.
/// Invariant that makes the `@unchecked Sendable` sound: during a run exactly one worker touches the predictor,
/// and the calling thread touches it again only after `group.wait()` returned.
private struct OwnedPredictor: @unchecked Sendable {
    let predictor: Predictor
    init(_ predictor: Predictor) { self.predictor = predictor }
}
