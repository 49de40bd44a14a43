public import Shards

/// Why a shard folder could not be used for training or evaluation, or a result could not be written. Every case
/// prints as one line naming the file or folder involved and the reason.
public enum TrainingError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Reading a shard failed (a damaged file, the wrong schema, an HDF5 failure...); the shard error names the file.
    case shard(ShardError)
    /// The folder holds no committed shards (`<split>-NNNNN.h5`).
    case noShards(directory: String)
    /// A shard disagrees with the first shard of the folder (classes, n_mels, frames, normalisation, parameters,
    /// configuration) or with its own file name, or changed since the dataset was opened.
    case mismatch(path: String, reason: String)
    /// A split the caller needs has no shards or no clips.
    case emptySplit(directory: String, split: String)
    /// Classes that have no clip in the train split (a classifier cannot learn them).
    case classesWithoutTrainingClips(directory: String, classes: [String])
    /// Options that cannot work with this data (a crop longer than the clips, a batch size of 0...).
    case invalidOptions(directory: String, reason: String)
    /// A run log (`log.jsonl`) line that is not a JSON object with an `epoch`.
    case invalidLog(path: String, line: Int, reason: String)
    /// Writing or reading a result file failed.
    case io(path: String, reason: String)
    /// A checkpoint that cannot be written, read or used (another schema, truncated, weights that do not fit).
    case checkpoint(path: String, reason: String)
    /// Shards and checkpoint (or configuration) do not go together.
    case incompatible(path: String, reason: String)

    /// The file or folder the error is about.
    public var path: String? {
        switch self {
        case .shard(let error): error.path
        case .noShards(let directory), .emptySplit(let directory, _), .classesWithoutTrainingClips(let directory, _),
            .invalidOptions(let directory, _):
            directory
        case .mismatch(let path, _), .invalidLog(let path, _, _), .io(let path, _), .checkpoint(let path, _),
            .incompatible(let path, _):
            path
        }
    }

    public var description: String {
        switch self {
        case .shard(let error):
            error.description
        case .noShards(let directory):
            "\(directory): no shards (<split>-NNNNN.\(ShardSchema.fileExtension)) in this folder"
        case .mismatch(let path, let reason):
            "\(path): \(reason)"
        case .emptySplit(let directory, let split):
            "\(directory): the \(split) split is empty (no \(split)-NNNNN.\(ShardSchema.fileExtension) shard holds "
                + "a clip)"
        case .classesWithoutTrainingClips(let directory, let classes):
            "\(directory): " + (classes.count == 1 ? "class " : "classes ")
                + classes.map { "\"\($0)\"" }.joined(separator: ", ")
                + (classes.count == 1 ? " has" : " have") + " no clips in the train split"
        case .invalidOptions(let directory, let reason):
            "\(directory): \(reason)"
        case .invalidLog(let path, let line, let reason):
            "\(path):\(line): \(reason)"
        case .io(let path, let reason), .checkpoint(let path, let reason), .incompatible(let path, let reason):
            path.isEmpty ? reason : "\(path): \(reason)"
        }
    }
}

/// Runs Shards code, reporting its failure as `TrainingError.shard`.
@inline(__always)
func shards<Result: ~Copyable>(_ body: () throws(ShardError) -> Result) throws(TrainingError) -> Result {
    do {
        return try body()
    } catch {
        throw .shard(error)
    }
}
