import Foundation
internal import HDF5Store

/// Writes one shard. The file is built under a temporary name in the destination directory
/// (`.<name>.partial-<pid>-<random>`, ignored by `ShardDirectory`) and gets its final name only in `commit()`,
/// by an atomic rename, so a shard under its final name is always complete. A writer dropped without `commit()`
/// (an error, a cancelled run) removes its temporary file.
///
/// Clips go straight to the file (one `[n_mels, frames]` float32 chunk per clip, written with direct chunk I/O);
/// the per-clip labels, paths, flags and durations are buffered in memory and written by `commit()`.
public struct ShardWriter: ~Copyable, Sendable {
    /// The final path of the shard (given by the caller, usually `dir + "/" + ShardSchema.fileName(...)`).
    public let path: String
    /// Where the shard is built until `commit()`.
    public let temporaryPath: String
    /// What the shard describes.
    public let metadata: ShardMetadata

    private var file: HDF5File?
    private var mel: HDF5Dataset?
    /// Current extent of `/mel` along the clip axis (grows by doubling past the capacity given at creation).
    private var allocatedClips: Int
    private let syncToDisk: Bool
    private var labels: [Int32] = []
    private var paths: [String] = []
    private var padded: [UInt8] = []
    private var seconds: [Float] = []
    private var committed = false
    /// The clip-data checksum so far: `/mel` clips are hashed as they are appended, the rest at `commit()`.
    private var checksum = ShardChecksum()

    /// Starts a shard at `path`.
    /// - Parameters:
    ///   - metadata: classes, split, clip shape, normalisation, parameters (validated: see
    ///     `ShardMetadata.problems()`).
    ///   - capacity: the number of clips expected; the shard grows past it if needed and is trimmed to the clips
    ///     actually appended at `commit()`.
    ///   - syncToDisk: `commit()` flushes the file and its directory entry to the disk (`fsync`) before and after
    ///     the rename, so a committed shard survives a crash. Default true.
    public init(path: String, metadata: ShardMetadata, capacity: Int, syncToDisk: Bool = true) throws(ShardError) {
        let problems = metadata.problems()
        guard problems.isEmpty else {
            throw .invalidArgument(path: path, reason: "invalid shard metadata: " + problems.joined(separator: "; "))
        }
        guard capacity >= 0 else { throw .invalidArgument(path: path, reason: "negative capacity \(capacity)") }
        let (directory, name) = splitPath(path)
        guard !name.isEmpty else { throw .invalidArgument(path: path, reason: "the shard path has no file name") }
        let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let temporaryPath = directory + "." + name + ".partial-\(getpid())-\(suffix)"

        let file = try hdf5 { () throws(HDF5Error) in try HDF5File.create(path: temporaryPath, overwrite: false) }
        // From here on a failure drops `file`, then removes the temporary file.
        do throws(ShardError) {
            let mel = try hdf5 { () throws(HDF5Error) in
                try file.createDataset(
                    ShardSchema.melDataset, of: Float.self, shape: [capacity, metadata.nMels, metadata.frames],
                    maxShape: [nil, metadata.nMels, metadata.frames], chunks: [1, metadata.nMels, metadata.frames],
                    compression: metadata.gzipLevel.map { .gzip(level: $0) } ?? .none)
            }
            try hdf5 { () throws(HDF5Error) in
                try file.write(metadata.normMean, to: ShardSchema.normMeanDataset)
                try file.write(metadata.normStd, to: ShardSchema.normStdDataset)
                try file.setAttribute(ShardSchema.schemaAttribute, to: .string(ShardSchema.version))
                try file.setAttribute(ShardSchema.classesAttribute, to: .strings(metadata.classes))
                try file.setAttribute(ShardSchema.splitAttribute, to: .string(metadata.split))
                try file.setAttribute(ShardSchema.nMelsAttribute, to: .int(metadata.nMels))
                try file.setAttribute(ShardSchema.framesAttribute, to: .int(metadata.frames))
                try file.setAttribute(ShardSchema.configurationAttribute, to: .string(metadata.configuration))
                for (name, value) in metadata.parameters.sorted(by: { $0.key < $1.key }) {
                    try file.setAttribute(name, to: value.attributeValue)
                }
            }
            self.mel = consume mel
        } catch {
            _ = consume file
            unlink(temporaryPath)
            throw error
        }
        self.file = consume file
        self.path = path
        self.temporaryPath = temporaryPath
        self.metadata = metadata
        self.allocatedClips = capacity
        self.syncToDisk = syncToDisk
    }

    deinit {
        // Not committed: remove the partial file. Removing the name before the HDF5 identifiers close (right after
        // this body) is fine on POSIX systems: the library finishes with the unlinked file and it disappears.
        if !committed { unlink(temporaryPath) }
    }

    /// Clips appended so far.
    public var count: Int { labels.count }

