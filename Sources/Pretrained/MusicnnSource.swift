import Foundation
import TensorBundle

/// Where musicnn's `MSD_vgg` TensorFlow checkpoint is read from.
public enum MusicnnSource: Sendable, Equatable {
    /// The PyPI wheel `musicnn-0.1.0-py3-none-any.whl` (a zip), read in place: `musicnn/MSD_vgg/.index` and
    /// `.data-00000-of-00001`; its `musicnn-0.1.0.dist-info/METADATA` must say `Version: 0.1.0`.
    case wheel(path: String)
    /// An unzipped folder: either the checkpoint folder itself (holding `.index` and `.data-00000-of-00001`) or
    /// the wheel's unzipped root (holding `musicnn/MSD_vgg/`); a `musicnn-*.dist-info/METADATA` next to it, when
    /// present, must say version 0.1.0.
    case directory(path: String)

    /// The musicnn release whose weights and architecture the importer knows.
    public static let supportedVersion = "0.1.0"
    /// The checkpoint's folder inside the wheel.
    static let checkpointFolder = "musicnn/MSD_vgg/"
    static let dataSuffix = ".data-00000-of-00001"

    /// The file or folder, as given.
    public var path: String {
        switch self {
        case .wheel(let path), .directory(let path): path
        }
    }

    /// Reads the tensor bundle (after the version check).
    func bundle() throws(PretrainedError) -> TensorBundle {
        switch self {
        case .wheel(let path): try Self.wheelBundle(path)
        case .directory(let path): try Self.directoryBundle(path)
        }
    }

    private static func wheelBundle(_ path: String) throws(PretrainedError) -> TensorBundle {
        func fail(_ reason: String) -> PretrainedError { .source(path: path, reason: reason) }
        guard FileManager.default.fileExists(atPath: path) else { throw fail("no such wheel file") }
        let name = URL(fileURLWithPath: path).lastPathComponent
        let parts = name.split(separator: "-")
        if name.hasSuffix(".whl"), parts.count >= 2, parts[0] == "musicnn", parts[1] != supportedVersion {
            throw fail("is musicnn \(parts[1]); GenreKit imports musicnn \(supportedVersion) only")
        }
        let archive: ZipArchive
        do {
            archive = try ZipArchive(path: path)
        } catch {
            throw fail("not a readable wheel: \(error.reason)")
        }
        guard let metadata = archive.members.first(where: { $0.name.hasPrefix("musicnn-") && $0.name.hasSuffix(".dist-info/METADATA") }) else {
            throw fail("not a musicnn wheel (no musicnn-*.dist-info/METADATA inside)")
        }
        try checkVersion(metadata: try member(archive, metadata.name, wheel: path), label: path)
        let index = try member(archive, checkpointFolder + ".index", wheel: path)
        let data = try member(archive, checkpointFolder + dataSuffix, wheel: path)
        do {
            return try TensorBundle(indexBytes: index, dataBytes: data, source: "\(path):\(checkpointFolder).index")
        } catch {
            throw .bundle(error)
        }
    }

    private static func member(_ archive: ZipArchive, _ member: String, wheel: String) throws(PretrainedError) -> [UInt8] {
        guard let entry = archive.member(member) else { throw .source(path: wheel, reason: "the wheel has no \(member)") }
        do {
            return try archive.contents(entry)
        } catch {
            throw .source(path: wheel, reason: "damaged wheel: \(error.reason)")
        }
    }

    private static func directoryBundle(_ path: String) throws(PretrainedError) -> TensorBundle {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .source(path: path, reason: "no such folder")
        }
        let root = URL(fileURLWithPath: path)
        let prefix: URL
        let distInfoParent: URL
        if fm.fileExists(atPath: root.appendingPathComponent(".index").path) {
            prefix = root
            distInfoParent = root.deletingLastPathComponent().deletingLastPathComponent()
        } else if fm.fileExists(atPath: root.appendingPathComponent(checkpointFolder + ".index").path) {
            prefix = root.appendingPathComponent(checkpointFolder)
            distInfoParent = root
        } else {
            throw .source(path: path, reason: "holds neither .index (a checkpoint folder) nor \(checkpointFolder).index (an unzipped wheel)")
        }
        let candidates = (try? fm.contentsOfDirectory(atPath: distInfoParent.path)) ?? []
        for folder in candidates.sorted() where folder.hasPrefix("musicnn-") && folder.hasSuffix(".dist-info") {
            let metadata = distInfoParent.appendingPathComponent(folder).appendingPathComponent("METADATA")
            if let bytes = fm.contents(atPath: metadata.path) { try checkVersion(metadata: [UInt8](bytes), label: metadata.path) }
        }
        do {
            return try TensorBundle(prefixPath: prefix.path + "/")
        } catch {
            throw .bundle(error)
        }
    }

    /// `Version:` of a wheel's METADATA must be ``supportedVersion``.
    static func checkVersion(metadata: [UInt8], label: String) throws(PretrainedError) {
        let text = String(decoding: metadata, as: UTF8.self)
        let version = text.split(whereSeparator: \.isNewline).first { $0.hasPrefix("Version:") }
            .map { $0.dropFirst("Version:".count).trimmingCharacters(in: .whitespaces) }
        guard let version else { throw .source(path: label, reason: "the wheel's METADATA has no Version line") }
        guard version == supportedVersion else {
            throw .source(path: label, reason: "is musicnn \(version); GenreKit imports musicnn \(supportedVersion) only")
        }
    }
}
