import Foundation
public import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The file operations Pipeline needs beyond Foundation's, through swift-system (`FileDescriptor`, `Errno`):
/// whole reads, atomic replacement of a file, rename. ``writeAtomically(_:to:)`` is public: every output the
/// modules above write whole (the ONNX export among them) goes through it.
public enum FileSystem {
    /// Writes `bytes` to `path` atomically: into a temporary file beside it (`.<name>.tmp-<pid>`), renamed over
    /// `path` when complete, so a reader sees the old file or the new one, never a part.
    /// Writes `value` as pretty JSON with sorted keys (the layout of `report.json`, `part.json` and scan listings),
    /// atomically.
    static func writeJSONAtomically(_ value: some Encodable, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try writeAtomically(encoder.encode(value), to: path)
    }

    public static func writeAtomically(_ bytes: some ContiguousBytes, to path: String) throws(Errno) {
        let target = FilePath(path)
        let temporary = target.removingLastComponent().appending(".\(target.lastComponent?.string ?? "file").tmp-\(getpid())")
        do {
            let file = try FileDescriptor.open(
                temporary, .writeOnly, options: [.create, .truncate], permissions: [.ownerReadWrite, .groupRead, .otherRead])
            try file.closeAfter { _ = try bytes.withUnsafeBytes { try file.writeAll($0) } }
            try rename(temporary.string, to: path)
        } catch {
            _ = try? FileManager.default.removeItem(atPath: temporary.string)
            throw (error as? Errno) ?? Errno.ioError
        }
    }

    /// Renames `source` to `destination`, replacing it (rename(2), which swift-system does not wrap).
    static func rename(_ source: String, to destination: String) throws(Errno) {
        let status = source.withCString { from in destination.withCString { to in
            #if canImport(Glibc)
            Glibc.rename(from, to)
            #else
            Darwin.rename(from, to)
            #endif
        } }
        guard status == 0 else { throw Errno(rawValue: errno) }
    }
}

extension FileDescriptor {
    /// Fills `buffer` from the current position (reads interrupted by a signal are retried); false at an error or
    /// when the file ends first.
    func readFully(_ buffer: UnsafeMutableRawBufferPointer) -> Bool {
        var done = 0
        while done < buffer.count {
            guard let n = try? read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[done...])), n > 0 else { return false }
            done += n
        }
        return true
    }

    /// Fills `bytes` from the current position; false at an error or when the file ends first.
    func readFully(_ bytes: inout [UInt8]) -> Bool {
        bytes.withUnsafeMutableBytes { readFully($0) }
    }
}
