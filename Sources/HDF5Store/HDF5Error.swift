internal import CHDF5

/// A failed HDF5 operation: which function failed, on which file and object, and why.
///
/// Errors raised by the C library carry the C function's name (`H5Fopen`, `H5Dwrite`, ...) and a reason taken from
/// HDF5's own error stack (its outermost and innermost descriptions, e.g. "unable to open file: file signature not
/// found"). Errors found by HDF5Store's own checks (a buffer of the wrong size, an unsupported attribute type) carry
/// the name of the Swift operation instead.
public struct HDF5Error: Error, CustomStringConvertible, Sendable, Equatable {
    /// The HDF5 C function that failed (e.g. `H5Dopen2`) or the HDF5Store operation that rejected the request.
    public var function: String
    /// Why it failed: HDF5's error-stack descriptions, or HDF5Store's explanation.
    public var message: String
    /// The file the operation was working on, when there is one.
    public var path: String?
    /// The object inside the file (dataset, group or attribute name), when there is one.
    public var object: String?

    /// An error about `object` in the file at `path` (both optional), raised by `function`, for `message`.
    public init(function: String, message: String, path: String? = nil, object: String? = nil) {
        self.function = function
        self.message = message
        self.path = path
        self.object = object
    }

    /// One line: `<path>: <function> '<object>': <reason>`.
    public var description: String {
        var line = "\(path ?? "<no file>"): \(function)"
        if let object { line += " '\(object)'" }
        return line + ": " + message
    }
}

// MARK: - The checker every C call goes through

/// Calls one HDF5 C function and turns a negative return value (a failed `herr_t`, `hid_t`, `htri_t`, `ssize_t`,
/// ...) into an `HDF5Error` built from the calling thread's HDF5 error stack. Automatic error printing is switched
/// off for the calling thread first (it is a per-thread setting in the thread-safe build).
@inline(__always)
func hdf5<Result: SignedInteger & FixedWidthInteger>(
    _ function: StaticString, path: String?, object: String? = nil, _ call: () -> Result
) throws(HDF5Error) -> Result {
    _ = CHDF5_silence_automatic_error_printing()
    let result = call()
    if result < 0 { throw HDF5Error.fromErrorStack(function: function, path: path, object: object) }
    return result
}

/// Like `hdf5(_:path:object:_:)` for C functions whose failure value is not a negative number (`H5Tget_size` returns
/// 0, `H5Tget_class` returns `H5T_NO_CLASS`): `failed` says which results are failures.
@inline(__always)
func hdf5<Result>(
    _ function: StaticString, path: String?, object: String? = nil, failsWhen failed: (Result) -> Bool,
    _ call: () -> Result
) throws(HDF5Error) -> Result {
    _ = CHDF5_silence_automatic_error_printing()
    let result = call()
    if failed(result) { throw HDF5Error.fromErrorStack(function: function, path: path, object: object) }
    return result
}

extension HDF5Error {
    /// An error found by HDF5Store itself (not reported by the C library).
    static func usage(_ operation: String, _ message: String, path: String?, object: String? = nil) -> HDF5Error {
        HDF5Error(function: operation, message: message, path: path, object: object)
    }

    /// Reads (then clears) the calling thread's HDF5 error stack into an error. The reason is the outermost
    /// description (what the API call could not do) followed by the innermost one (the root cause), e.g.
    /// "unable to open file: file signature not found".
    static func fromErrorStack(function: StaticString, path: String?, object: String?) -> HDF5Error {
        var entries: [String] = []
        withUnsafeMutablePointer(to: &entries) { entriesPointer in
            _ = H5Ewalk2(CHDF5_e_default(), H5E_WALK_DOWNWARD, { _, errorPointer, clientData in
                guard let error = errorPointer?.pointee, let clientData else { return 0 }
                var text = error.desc.map { String(cString: $0) } ?? ""
                if text.isEmpty { text = HDF5Error.messageText(error.min_num) }
                if text.isEmpty { text = HDF5Error.messageText(error.maj_num) }
                if text.isEmpty, let name = error.func_name { text = "failed in \(String(cString: name))" }
                clientData.assumingMemoryBound(to: [String].self).pointee.append(HDF5Error.oneLine(text))
                return 0
            }, entriesPointer)
        }
        _ = H5Eclear2(CHDF5_e_default())
        let message: String
        switch (entries.first, entries.last) {
        case (nil, _), (_, nil): message = "failed (the HDF5 error stack is empty)"
        case let (outer?, inner?) where entries.count == 1 || outer == inner: message = outer
        case let (outer?, inner?): message = "\(outer): \(inner)"
        }
        return HDF5Error(function: "\(function)", message: message, path: path, object: object)
    }

    /// The text of an HDF5 major or minor error message id ("Unable to open file", "Object not found"...).
    private static func messageText(_ messageID: hid_t) -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        let length = buffer.withUnsafeMutableBufferPointer { buffer in
            H5Eget_msg(messageID, nil, buffer.baseAddress, buffer.count)
        }
        guard length > 0 else { return "" }
        return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Collapses the newlines and runs of blanks that some HDF5 messages contain (a `ctime` timestamp ends in
    /// a newline) so that an error prints on one line.
    private static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == "\t" || $0 == " " })
            .joined(separator: " ")
    }
}

/// Whether HDF5's automatic error printing is off for the calling thread (for tests: every HDF5Store call switches
/// it off for its thread first).
func automaticErrorPrintingIsOffOnThisThread() -> Bool {
    var function: H5E_auto2_t?
    var clientData: UnsafeMutableRawPointer?
    guard H5Eget_auto2(CHDF5_e_default(), &function, &clientData) >= 0 else { return false }
    return function == nil
}
