import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Per-clip dB spectrograms on disk, keyed by the content of the audio file and the parameters that shape the
/// features, so that a rerun — after an interruption, or after files were added, removed or changed — recomputes
/// only what is missing. The same folder carries the spectrograms from the extraction half of a run to the shard
/// half (memory stays bounded by the workers, not by the corpus).
///
/// One file per clip, `<file hash>-<parameters hash>.clip`, little-endian: the bytes `GKCLIP03`, UInt32 length L and
/// UInt32 bands B; L bytes of JSON (the clip's ``ClipOutcome`` without its statistics: hash of the decoded samples,
/// flags, timings), zero padding to a multiple of 8; the statistics as Int64 count, B float64 means and B float64 M2;
/// then the spectrogram as float32 `[n_mels, frames]`. Written under a temporary name and renamed when complete; an
/// unreadable entry (or one of another format version) counts as missing.
public struct FeatureCache: Sendable {
    public let directory: String
    /// Hash of everything that shapes a clip's features (sample rate, resampler, fixed length, STFT, mel, dB).
    public let parametersKey: String
    /// Entries are read (false with `--no-cache`: everything is recomputed, entries are still written and used
    /// between the two halves of the run).
    public let reuse: Bool

    static let magic = Array("GKCLIP03".utf8)
    /// Bumped whenever the per-clip computation changes in a way the parameters do not show.
    static let algorithmVersion = "1"

    public init(directory: String, configuration: PipelineConfiguration, reuse: Bool) throws(PipelineError) {
        self.directory = directory
        self.reuse = reuse
        parametersKey = ContentHash(bytes: Array(Self.featureParameters(configuration).utf8)).description
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw PipelineError(path: directory, reason: "cannot create the feature cache: \(CorpusScanner.reason(error))")
        }
        removePartialEntries()
    }

    /// An existing cache, only to be read (a part's, by the merge): nothing on disk is created or removed.
    public init(reading directory: String, parametersKey: String) {
        self.directory = directory
        self.parametersKey = parametersKey
        reuse = true
    }

    /// The feature-shaping part of a configuration, as canonical JSON (the split, shard size and name do not
    /// change a clip's spectrogram, so changing them keeps the cache).
    static func featureParameters(_ c: PipelineConfiguration) -> String {
        struct Shape: Encodable {
            var version: String
            var audio: PipelineConfiguration.Audio
            var stft: PipelineConfiguration.STFT
            var mel: PipelineConfiguration.Mel
            var db: PipelineConfiguration.Decibel
        }
        var audio = c.audio
        audio.extensions = []
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let shape = Shape(version: algorithmVersion, audio: audio, stft: c.stft, mel: c.mel, db: c.db)
        return String(decoding: try! encoder.encode(shape), as: UTF8.self)
    }

    /// The entry name of a file with content hash `file`.
    public func key(for file: ContentHash) -> String { "\(file)-\(parametersKey)" }

    func path(_ key: String) -> String { "\(directory)/\(key).clip" }

    /// The outcome stored for `key` (and, with `values`, the spectrogram read into it), or nil when there is no
    /// usable entry.
    public func load(_ key: String, into values: UnsafeMutableBufferPointer<Float>?) -> ClipOutcome? {
        read(key, outcome: true, into: values) ?? nil
    }

    /// Reads an entry: its outcome when `outcome` (else only its layout is checked and the JSON skipped), and its
    /// spectrogram into `values`. The outer nil: no usable entry.
    private func read(_ key: String, outcome wanted: Bool, into values: UnsafeMutableBufferPointer<Float>?) -> ClipOutcome?? {
        let fd = open(path(key), O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var header = [UInt8](repeating: 0, count: 16)
        guard readFully(fd, &header), Array(header[0..<8]) == Self.magic else { return nil }
        let length = Int(littleEndianUInt32(header, at: 8)), bands = Int(littleEndianUInt32(header, at: 12))
        guard length > 0, length < 1 << 24, bands < 1 << 16 else { return nil }
        let jsonBytes = (length + 7) & ~7, statisticsBytes = 8 * (1 + 2 * bands)
        guard wanted else {
            guard lseek(fd, off_t(16 + jsonBytes + statisticsBytes), SEEK_SET) >= 0 else { return nil }
            if let values, !readFully(fd, UnsafeMutableRawBufferPointer(values)) { return nil }
            return .some(nil)
        }
        var json = [UInt8](repeating: 0, count: jsonBytes)
        guard readFully(fd, &json), var outcome = try? JSONDecoder().decode(ClipOutcome.self, from: Data(json[0..<length])) else {
            return nil
        }
        var count: Int64 = 0
        var moments = [Double](repeating: 0, count: 2 * bands)
        guard withUnsafeMutableBytes(of: &count, { readFully(fd, $0) }),
              moments.withUnsafeMutableBytes({ readFully(fd, $0) }), count >= 0
        else { return nil }
        outcome.statistics = BandStatistics(
            count: Int(Int64(littleEndian: count)), mean: Array(moments[0..<bands]), m2: Array(moments[bands...]))
        if let values, !readFully(fd, UnsafeMutableRawBufferPointer(values)) { return nil }
        return outcome
    }

    /// Stores a clip's outcome and spectrogram (temporary name, renamed when complete). A failure here (a full
    /// disk) is a run-level error, not a bad file.
    public func store(_ key: String, outcome: ClipOutcome, values: UnsafeBufferPointer<Float>) throws(PipelineError) {
        let final = path(key), temporary = final + ".partial-\(getpid())"
        // The statistics (2 x bands doubles) go in binary after the JSON: encoding them as text cost more than the
        // rest of the entry.
        let statistics = outcome.statistics
        var described = outcome
        described.statistics = BandStatistics(bands: 0)
        var bytes = [UInt8](try! JSONEncoder().encode(described))
        let length = UInt32(bytes.count), bands = UInt32(statistics.bands)
        bytes += [UInt8](repeating: 0, count: ((bytes.count + 7) & ~7) - bytes.count)
        bytes = Self.magic + littleEndianBytes(length) + littleEndianBytes(bands) + bytes
        withUnsafeBytes(of: Int64(statistics.count).littleEndian) { bytes += $0 }
        (statistics.mean + statistics.m2).withUnsafeBytes { bytes += $0 }
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw PipelineError(path: temporary, reason: "cannot create: \(String(cString: strerror(errno)))") }
        var ok = bytes.withUnsafeBytes { writeFully(fd, $0) }
        if ok { ok = writeFully(fd, UnsafeRawBufferPointer(values)) }
        let reason = String(cString: strerror(errno))
        if close(fd) != 0 { ok = false }
        guard ok else {
            unlink(temporary)
            throw PipelineError(path: final, reason: "cannot write the feature cache: \(reason)")
        }
        guard rename(temporary, final) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw PipelineError(path: final, reason: "rename failed: \(reason)")
        }
    }

    /// Reads the spectrogram of an entry this run stored or found (its outcome, already known, is not decoded).
    public func loadValues(_ key: String, into values: UnsafeMutableBufferPointer<Float>) throws(PipelineError) {
        guard read(key, outcome: false, into: values) != nil else {
            throw PipelineError(path: path(key), reason: "feature cache entry vanished or is damaged; run again")
        }
    }

    /// Removes entries not in `keep` (after a complete run: files removed from the corpus, or another
    /// configuration's features).
    public func prune(keeping keep: Set<String>) -> Int {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return 0 }
        var removed = 0
        for name in names where name.hasSuffix(".clip") && !keep.contains(String(name.dropLast(5))) {
            if unlink("\(directory)/\(name)") == 0 { removed += 1 }
        }
        return removed
    }

    /// Removes the whole folder.
    public func remove() { try? FileManager.default.removeItem(atPath: directory) }

    /// Leftovers of an interrupted run (temporary names) are never valid entries.
    private func removePartialEntries() {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for name in names where name.contains(".partial-") { unlink("\(directory)/\(name)") }
    }
}

