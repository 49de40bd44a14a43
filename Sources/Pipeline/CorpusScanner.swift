import AudioIO
import Foundation

/// One audio file of the corpus, as its header describes it.
public struct ManifestEntry: Sendable, Codable, Equatable {
    /// Path relative to the corpus root, '/'-separated (`blues/blues.00000.au`).
    public var path: String
    /// Class index: position of `className` in the sorted class list.
    public var label: Int
    public var className: String
    /// Container and sample encoding as libsndfile names them (`AU`, `PCM_16`).
    public var container: String
    public var encoding: String
    /// Header values: Hz, channels, sample frames per channel, seconds.
    public var sampleRate: Int
    public var channels: Int
    public var frames: Int
    public var seconds: Double

    enum CodingKeys: String, CodingKey {
        case path, label, className = "class", container, encoding
        case sampleRate = "sample_rate", channels, frames, seconds
    }
}

/// A file that was not used, and why. `stage` says where it was found out (`scan`, `decode`, `duplicate`, ...).
public struct SkippedFile: Sendable, Codable, Equatable, CustomStringConvertible {
    public var path: String
    public var stage: String
    public var reason: String

    public init(path: String, stage: String, reason: String) {
        self.path = path
        self.stage = stage
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}

/// What the scan of a corpus found: the classes (sorted folder names), every usable file, and what was skipped.
public struct Manifest: Sendable, Codable {
    /// Absolute path of the corpus root.
    public var root: String
    public var classes: [String]
    /// Usable files, in class order then path order (UTF-8 byte order, as Python's `sorted`).
    public var entries: [ManifestEntry]
    public var skipped: [SkippedFile]

    public func absolutePath(of entry: ManifestEntry) -> String { root + "/" + entry.path }
}

/// The corpus cannot be scanned at all.
public struct ScanError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let reason: String
    public var description: String { "\(path): \(reason)" }
}

/// Scan stage: walks `<root>/<class>/<file>` (class folders may hold sub-folders), keeps files whose extension
/// is an audio extension (any case), and reads each header. A file whose header cannot be read, or whose header
/// is implausible, is recorded in `skipped` with its reason; the scan goes on.
public struct CorpusScanner: Sendable {
    public var root: String
    public var extensions: Set<String>
    /// Worker threads for header reads.
    public var jobs: Int
    /// Sample rates outside this range are treated as a corrupt header (Hz).
    public static let plausibleSampleRates = 1000...768_000
    public static let maximumChannels = 64

    public init(root: String, extensions: [String], jobs: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.root = root
        self.extensions = Set(extensions.map { $0.lowercased() })
        self.jobs = max(1, jobs)
    }

    public func scan() throws(ScanError) -> Manifest {
        let fm = FileManager.default
        let rootURL = URL(fileURLWithPath: root).standardizedFileURL
        let rootPath = rootURL.path
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: rootPath, isDirectory: &isDir) else {
            throw ScanError(path: root, reason: "corpus folder does not exist")
        }
        guard isDir.boolValue else { throw ScanError(path: root, reason: "corpus path is not a folder") }
        let top: [String]
        do {
            top = try fm.contentsOfDirectory(atPath: rootPath)
        } catch {
            throw ScanError(path: root, reason: "cannot list the folder (\(Self.reason(error)))")
        }

        var skipped: [SkippedFile] = []
        var classFolders: [String] = []
        for name in top.sorted(by: utf8Less) where !name.hasPrefix(".") {
            var d: ObjCBool = false
            let full = rootPath + "/" + name
            if fm.fileExists(atPath: full, isDirectory: &d), d.boolValue {
                classFolders.append(name)
            } else if isAudioName(name) || fm.fileExists(atPath: full) {
                skipped.append(SkippedFile(
                    path: name, stage: "scan", reason: "file at the corpus root, not in a class folder: ignored"))
            } else {
                skipped.append(SkippedFile(path: name, stage: "scan", reason: "broken link or unreadable entry"))
            }
        }

        // Collect candidate files per class folder.
        var found: [(path: String, folder: String)] = []
        for folder in classFolders {
            var files: [String] = []
            walk(rootPath + "/" + folder, relative: folder, depth: 0, into: &files, skipped: &skipped)
            files.sort(by: utf8Less)
            found += files.map { ($0, folder) }
        }

