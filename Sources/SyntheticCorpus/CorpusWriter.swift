internal import Foundation
internal import AudioIO
internal import GenreCore

/// A failure while writing the corpus that is not the audio writer's own (those are ``AudioIO/AudioError``s).
public struct SyntheticCorpusError: Error, CustomStringConvertible, Sendable {
    /// The file or folder concerned.
    public let path: String
    /// What went wrong.
    public let reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}

extension SyntheticCorpus {
    /// Writes the whole corpus under `root` (creating `root` and the genre folders), rendering and encoding clips
    /// in parallel on `options.workers` threads (default: every core). Each file is written under a hidden
    /// temporary name in its folder and renamed into place when complete, so a reader never sees a partial clip.
    /// The output does not depend on the number of threads. Returns the plans written, in ``plan(_:)`` order.
    /// Throws the first failure (an ``AudioIO/AudioError`` or a ``SyntheticCorpusError``); files already completed stay.
    @discardableResult
    public static func write(to root: String, options: Options) throws -> [ClipPlan] {
        let plans = plan(options)
        let rootURL = URL(fileURLWithPath: root, isDirectory: true)
        for genre in genres { try makeFolder(rootURL.appendingPathComponent(genre, isDirectory: true).path) }
        guard !plans.isEmpty else { return plans }
        let workerCount = min(plans.count, max(1, options.workers ?? ProcessInfo.processInfo.activeProcessorCount))
        let queue = ClipQueue(count: plans.count)
        let rootPath = rootURL.path
        DispatchQueue.concurrentPerform(iterations: workerCount) { _ in
            var buffers = RenderBuffers()
            var output = [Float]()
            while let next = queue.take() {
                do {
                    try writeClip(plans[next], root: rootPath, options: options, buffers: &buffers, output: &output)
                } catch {
                    queue.fail(error)
                }
            }
        }
        if let failure = queue.failure { throw failure }
        return plans
    }

    /// Creates `path` and any missing parent folders (like `mkdir -p`), failing with the first path that cannot be
    /// a folder and the system's reason.
    static func makeFolder(_ path: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            if isDirectory.boolValue { return }
            throw SyntheticCorpusError(path: path, reason: "cannot create a folder here: a file of that name exists")
        }
        let parent = URL(fileURLWithPath: path).deletingLastPathComponent().path
        if parent != path { try makeFolder(parent) }
        if mkdir(path, 0o755) != 0 && errno != EEXIST {
            throw SyntheticCorpusError(path: path, reason: "cannot create folder (\(String(cString: strerror(errno))))")
        }
    }

    /// Renders and writes one clip to `<root>/<relativePath>` via a temporary file in the same folder, reusing
    /// the worker's `buffers` and `output` storage.
    static func writeClip(_ clip: ClipPlan, root: String, options: Options, buffers: inout RenderBuffers,
                          output: inout [Float]) throws {
        let count = sampleCount(clip, options: options)
        if output.count < count { output = [Float](repeating: 0, count: count) }
        let finalURL = URL(fileURLWithPath: root).appendingPathComponent(clip.relativePath)
        let temporaryURL = finalURL.deletingLastPathComponent()
            .appendingPathComponent(".\(finalURL.lastPathComponent).\(UUID().uuidString).partial")
        do {
            try output.withUnsafeMutableBufferPointer { storage throws(AudioError) in
                let samples = UnsafeMutableBufferPointer(rebasing: storage[0..<count])
                render(clip, options: options, buffers: &buffers, into: samples)
                var writer = try SoundFileWriter(path: temporaryURL.path, format: clip.format, sampleRate: clip.sampleRate,
                                                 channels: clip.channels)
                try writer.write(interleaved: UnsafeBufferPointer(samples))
                try writer.close()
            }
        } catch {
            try? FileManager.default.removeItem(atPath: temporaryURL.path)
            throw error
        }
        if rename(temporaryURL.path, finalURL.path) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: temporaryURL.path)
            throw SyntheticCorpusError(path: finalURL.path, reason: "cannot rename the finished temporary file into place (\(reason))")
        }
    }
}

/// Hands out clip indices to the writer's worker threads and records the first failure (after which no new
/// clips are handed out).
///
private final class ClipQueue: Sendable {
    private struct State {
        var nextIndex = 0
        var firstFailure: (any Error)?
    }
    private let state = LockedValueBox(State())
    private let count: Int

    init(count: Int) { self.count = count }

    /// The next clip to write, or nil when all are taken or a worker failed.
    func take() -> Int? {
        state.withLockedValue { state in
            guard state.firstFailure == nil, state.nextIndex < count else { return nil }
            state.nextIndex += 1
            return state.nextIndex - 1
        }
    }

    func fail(_ error: any Error) {
        state.withLockedValue { state in
            if state.firstFailure == nil { state.firstFailure = error }
        }
    }

    var failure: (any Error)? { state.withLockedValue { $0.firstFailure } }
}
