internal import HDF5Store

/// Why a shard could not be written, read or listed. Every case names the file (or directory) involved and prints
/// as one line.
public enum ShardError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file's `schema` attribute is missing (`found` nil) or is not `ShardSchema.version`.
    case wrongSchema(path: String, found: String?)
    /// The file is a shard of the right schema whose contents contradict each other or the format (a missing
    /// dataset, shapes that do not agree, a label outside the classes...).
    case inconsistent(path: String, reason: String)
    /// The caller asked for something impossible (metadata that cannot make a shard, a buffer of the wrong size,
    /// a clip index out of range...).
    case invalidArgument(path: String, reason: String)
    /// The HDF5 library failed (the error names the file, the C function and the reason).
    case hdf5(ShardStorageError)
    /// A file-system operation failed (rename, fsync, directory listing...).
    case io(path: String, reason: String)

    /// The file or directory the error is about.
    public var path: String? {
        switch self {
        case .wrongSchema(let path, _), .inconsistent(let path, _), .invalidArgument(let path, _),
            .io(let path, _):
            path
        case .hdf5(let error): error.path
        }
    }

    /// What went wrong, without the path (``description`` is `"<path>: <reason>"` when there is one).
    public var reason: String {
        let text = description
        guard let path, text.hasPrefix(path + ": ") else { return text }
        return String(text.dropFirst(path.count + 2))
    }

    public var description: String {
        switch self {
        case .wrongSchema(let path, let found?):
            "\(path): not a shard of schema \"\(ShardSchema.version)\" (its schema attribute is \(found))"
                + (found == "\"\(ShardChecksum.retiredSchema)\"" ? ": " + ShardChecksum.olderShardMessage : "")
        case .wrongSchema(let path, nil):
            "\(path): not a GenreKit shard (no \"\(ShardSchema.schemaAttribute)\" attribute)"
        case .inconsistent(let path, let reason): "\(path): inconsistent shard: \(reason)"
        case .invalidArgument(let path, let reason): "\(path): \(reason)"
        case .hdf5(let error): error.description
        case .io(let path, let reason): "\(path): \(reason)"
        }
    }
}

/// Runs HDF5Store code, reporting its failure as `ShardError.hdf5`.
@inline(__always)
func hdf5<Result: ~Copyable>(_ body: () throws(HDF5Error) -> Result) throws(ShardError) -> Result {
    do {
        return try body()
    } catch {
        throw .hdf5(ShardStorageError(error))
    }
}
