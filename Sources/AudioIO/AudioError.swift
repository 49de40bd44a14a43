/// A failure in an audio library call, printed as one line:
/// `"<path>: <function>: <library message>"` (the path is omitted when there is none).
///
/// `function` is the C function (or the AudioIO step) that failed, `message` is the library's own
/// explanation (libsndfile's `sf_strerror`, libsoxr's error string, libsamplerate's `src_strerror`) or
/// AudioIO's reason for rejecting the input.
public struct AudioError: Error, CustomStringConvertible, Sendable {
    /// The file the operation was about, when there is one.
    public let path: String?
    /// The C function (or AudioIO operation) that failed, e.g. `"sf_open"`, `"soxr_process"`.
    public let function: String
    /// The library's message or AudioIO's reason.
    public let message: String

    /// Makes an error; line breaks in `message` are folded so the error prints as one line.
    public init(path: String?, function: String, message: String) {
        self.path = path
        self.function = function
        self.message = AudioError.oneLine(message)
    }

    /// `"<path>: <function>: <message>"`, or `"<function>: <message>"` without a path.
    public var description: String {
        if let path { return "\(path): \(function): \(message)" }
        return "\(function): \(message)"
    }

    /// libsndfile messages sometimes carry newlines (its parse log); keep errors on one line.
    private static func oneLine(_ text: String) -> String {
        let parts = text.split(whereSeparator: { $0 == "\n" || $0 == "\r" })
            .map { $0.trimmingWhitespace() }
            .filter { !$0.isEmpty }
        return parts.isEmpty ? "unknown error" : parts.joined(separator: " ")
    }
}

extension Substring {
    fileprivate func trimmingWhitespace() -> String {
        var slice = self[...]
        while let first = slice.first, first.isWhitespace { slice = slice.dropFirst() }
        while let last = slice.last, last.isWhitespace { slice = slice.dropLast() }
        return String(slice)
    }
}
