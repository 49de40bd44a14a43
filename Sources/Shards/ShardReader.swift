internal import HDF5Store

/// Reads one committed shard. Opening validates the whole file against the format (schema version, every dataset
/// and attribute present with the right type, shapes that agree with each other and with `n_mels`/`frames`/
/// `clips`, labels inside the classes) and loads the per-clip arrays; clips' features are read on demand.
public struct ShardReader: ~Copyable, Sendable {
    /// The shard's path.
    public let path: String
    /// Classes, split, clip shape, normalisation, parameters, configuration, compression.
    public let metadata: ShardMetadata
    /// Class index of every clip.
    public let labels: [Int32]
    /// Source file of every clip, relative to the corpus root.
    public let paths: [String]
    /// Whether every clip was zero-padded to the fixed length.
    public let padded: [Bool]
    /// Original duration of every clip in seconds.
    public let seconds: [Float]
    /// The stored clip-data checksum (`checksum` attribute, hex), or nil for a shard written without one. Not
    /// checked when opening: see `verifyChecksum()`.
    public let checksum: String?
    /// The algorithm that made `checksum` (`checksum_algorithm` attribute), or nil when there is none.
    public let checksumAlgorithm: String?

    private let mel: HDF5Dataset
    /// `/padded` as stored (hashed by `computeChecksum()`: a damaged byte must not pass as `true`).
    private let paddedBytes: [UInt8]

    /// Number of clips.
    public var count: Int { labels.count }

    /// Opens and validates the shard at `path`.
    public init(path: String) throws(ShardError) {
        let file = try hdf5 { () throws(HDF5Error) in try HDF5File(openingForReading: path) }
        let attributes = try hdf5 { () throws(HDF5Error) in try file.attributes() }
        let inconsistent = { (reason: String) in ShardError.inconsistent(path: path, reason: reason) }

        switch attributes[ShardSchema.schemaAttribute] {
        case .string(ShardSchema.version)?: break
        case let found?: throw .wrongSchema(path: path, found: found.description)
        case nil: throw .wrongSchema(path: path, found: nil)
        }
        func required<T>(_ name: String, _ kind: String, _ extract: (AttributeValue) -> T?) throws(ShardError) -> T {
            guard let value = attributes[name] else { throw inconsistent("attribute \"\(name)\" is missing") }
            guard let extracted = extract(value) else {
                throw inconsistent("attribute \"\(name)\" should be \(kind), found \(value)")
            }
            return extracted
        }
        let classes = try required(ShardSchema.classesAttribute, "strings", \.stringsValue)
        let split = try required(ShardSchema.splitAttribute, "a string", \.stringValue)
        let nMels = try required(ShardSchema.nMelsAttribute, "an integer", \.intValue)
        let frames = try required(ShardSchema.framesAttribute, "an integer", \.intValue)
        let clips = try required(ShardSchema.clipsAttribute, "an integer", \.intValue)
        let configuration = try required(ShardSchema.configurationAttribute, "a string", \.stringValue)
        var checksum: String?, checksumAlgorithm: String?
        if attributes[ShardSchema.checksumAttribute] != nil || attributes[ShardSchema.checksumAlgorithmAttribute] != nil {
            checksum = try required(ShardSchema.checksumAttribute, "a string", \.stringValue)
            checksumAlgorithm = try required(ShardSchema.checksumAlgorithmAttribute, "a string", \.stringValue)
        }
        guard nMels > 0, frames > 0, clips >= 0 else {
            throw inconsistent("n_mels \(nMels), frames \(frames), clips \(clips) (must be > 0, > 0, >= 0)")
        }

        /// Checks that a dataset exists with the expected element type and shape.
        func expect(_ name: String, _ type: HDF5ElementType, _ shape: [Int]) throws(ShardError) -> HDF5DatasetInfo {
            guard try hdf5({ () throws(HDF5Error) in try file.contains(name) }) else {
                throw inconsistent("dataset \"\(name)\" is missing")
            }
            let info = try hdf5 { () throws(HDF5Error) in try file.datasetInfo(name) }
            guard info.elementType == type else {
                let found = info.elementType?.description ?? "an unsupported type"
                throw inconsistent("dataset \"\(name)\" holds \(found), not \(type)")
            }
            guard info.shape == shape else {
                throw inconsistent("dataset \"\(name)\" has shape \(info.shape), expected \(shape) for clips "
                                   + "\(clips), n_mels \(nMels), frames \(frames)")
            }
            return info
        }
        var melCompression = HDF5Compression.none
        for dataset in ShardSchema.datasets(clips: clips, nMels: nMels, frames: frames) {
            let info = try expect(
                dataset.name, HDF5ElementType(rawValue: dataset.elementType.rawValue)!, dataset.shape.map { $0! })
            if dataset.name == ShardSchema.melDataset { melCompression = info.compression }
        }

        let (labels, paths, padded, seconds, normMean, normStd) = try hdf5 { () throws(HDF5Error) in
            (try file.readInt32s(ShardSchema.labelDataset).values, try file.readStrings(ShardSchema.pathDataset),
             try file.readUInt8s(ShardSchema.paddedDataset).values, try file.readFloats(ShardSchema.secondsDataset).values,
             try file.readFloats(ShardSchema.normMeanDataset).values, try file.readFloats(ShardSchema.normStdDataset).values)
        }
        if let bad = labels.firstIndex(where: { $0 < 0 || Int($0) >= classes.count }) {
            throw inconsistent("clip \(bad) has label \(labels[bad]), outside the \(classes.count) classes")
        }
        var gzipLevel: Int?
        if case .gzip(let level) = melCompression { gzipLevel = level }

        self.mel = try hdf5 { () throws(HDF5Error) in try file.openDataset(ShardSchema.melDataset) }
        self.path = path
        self.metadata = ShardMetadata(
            classes: classes, split: split, nMels: nMels, frames: frames, normMean: normMean, normStd: normStd,
            parameters: attributes.filter { !ShardSchema.reservedAttributes.contains($0.key) }.mapValues(ShardParameter.init),
            configuration: configuration, gzipLevel: gzipLevel)
        self.labels = labels
        self.paths = paths
        self.padded = padded.map { $0 != 0 }
        self.paddedBytes = padded
        self.seconds = seconds
        self.checksum = checksum
        self.checksumAlgorithm = checksumAlgorithm
    }