        // Read headers in parallel; one slot per file, written once.
        let candidates = found
        let results: [Result<AudioInfo, AudioError>] = parallelMap(count: candidates.count, workers: jobs) { i in
            Result { () throws(AudioError) in try AudioDecoder.info(path: rootPath + "/" + candidates[i].path) }
        }
        var usable: [(path: String, folder: String, info: AudioInfo)] = []
        for (i, result) in results.enumerated() {
            let (path, folder) = candidates[i]
            switch result {
            case .failure(let error):
                skipped.append(SkippedFile(path: path, stage: "scan", reason: error.message))
            case .success(let info):
                if let problem = Self.implausible(info) {
                    skipped.append(SkippedFile(path: path, stage: "scan", reason: problem))
                } else {
                    usable.append((path, folder, info))
                }
            }
        }

        // A class is a folder with at least one usable file; labels are positions in the sorted list.
        let used = Set(usable.map(\.folder))
        let classes = classFolders.filter { used.contains($0) }
        for folder in classFolders where !used.contains(folder) {
            skipped.append(SkippedFile(
                path: folder + "/", stage: "scan", reason: "class folder holds no usable audio file: not a class"))
        }
        guard !classes.isEmpty else {
            throw ScanError(path: root, reason: "no class folder with usable audio files (expected <root>/<class>/<clip>.wav|au|...)")
        }
        let labelOf = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
        let entries = usable.map { u in
            ManifestEntry(
                path: u.path, label: labelOf[u.folder]!, className: u.folder, container: u.info.container,
                encoding: u.info.encoding, sampleRate: u.info.sampleRate, channels: u.info.channels,
                frames: u.info.frames, seconds: u.info.seconds)
        }
        return Manifest(root: rootPath, classes: classes, entries: entries, skipped: skipped)
    }

    /// Why a header cannot be right, or nil.
    static func implausible(_ info: AudioInfo) -> String? {
        if !plausibleSampleRates.contains(info.sampleRate) {
            return "implausible sample rate in the header: \(info.sampleRate) Hz"
        }
        if info.channels < 1 || info.channels > maximumChannels {
            return "implausible channel count in the header: \(info.channels)"
        }
        if info.frames <= 0 { return "no audio frames" }
        return nil
    }

    private func isAudioName(_ name: String) -> Bool {
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return false }
        return extensions.contains(name[name.index(after: dot)...].lowercased())
    }

    /// Depth-first walk of a class folder; does not follow symbolic links to folders (no loops).
    private func walk(_ dir: String, relative: String, depth: Int, into files: inout [String], skipped: inout [SkippedFile]) {
        let fm = FileManager.default
        guard depth < 32 else {
            skipped.append(SkippedFile(path: relative + "/", stage: "scan", reason: "folders nested too deep: not read"))
            return
        }
        let names: [String]
        do {
            names = try fm.contentsOfDirectory(atPath: dir)
        } catch {
            skipped.append(SkippedFile(path: relative + "/", stage: "scan", reason: "cannot list folder (\(Self.reason(error)))"))
            return
        }
        for name in names where !name.hasPrefix(".") {
            let full = dir + "/" + name, rel = relative + "/" + name
            let type = (try? fm.attributesOfItem(atPath: full)[.type] as? FileAttributeType) ?? nil
            if type == .typeSymbolicLink {
                var d: ObjCBool = false
                if !fm.fileExists(atPath: full, isDirectory: &d) {
                    if isAudioName(name) {
                        skipped.append(SkippedFile(path: rel, stage: "scan", reason: "broken or looping symbolic link"))
                    }
                    continue
                }
                if d.boolValue {
                    skipped.append(SkippedFile(path: rel + "/", stage: "scan", reason: "symbolic link to a folder: not followed"))
                    continue
                }
                if isAudioName(name) { files.append(rel) }
            } else if type == .typeDirectory {
                walk(full, relative: rel, depth: depth + 1, into: &files, skipped: &skipped)
            } else if isAudioName(name) {
                if type == .typeRegular {
                    files.append(rel)
                } else {
                    skipped.append(SkippedFile(path: rel, stage: "scan", reason: "not a regular file"))
                }
            }
        }
    }

    static func reason(_ error: any Error) -> String {
        (error as NSError).localizedFailureReason ?? (error as NSError).localizedDescription
    }
}

/// Code-point order of UTF-8 strings (what Python's `sorted` gives), independent of Unicode normalisation rules.
func utf8Less(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }
