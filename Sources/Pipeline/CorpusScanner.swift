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

extension Manifest {
    /// The manifest of a whole corpus from the scans of its parts (or from one scan of all of it): a class is a
    /// folder with at least one usable file, and labels are positions in the sorted list. Folder names that differ
    /// only in Unicode normalisation (NFC `café` and NFD `café`, both possible on Linux) are one class, named by the
    /// first spelling in UTF-8 order: Swift strings compare them as equal, and so does every dictionary keyed by
    /// class name downstream. The result does not depend on how the corpus was partitioned.
    /// - Throws: ``ScanError`` when no class folder holds a usable file.
    public init(assembling scans: [CorpusScan]) throws(ScanError) {
        let root = scans.first?.root ?? ""
        let classFolders = scans.first?.classFolders ?? []
        let usable = scans.flatMap(\.files)
        var skipped = scans.flatMap(\.skipped)
        let used = Set(usable.map(\.folder))
        var className: [String: String] = [:]
        var classes: [String] = []
        for folder in classFolders where used.contains(folder) && className[folder] == nil {
            className[folder] = folder
            classes.append(folder)
        }
        for folder in classFolders where !used.contains(folder) {
            skipped.append(SkippedFile(
                path: folder + "/", stage: "scan", reason: "class folder holds no usable audio file: not a class"))
        }
        guard !classes.isEmpty else {
            throw ScanError(path: root, reason: "no class folder with usable audio files (expected <root>/<class>/<clip>.wav|au|...)")
        }
        let labelOf = Dictionary(classes.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        let entries = usable.map { u in
            ManifestEntry(
                path: u.path, label: labelOf[u.folder]!, className: className[u.folder]!, container: u.container,
                encoding: u.encoding, sampleRate: u.sampleRate, channels: u.channels, frames: u.frames, seconds: u.seconds)
        }.sorted { $0.label != $1.label ? $0.label < $1.label : utf8Less($0.path, $1.path) }
        self.init(root: root, classes: classes, entries: entries, skipped: skipped)
    }
}

/// What a scan of a corpus (or of one part of it, see ``Partition``) found before classes are assigned: the class
/// folders, the usable files with their headers, and what was skipped. ``Manifest/init(assembling:)`` turns the
/// scans of all parts into the corpus manifest.
public struct CorpusScan: Sendable, Codable, Equatable {
    /// Absolute path of the corpus root.
    public var root: String
    /// Every folder at the root (the candidate classes), in UTF-8 order.
    public var classFolders: [String]
    /// Usable files of this scan, in folder order then path order.
    public var files: [ScannedFile]
    public var skipped: [SkippedFile]
    /// Audio-named files the walk found in the whole corpus, and a hash of their paths: parts that agree on these
    /// saw the same corpus.
    public var listedFiles: Int
    public var listingDigest: String

    enum CodingKeys: String, CodingKey {
        case root, classFolders = "class_folders", files, skipped, listedFiles = "listed_files"
        case listingDigest = "listing_digest"
    }
}

/// A usable file as its header describes it, before it has a label.
public struct ScannedFile: Sendable, Codable, Equatable {
    /// Path relative to the corpus root; `folder` is its class folder.
    public var path: String
    public var folder: String
    public var container: String
    public var encoding: String
    /// Hz, channels, sample frames per channel, seconds.
    public var sampleRate: Int
    public var channels: Int
    public var frames: Int
    public var seconds: Double

    enum CodingKeys: String, CodingKey {
        case path, folder, container, encoding, sampleRate = "sample_rate", channels, frames, seconds
    }
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
///
/// What counts as what: a folder is always a folder, even when named like an audio file (`rock/live.wav/` is
/// walked into; its clips keep paths like `rock/live.wav/take 1.wav`). Symbolic links to files are followed;
/// links to folders are not (reported: no loops, no clip read twice); dangling links and link loops named like
/// audio files are reported with their reason. Names are compared as UTF-8 bytes (NFC and NFD spellings are
/// different files), except class names (see ``scan()``).
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

    /// Walks the corpus and reads every candidate's header (in parallel).
    /// Class folders whose names differ only in Unicode normalisation (NFC/NFD) are one class, named by the first
    /// spelling in UTF-8 order; their files keep their own byte-exact paths.
    /// - Throws: ``ScanError`` when `root` is missing, not a folder, unlistable, or holds no usable class.
    public func scan() throws(ScanError) -> Manifest {
        try Manifest(assembling: [scan(part: nil)])
    }

