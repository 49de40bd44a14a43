internal import HDF5Store

/// A failure of the HDF5 library under a shard operation: the file, the C function, the object inside the file
/// and HDF5's reason. Prints as one line: `<path>: <function> '<object>': <reason>`.
public struct ShardStorageError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The HDF5 C function that failed (`H5Fopen`, `H5Dread`...).
    public var function: String
    /// HDF5's reason (its error stack's outermost and innermost descriptions).
    public var message: String
    /// The file concerned, when known.
    public var path: String?
    /// The dataset or attribute inside the file, when one is concerned.
    public var object: String?

    init(_ error: HDF5Error) {
        function = error.function
        message = error.message
        path = error.path
        object = error.object
    }

    public var description: String {
        var line = "\(path ?? "<no file>"): \(function)"
        if let object { line += " '\(object)'" }
        return line + ": " + message
    }

    /// The failure without the file name (for a message that names the file already).
    public var reason: String { "\(function)\(object.map { " '\($0)'" } ?? ""): \(message)" }
}
