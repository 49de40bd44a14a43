import Foundation
import SystemPackage

/// Per-clip log-mel spectrograms (dB or log1p: `[db] kind`) on disk, keyed by the content of the audio file and
/// the parameters that shape the features, so that a rerun — after an interruption, or after files were added,
/// removed or changed — recomputes only what is missing. The same folder carries the spectrograms from the extraction half of a run to the shard
/// half (memory stays bounded by the workers, not by the corpus).
///
/// One file per clip, `<file hash>-<parameters hash>.clip`, little-endian: the bytes `GKCLIP03`, UInt32 length L and
/// UInt32 bands B; L bytes of JSON (the clip's ``ClipOutcome`` without its statistics: hash of the decoded samples,
/// flags, timings), zero padding to a multiple of 8; the statistics as Int64 count, B float64 means and B float64 M2;
/// then the spectrogram as float32 `[n_mels, frames]`. Written under a temporary name and renamed when complete; an
/// unreadable entry (or one of another format version) counts as missing.
public struct FeatureCache: Sendable {
    public let directory: String
    /// Hash of everything that shapes a clip's features (sample rate, resampler, fixed length, STFT, mel, `[db]`).
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

    /// The feature-shaping part of a configuration, as canonical JSON (the split, normalisation, shard size and
    /// name do not change a clip's spectrogram, so changing them keeps the cache). `[db]` with `kind = "decibels"`
    /// is hashed without its `kind`, as before `kind` existed, so that existing entries stay valid.
    static func featureParameters(_ c: PipelineConfiguration) -> String {
        struct Compression: Encodable {
            var db: PipelineConfiguration.Decibel
            func encode(to encoder: any Encoder) throws { try db.encode(to: encoder, writingKind: false) }
        }
        struct Shape: Encodable {
            var version: String
            var audio: PipelineConfiguration.Audio
            var stft: PipelineConfiguration.STFT
            var mel: PipelineConfiguration.Mel
            var db: Compression
        }
        var audio = c.audio
        audio.extensions = []
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let shape = Shape(version: algorithmVersion, audio: audio, stft: c.stft, mel: c.mel, db: Compression(db: c.db))
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
        guard let file = try? FileDescriptor.open(FilePath(path(key)), .readOnly) else { return nil }
        defer { try? file.close() }
        var header = [UInt8](repeating: 0, count: 16)
        guard file.readFully(&header), Array(header[0..<8]) == Self.magic else { return nil }
        let length = Int(littleEndianUInt32(header, at: 8)), bands = Int(littleEndianUInt32(header, at: 12))
        guard length > 0, length < 1 << 24, bands < 1 << 16 else { return nil }
        let jsonBytes = (length + 7) & ~7, statisticsBytes = 8 * (1 + 2 * bands)
        guard wanted else {
            guard (try? file.seek(offset: Int64(16 + jsonBytes + statisticsBytes), from: .start)) != nil else { return nil }
            if let values, !file.readFully(UnsafeMutableRawBufferPointer(values)) { return nil }
            return .some(nil)
        }
        var json = [UInt8](repeating: 0, count: jsonBytes)
        guard file.readFully(&json), var outcome = try? JSONDecoder().decode(ClipOutcome.self, from: Data(json[0..<length])) else {
            return nil
        }
        var count: Int64 = 0
        var moments = [Double](repeating: 0, count: 2 * bands)
        guard withUnsafeMutableBytes(of: &count, { file.readFully($0) }),
              moments.withUnsafeMutableBytes({ file.readFully($0) }), count >= 0
        else { return nil }
        outcome.statistics = BandStatistics(
            count: Int(Int64(littleEndian: count)), mean: Array(moments[0..<bands]), m2: Array(moments[bands...]))
        if let values, !file.readFully(UnsafeMutableRawBufferPointer(values)) { return nil }
        return outcome
    }

    /// Stores a clip's outcome and spectrogram (temporary name, renamed when complete). A failure here (a full
    /// disk) is a run-level error, not a bad file.
    public func store(_ key: String, outcome: ClipOutcome, values: UnsafeBufferPointer<Float>) throws(PipelineError) {
        let final = path(key), temporary = final + Self.partialMarker + Self.writerTag
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
        do {
            let file = try FileDescriptor.open(
                FilePath(temporary), .writeOnly, options: [.create, .truncate],
                permissions: [.ownerReadWrite, .groupRead, .otherRead])
            try file.closeAfter {
                _ = try bytes.withUnsafeBytes { try file.writeAll($0) }
                _ = try file.writeAll(UnsafeRawBufferPointer(values))
            }
        } catch {
            _ = try? FileManager.default.removeItem(atPath: temporary)
            throw PipelineError(path: final, reason: "cannot write the feature cache: \(error)")
        }
        do {
            try FileSystem.rename(temporary, to: final)
        } catch {
            _ = try? FileManager.default.removeItem(atPath: temporary)
            throw PipelineError(path: final, reason: "rename failed: \(error)")
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
            if (try? FileManager.default.removeItem(atPath: "\(directory)/\(name)")) != nil { removed += 1 }
        }
        return removed
    }

    /// Removes the whole folder.
    public func remove() { try? FileManager.default.removeItem(atPath: directory) }

    /// The infix of a temporary entry name.
    static let partialMarker = ".partial-"
    /// `<host>-<pid>` of this process: the suffix of the temporary names it writes.
    static let writerTag: String = {
        let host = ProcessInfo.processInfo.hostName.replacingOccurrences(of: "-", with: "_")
        return "\(host)-\(getpid())"
    }()
    /// A temporary entry of another host this old is abandoned (no entry takes that long to write).
    static let abandonedAfter: TimeInterval = 3600

    /// Leftovers of an interrupted run (temporary names) are never valid entries. Several processes may share a
    /// cache (the array tasks of a cross-validation, parts on a shared file system): a temporary entry is removed
    /// only when its writer is gone: a process of this host that no longer exists, or (another host) one an hour
    /// old.
    private func removePartialEntries() {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        let host = ProcessInfo.processInfo.hostName.replacingOccurrences(of: "-", with: "_")
        for name in names {
            guard let marker = name.range(of: Self.partialMarker) else { continue }
            let writer = name[marker.upperBound...]
            let path = "\(directory)/\(name)"
            var abandoned: Bool
            if let dash = writer.lastIndex(of: "-"), writer[..<dash] == host, let pid = Int32(writer[writer.index(after: dash)...]) {
                abandoned = pid != getpid() && kill(pid, 0) != 0 && errno == ESRCH
            } else {
                let modified = (try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate]) as? Date
                abandoned = modified.map { -$0.timeIntervalSinceNow > Self.abandonedAfter } ?? true
            }
            if abandoned { try? FileManager.default.removeItem(atPath: path) }
        }
    }
}

private func littleEndianUInt32(_ bytes: [UInt8], at i: Int) -> UInt32 {
    UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24
}

private func littleEndianBytes(_ value: UInt32) -> [UInt8] {
    [UInt8(value & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 24)]
}
