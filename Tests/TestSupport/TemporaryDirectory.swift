import Foundation

/// A fresh directory under the system temporary directory (`mkdtemp`, so never shared with another test or
/// process), removed with everything in it when the last reference is released.
public final class TemporaryDirectory: Sendable {
    /// The directory's absolute path, without a trailing slash.
    public let path: String

    /// Creates `<tmp>/genrekit-<label>-XXXXXX`; `label` says which test made it (only letters, digits, `-`, `_`
    /// and `.` are kept).
    public init(_ label: String = "tests") throws {
        var base = NSTemporaryDirectory()
        while base.count > 1, base.hasSuffix("/") { base.removeLast() }
        let safe = String(label.filter { $0.isLetter || $0.isNumber || "-_.".contains($0) }.prefix(60))
        let pattern = base + "/genrekit-\(safe)-XXXXXX"
        var template = Array(pattern.utf8CString)
        guard let created = mkdtemp(&template) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: pattern])
        }
        path = String(cString: created)
    }

    /// The path of `name` (may contain `/`) inside the directory.
    public func file(_ name: String) -> String { path + "/" + name }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