    /// Appends one clip.
    /// - Parameters:
    ///   - mel: the clip's normalised log-mel features, `[n_mels, frames]` row-major (`n_mels * frames` values).
    ///   - label: class index, `0..<metadata.classes.count`.
    ///   - path: the source file relative to the corpus root (UTF-8, no NUL).
    ///   - padded: whether the clip was shorter than the fixed length and zero-padded.
    ///   - seconds: the clip's original duration in seconds.
    public mutating func append(
        mel clip: UnsafeBufferPointer<Float>, label: Int32, path clipPath: String, padded: Bool, seconds: Float
    ) throws(ShardError) {
        guard clip.count == metadata.clipElements else {
            throw .invalidArgument(path: path, reason: "a clip of \(clip.count) values for clips of "
                                   + "[\(metadata.nMels), \(metadata.frames)] = \(metadata.clipElements) values")
        }
        guard label >= 0, Int(label) < metadata.classes.count else {
            throw .invalidArgument(path: path, reason: "label \(label) of \(clipPath) is outside the "
                                   + "\(metadata.classes.count) classes")
        }
        guard !clipPath.utf8.contains(0) else {
            throw .invalidArgument(path: path, reason: "clip path \(clipPath.debugDescription) contains NUL")
        }
        guard let dataset = mel.take() else {
            throw .invalidArgument(path: path, reason: "the writer has failed before and cannot append")
        }
        // On failure `dataset` is dropped and later appends are refused: the shard must not be committed.
        let row = count
        if row == allocatedClips {
            let grown = max(2 * allocatedClips, 16)
            try hdf5 { () throws(HDF5Error) in try dataset.resize(to: [grown, metadata.nMels, metadata.frames]) }
            allocatedClips = grown
        }
        try hdf5 { () throws(HDF5Error) in try dataset.writeRows(clip, at: row) }
        mel = consume dataset
        checksum.update(clip)
        labels.append(label)
        paths.append(clipPath)
        self.padded.append(padded ? 1 : 0)
        self.seconds.append(seconds)
    }

    /// Appends one clip from an array; see `append(mel:label:path:padded:seconds:)`.
    public mutating func append(
        mel clip: [Float], label: Int32, path clipPath: String, padded: Bool, seconds: Float
    ) throws(ShardError) {
        try clip.withUnsafeBufferPointer { (clip) throws(ShardError) in
            try append(mel: clip, label: label, path: clipPath, padded: padded, seconds: seconds)
        }
    }

    /// Finishes the shard: writes the buffered per-clip datasets, the `clips` attribute and the clip-data checksum
    /// (`checksum`, `checksum_algorithm`: see `ShardChecksum`), trims `/mel` to the
    /// clips appended, closes the file, syncs it (see `syncToDisk`) and renames it to `path`, replacing any file
    /// there. On failure the temporary file is removed and nothing appears under `path`.
    public consuming func commit() throws(ShardError) {
        guard let dataset = mel.take(), let file = file.take() else {
            throw .invalidArgument(path: path, reason: "the writer has failed before and cannot commit")
        }
        let count = self.count
        var checksum = self.checksum
        checksum.update(labels)
        checksum.update(strings: paths)
        checksum.update(padded)
        checksum.update(seconds)
        do throws(HDF5Error) {
            if allocatedClips != count { try dataset.resize(to: [count, metadata.nMels, metadata.frames]) }
            try dataset.close()
            try file.write(labels, to: ShardSchema.labelDataset)
            try file.write(paths, to: ShardSchema.pathDataset)
            try file.write(padded, to: ShardSchema.paddedDataset)
            try file.write(seconds, to: ShardSchema.secondsDataset)
            try file.setAttribute(ShardSchema.clipsAttribute, to: .int(count))
            try file.setAttribute(ShardSchema.checksumAttribute, to: .string(checksum.hexDigest))
            try file.setAttribute(ShardSchema.checksumAlgorithmAttribute, to: .string(ShardChecksum.algorithm))
            try file.close()
        } catch {
            throw .hdf5(ShardStorageError(error))
        }
        if syncToDisk { try synchronise(temporaryPath) }
        guard rename(temporaryPath, path) == 0 else {
            throw .io(path: path, reason: "cannot rename \(temporaryPath) to it: \(errnoDescription())")
        }
        committed = true
        if syncToDisk {
            let directory = splitPath(path).directory
            try synchronise(directory.isEmpty ? "." : directory)
        }
    }
}

/// `("dir/", "name")` for `"dir/name"`, `("", "name")` for `"name"`.
func splitPath(_ path: String) -> (directory: String, name: String) {
    guard let slash = path.lastIndex(of: "/") else { return ("", path) }
    return (String(path[...slash]), String(path[path.index(after: slash)...]))
}

/// fsync of a file or directory.
private func synchronise(_ path: String) throws(ShardError) {
    let descriptor = open(path, O_RDONLY)
    guard descriptor >= 0 else { throw .io(path: path, reason: "cannot open to sync: \(errnoDescription())") }
    defer { close(descriptor) }
    guard fsync(descriptor) == 0 else { throw .io(path: path, reason: "fsync failed: \(errnoDescription())") }
}

func errnoDescription() -> String {
    String(cString: strerror(errno))
}