    /// Walks the whole corpus (cheap: folder listings only) and reads the headers of the files of `part` (all of
    /// them when nil). What the walk finds unusable is reported by the part its path belongs to, so the parts'
    /// scans are disjoint and together hold exactly what one scan of the whole corpus holds.
    /// - Throws: ``ScanError`` when `root` is missing, not a folder or unlistable.
    public func scan(part: Partition?) throws(ScanError) -> CorpusScan {
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
                skipped.append(SkippedFile(path: name, stage: "scan", reason: Self.brokenLinkReason(full)))
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
        var listing: [UInt8] = []
        for f in found { listing += Array(f.path.utf8) + [0] }
        let listingDigest = ContentHash(bytes: listing).description
        let listedFiles = found.count
        if let part {
            found = found.filter { part.contains($0.path) }
            skipped = skipped.filter { part.contains($0.path) }
        }

        // Read headers in parallel; one slot per file, written once.
        let candidates = found
        let results: [Result<AudioInfo, AudioError>] = parallelMap(count: candidates.count, workers: jobs) { i in
            Result { () throws(AudioError) in try AudioDecoder.info(path: rootPath + "/" + candidates[i].path) }
        }
        var usable: [ScannedFile] = []
        for (i, result) in results.enumerated() {
            let (path, folder) = candidates[i]
            switch result {
            case .failure(let error):
                skipped.append(SkippedFile(path: path, stage: "scan", reason: error.message))
            case .success(let info):
                if var problem = Self.implausible(info) {
                    if info.frames <= 0, Self.byteSize(rootPath + "/" + path) == 0 { problem += ": the file is empty" }
                    skipped.append(SkippedFile(path: path, stage: "scan", reason: problem))
                } else {
                    usable.append(ScannedFile(
                        path: path, folder: folder, container: info.container, encoding: info.encoding,
                        sampleRate: info.sampleRate, channels: info.channels, frames: info.frames, seconds: info.seconds))
                }
            }
        }
        return CorpusScan(
            root: rootPath, classFolders: classFolders, files: usable, skipped: skipped, listedFiles: listedFiles,
            listingDigest: listingDigest)
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
        for name in names.sorted(by: utf8Less) where !name.hasPrefix(".") {
            let full = dir + "/" + name, rel = relative + "/" + name
            let type = (try? fm.attributesOfItem(atPath: full)[.type] as? FileAttributeType) ?? nil
            if type == .typeSymbolicLink {
                var d: ObjCBool = false
                if !fm.fileExists(atPath: full, isDirectory: &d) {
                    if isAudioName(name) {
                        skipped.append(SkippedFile(path: rel, stage: "scan", reason: Self.brokenLinkReason(full)))
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

    /// Why `path`, which exists as a directory entry but cannot be followed, is not usable: a symbolic link
    /// loop (`ELOOP`), a dangling link (naming its target), or another `stat` error.
    static func brokenLinkReason(_ path: String) -> String {
        var status = stat()
        if stat(path, &status) == 0 { return "unreadable entry" }
        let code = errno
        if code == ELOOP { return "symbolic link loop (it leads back to itself): not followed" }
        if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: path) {
            if code == ENOENT { return "dangling symbolic link: its target '\(target)' does not exist" }
            return "symbolic link to '\(target)' cannot be followed (\(String(cString: strerror(code))))"
        }
        return "unreadable entry (\(String(cString: strerror(code))))"
    }

    /// Size of the file at `path` in bytes, or nil when it cannot be read.
    static func byteSize(_ path: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue
    }

    static func reason(_ error: any Error) -> String {
        (error as NSError).localizedFailureReason ?? (error as NSError).localizedDescription
    }
}

/// Code-point order of UTF-8 strings (what Python's `sorted` gives), independent of Unicode normalisation rules.
func utf8Less(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }

extension ManifestEntry {
    /// The header values as the scan read them (what extraction plans its reads with).
    var header: AudioInfo {
        AudioInfo(sampleRate: sampleRate, channels: channels, frames: frames, container: container, encoding: encoding)
    }
}

extension ScannedFile {
    var header: AudioInfo {
        AudioInfo(sampleRate: sampleRate, channels: channels, frames: frames, container: container, encoding: encoding)
    }
}