private func littleEndianUInt32(_ bytes: [UInt8], at i: Int) -> UInt32 {
    UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24
}

private func littleEndianBytes(_ value: UInt32) -> [UInt8] {
    [UInt8(value & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 24)]
}

private func readFully(_ fd: Int32, _ bytes: inout [UInt8]) -> Bool {
    bytes.withUnsafeMutableBytes { readFully(fd, $0) }
}

private func readFully(_ fd: Int32, _ raw: UnsafeMutableRawBufferPointer) -> Bool {
    var done = 0
    while done < raw.count {
        let n = read(fd, raw.baseAddress! + done, raw.count - done)
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { return false }
        done += n
    }
    return true
}

private func writeFully(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
    var done = 0
    while done < bytes.count {
        let n = write(fd, bytes.baseAddress! + done, bytes.count - done)
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { return false }
        done += n
    }
    return true
}

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

    public var description: String { path.map { "\($0): \(reason)" } ?? reason }
}

/// The first run-level error any worker met (the others stop at their next clip).
final class FirstError: @unchecked Sendable {
    // Invariant: `first` is only touched while holding `lock`.
    private let lock = NSLock()
    private var first: PipelineError?
    func record(_ e: PipelineError) {
        lock.lock()
        defer { lock.unlock() }
        if first == nil { first = e }
    }
    var error: PipelineError? {
        lock.lock()
        defer { lock.unlock() }
        return first
    }
}

/// An exclusive lock on an output folder (`.genrekit.lock`, flock): two runs never write the same shards and cache.
/// Released by `release()`, or by the system when the process ends, however it ends.
final class OutputLock {
    private var fd: Int32

    init(directory: String) throws(PipelineError) {
        let path = directory + "/.genrekit.lock"
        fd = open(path, O_RDWR | O_CREAT, 0o644)
        guard fd >= 0 else { throw PipelineError(path: path, reason: "cannot create the lock file: \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw PipelineError(path: directory, reason: "another genre preprocess is writing to this folder")
        }
    }

    func release() {
        if fd >= 0 { close(fd) }
        fd = -1
    }

    deinit { release() }
}

/// Asks a long job to stop at the next safe point (between clips); set from a signal handler's queue.
public final class CancellationFlag: @unchecked Sendable {
    // Invariant: `reason` is only touched while holding `lock`.
    private let lock = NSLock()
    private var reason: String?

    public init() {}

    /// Requests the stop, with what caused it ("SIGINT").
    public func cancel(_ why: String) {
        lock.lock()
        defer { lock.unlock() }
        if reason == nil { reason = why }
    }

    /// Why the job was asked to stop, or nil.
    public var cancelled: String? {
        lock.lock()
        defer { lock.unlock() }
        return reason
    }
}
