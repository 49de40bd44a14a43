internal import CSndFile
import Foundation
import GenreCore

/// The one place where libsndfile's return values become ``AudioError``s.
///
/// libsndfile reports failure in several shapes (a NULL handle, a short count, -1, a nonzero error
/// number); every wrapper call turns its shape into an error number and hands it here, so that all
/// errors carry the C function name and libsndfile's own message.
enum SndFileStatus {
    /// Throws when `code` (an `SF_ERR_*` / internal libsndfile error number) is not zero.
    /// - Parameters:
    ///   - handle: the open file, when there is one; its `sf_strerror` includes system-error detail.
    ///   - message: a message already fetched (used by `sf_open`, whose message lives in a global).
    static func check(
        _ code: Int32, _ function: String, path: String?, handle: OpaquePointer? = nil, message: String? = nil
    ) throws(AudioError) {
        guard code != 0 else { return }
        let text: String
        if let message {
            text = message
        } else if let handle, let cText = sf_strerror(handle) {
            text = String(cString: cText)
        } else if let cText = sf_error_number(code) {
            text = String(cString: cText)
        } else {
            text = "libsndfile error \(code)"
        }
        throw AudioError(path: path, function: function, message: text)
    }

    /// Opens `path` with `sf_open`. libsndfile keeps the reason for a failed open in process-wide
    /// globals (`sf_errno` and its message buffer), so opens are serialised by `openLock` and the message is
    /// read under the same lock; parallel workers would otherwise read each other's reasons.
    static func open(_ path: String, mode: Int32, info: inout SF_INFO) throws(AudioError) -> OpaquePointer {
        let (opened, code, failure) = openLock.withLockedValue { _ -> (OpaquePointer?, Int32, String?) in
            let handle = sf_open(path, mode, &info)
            guard handle == nil else { return (handle, 0, nil) }
            let code = sf_error(nil)
            return (nil, code == 0 ? Int32(SF_ERR_SYSTEM) : code, sf_strerror(nil).map { String(cString: $0) })
        }
        if let opened { return opened }
        var message = failure
        // libsndfile calls a directory or an empty file "Format not recognised": say what it is.
        if mode == CSndFile_mode_read(), let what = nonFileDescription(path) {
            message = "\(what) (\(message ?? "libsndfile error \(code)"))"
        } else if mode == CSndFile_mode_read(), let text = message, text.contains("SF_INFO struct incomplete") {
            // libsndfile's (internal-sounding) words for a parsed header that fails its checks (rate < 1, channels < 1).
            message = "the header declares an invalid sample rate, channel count or length (\(text))"
        }
        try check(code, "sf_open", path: path, message: message)
        preconditionFailure("sf_open returned NULL without an error")
    }

    /// "is a directory" / "is an empty file" when `path` is one of those, else nil.
    private static func nonFileDescription(_ path: String) -> String? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return nil }
        if isDirectory.boolValue { return "is a directory, not a sound file" }
        if let size = try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber, size.intValue == 0 {
            return "is an empty file"
        }
        return nil
    }

    /// Serialises `sf_open` and the read of its global error state (see ``open(_:mode:info:)``).
    private static let openLock = LockedValueBox<Void>(())
}
