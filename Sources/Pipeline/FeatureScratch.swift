import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A folder of per-clip dB spectrograms (raw little-endian float32, [n_mels, frames]) kept between the two halves
/// of a run: features are computed before the training statistics are known and normalised after. Keeps memory
/// bounded by the number of workers, not by the corpus.
public struct FeatureScratch: Sendable {
    public let directory: String

    /// Creates (or reuses) the folder.
    public init(directory: String) throws(PipelineError) {
        self.directory = directory
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw PipelineError(path: directory, reason: "cannot create the scratch folder: \(CorpusScanner.reason(error))")
        }
    }

    func path(_ index: Int) -> String { "\(directory)/\(index).f32" }

    /// Writes clip `index` (under a temporary name, renamed when complete).
    public func store(_ index: Int, _ values: UnsafeBufferPointer<Float>) throws(PipelineError) {
        let final = path(index), temporary = final + ".partial"
        try Self.writeAll(temporary, UnsafeRawBufferPointer(values))
        guard rename(temporary, final) == 0 else {
            throw PipelineError(path: final, reason: "rename failed: \(String(cString: strerror(errno)))")
        }
    }

    /// Reads clip `index` into `values` (its size must match what was stored).
    public func load(_ index: Int, into values: UnsafeMutableBufferPointer<Float>) throws(PipelineError) {
        let file = path(index)
        let fd = open(file, O_RDONLY)
        guard fd >= 0 else { throw PipelineError(path: file, reason: "cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let raw = UnsafeMutableRawBufferPointer(values)
        var done = 0
        while done < raw.count {
            let n = read(fd, raw.baseAddress! + done, raw.count - done)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                throw PipelineError(path: file, reason: n == 0 ? "shorter than expected" : String(cString: strerror(errno)))
            }
            done += n
        }
    }

    /// Removes the folder and everything in it.
    public func remove() { try? FileManager.default.removeItem(atPath: directory) }

    static func writeAll(_ file: String, _ bytes: UnsafeRawBufferPointer) throws(PipelineError) {
        let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw PipelineError(path: file, reason: "cannot create: \(String(cString: strerror(errno)))") }
        var done = 0
        while done < bytes.count {
            let n = write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let reason = String(cString: strerror(errno))
                close(fd)
                unlink(file)
                throw PipelineError(path: file, reason: "write failed: \(reason)")
            }
            done += n
        }
        guard close(fd) == 0 else {
            unlink(file)
            throw PipelineError(path: file, reason: "close failed: \(String(cString: strerror(errno)))")
        }
    }
}

/// A run-level failure: names the file or folder and the reason, on one line.
public struct PipelineError: Error, CustomStringConvertible, Sendable {
    public let path: String?
    public let reason: String

    public init(path: String?, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { path.map { "\($0): \(reason)" } ?? reason }
}