    /// What `verifyChecksum()` found.
    public enum ChecksumStatus: Sendable, Equatable {
        /// The recomputed checksum equals the stored one.
        case matches
        /// The shard has no `checksum` attribute (written before checksums existed): nothing to compare.
        case absent
        /// The shard's checksum was made by an algorithm this code does not know.
        case unknownAlgorithm(String)
        /// The clip data changed since the shard was written (or the attribute was edited).
        case mismatch(stored: String, computed: String)
    }

    /// Recomputes the clip-data checksum over the file's contents (`ShardChecksum`: every clip's `/mel` values in
    /// order, then `/label`, `/path`, `/padded`, `/seconds`). Reads the whole shard, in batches of about 8 MB.
    public func computeChecksum() throws(ShardError) -> String {
        var hasher = ShardChecksum()
        let elements = metadata.clipElements
        let batch = max(1, min(count, (8 << 20) / max(1, elements * MemoryLayout<Float>.stride)))
        if count > 0 {
            var buffer = [Float](repeating: 0, count: batch * elements)
            var first = 0
            while first < count {
                let clips = min(batch, count - first)
                try buffer.withUnsafeMutableBufferPointer { (buffer) throws(ShardError) in
                    let part = UnsafeMutableBufferPointer(rebasing: buffer[0..<(clips * elements)])
                    try mels(from: first, into: part)
                    hasher.update(UnsafeBufferPointer(part))
                }
                first += clips
            }
        }
        hasher.update(labels)
        hasher.update(strings: paths)
        hasher.update(paddedBytes)
        hasher.update(seconds)
        return hasher.hexDigest
    }

    /// Recomputes the checksum and compares it with the stored one (`checksum` attribute). Reads the whole shard.
    /// Throws when the file cannot be read.
    public func verifyChecksum() throws(ShardError) -> ChecksumStatus {
        guard let stored = checksum else { return .absent }
        guard checksumAlgorithm == ShardChecksum.algorithm else { return .unknownAlgorithm(checksumAlgorithm ?? "") }
        let computed = try computeChecksum()
        return computed == stored ? .matches : .mismatch(stored: stored, computed: computed)
    }

    /// Reads clip `clip`'s features, `[n_mels, frames]` row-major, into `destination`
    /// (`metadata.clipElements` values).
    public func mel(at clip: Int, into destination: UnsafeMutableBufferPointer<Float>) throws(ShardError) {
        try mels(from: clip, into: destination)
    }

    /// Clip `clip`'s features, `[n_mels, frames]` row-major.
    public func mel(at clip: Int) throws(ShardError) -> [Float] {
        let elements = metadata.clipElements
        var failure: ShardError?
        let values = [Float](unsafeUninitializedCapacity: elements) { buffer, initialized in
            do throws(ShardError) {
                try mels(from: clip, into: buffer)
                initialized = elements
            } catch {
                failure = error
                initialized = 0
            }
        }
        if let failure { throw failure }
        return values
    }

    /// Reads consecutive clips from `first` into `destination`, whose size (a multiple of `metadata.clipElements`)
    /// says how many: `[k, n_mels, frames]` row-major. One call per batch is cheaper than one per clip.
    public func mels(from first: Int, into destination: UnsafeMutableBufferPointer<Float>) throws(ShardError) {
        let elements = metadata.clipElements
        guard destination.count % elements == 0 else {
            throw .invalidArgument(path: path, reason: "a buffer of \(destination.count) values for clips of "
                                   + "[\(metadata.nMels), \(metadata.frames)] = \(elements) values")
        }
        let clips = destination.count / elements
        guard first >= 0, first <= count, clips <= count - first else {
            throw .invalidArgument(path: path, reason: "clips \(first)..<\(first + clips) requested from a shard of "
                                   + "\(count) clips")
        }
        try hdf5 { () throws(HDF5Error) in try mel.readRows(at: first, into: destination) }
    }
}
