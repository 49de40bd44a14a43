internal import CHDF5

/// An open HDF5 file: the single owner of the file identifier. Groups, datasets (numbers and UTF-8 strings) and
/// attributes are addressed by path inside the file (`"mel"`, `"norm/mean"`, `"/"` for the root group).
///
/// Thread safety: HDF5 is built thread-safe here (one global lock around every library call), so different files
/// may be used from different tasks at once, and an owner may be moved to another task (`Sendable`).
///
/// The file is closed by `close()` (which reports errors, e.g. a failed final write) or, silently, when the owner
/// goes away. Datasets opened from it stay valid after the file owner is closed: the library closes the file when
/// its last open object is closed.
///
/// Files are opened without HDF5's advisory file locks (`flock`). A lock taken by this process is inherited by any
/// child process spawned at that moment (`Process`, `posix_spawn`) until the child execs, which makes an
/// unrelated open of the same file fail with "unable to lock file, errno = 11" (measured: 108 failures in 2000
/// reopen cycles while another thread spawned processes). Keep writers and readers apart instead: write under a
/// temporary name and rename when complete, as `ShardWriter` does.
public struct HDF5File: ~Copyable, Sendable {
    /// The path the file was opened or created with.
    public let path: String
    let handle: HDF5Handle

    private init(handle: consuming HDF5Handle, path: String) {
        self.handle = handle
        self.path = path
    }

    /// Creates a new file for writing. An existing file is truncated (`overwrite: true`, the default) or makes the
    /// call fail (`overwrite: false`).
    public static func create(path: String, overwrite: Bool = true) throws(HDF5Error) -> HDF5File {
        let flags = overwrite ? CHDF5_f_acc_trunc() : CHDF5_f_acc_excl()
        let access = try fileAccess(path: path)
        // The HDF5 1.10 file format: every piece of metadata (superblock, object headers, attribute tables, chunk
        // indices) carries a checksum the library verifies when reading, so a damaged file fails to open with an
        // error instead of steering the 1.10 library into a crash (measured by the reader fuzz tests: the 1.8/
        // earliest format's unchecked attribute messages make H5Aiterate/H5Oopen segfault). h5py (HDF5 >= 1.10)
        // reads these files; HDF5 1.8 tools do not.
        _ = try hdf5("H5Pset_libver_bounds", path: path) {
            H5Pset_libver_bounds(access.raw, H5F_LIBVER_V110, H5F_LIBVER_V110)
        }
        let handle = try HDF5Handle("H5Fcreate", .file, path: path) {
            H5Fcreate(path, flags, CHDF5_p_default(), access.raw)
        }
        return HDF5File(handle: handle, path: path)
    }

    /// Opens an existing file read-only.
    public init(openingForReading path: String) throws(HDF5Error) {
        let access = try Self.fileAccess(path: path)
        self.init(handle: try HDF5Handle("H5Fopen", .file, path: path) {
            H5Fopen(path, CHDF5_f_acc_rdonly(), access.raw)
        }, path: path)
    }

    /// Opens an existing file for reading and writing.
    public init(openingForWriting path: String) throws(HDF5Error) {
        let access = try Self.fileAccess(path: path)
        self.init(handle: try HDF5Handle("H5Fopen", .file, path: path) {
            H5Fopen(path, CHDF5_f_acc_rdwr(), access.raw)
        }, path: path)
    }

    /// File-access properties: default driver (POSIX I/O), no advisory file locking (see the type's comment).
    private static func fileAccess(path: String) throws(HDF5Error) -> HDF5Handle {
        let access = try HDF5Handle("H5Pcreate", .propertyList, path: path) { H5Pcreate(CHDF5_p_file_access()) }
        _ = try hdf5("H5Pset_file_locking", path: path) { H5Pset_file_locking(access.raw, false, true) }
        return access
    }

    // MARK: Groups and listing

    /// Creates a group, and any missing groups above it (`"a/b/c"`). Fails if it already exists.
    public func createGroup(_ group: String) throws(HDF5Error) {
        let linkCreation = try HDF5Operations.intermediateGroupLinkCreation(path: path, object: group)
        let raw = handle.raw
        let created = try HDF5Handle("H5Gcreate2", .group, path: path, object: group) {
            H5Gcreate2(raw, group, linkCreation.raw, CHDF5_p_default(), CHDF5_p_default())
        }
        try created.close(path: path, object: group)
    }

    /// Whether a group, dataset or other link exists at `objectPath` (`"/"` always exists).
    public func contains(_ objectPath: String) throws(HDF5Error) -> Bool {
        let components = objectPath.split(separator: "/", omittingEmptySubsequences: true)
        var prefix = objectPath.hasPrefix("/") ? "/" : ""
        let raw = handle.raw
        for component in components {
            prefix += (prefix.isEmpty || prefix.hasSuffix("/") ? "" : "/") + component
            let current = prefix
            let exists = try hdf5("H5Lexists", path: path, object: current) {
                H5Lexists(raw, current, CHDF5_p_default())
            }
            if exists <= 0 { return false }
        }
        return true
    }

    /// What a member of a group is.
    public enum MemberKind: Sendable, Hashable {
        /// A group (folder of members).
        case group
        /// A dataset.
        case dataset
        /// A named datatype, a dangling soft link or an external link.
        case other
    }

    /// The members of a group (default: the root group), sorted by name, with their kinds.
    public func members(of group: String = "/") throws(HDF5Error) -> [(name: String, kind: MemberKind)] {
        let raw = handle.raw
        let groupHandle = try HDF5Handle("H5Gopen2", .group, path: path, object: group) {
            H5Gopen2(raw, group, CHDF5_p_default())
        }
        var names: [String] = []
        var index: hsize_t = 0
        _ = try withUnsafeMutablePointer(to: &names) { (namesPointer) throws(HDF5Error) in
            try hdf5("H5Literate", path: path, object: group) {
                H5Literate(groupHandle.raw, H5_INDEX_NAME, H5_ITER_INC, &index, { _, name, _, clientData in
                    guard let name, let clientData else { return 0 }
                    clientData.assumingMemoryBound(to: [String].self).pointee.append(String(cString: name))
                    return 0
                }, namesPointer)
            }
        }
        var members: [(name: String, kind: MemberKind)] = []
        for name in names {
            // A dangling soft or external link cannot be opened: it is listed as `other`.
            guard let member = try? HDF5Handle("H5Oopen", .object, path: path, object: name, {
                H5Oopen(groupHandle.raw, name, CHDF5_p_default())
            }) else {
                members.append((name, .other))
                continue
            }
            let type = try hdf5("H5Iget_type", path: path, object: name, failsWhen: { $0 == H5I_BADID }) {
                H5Iget_type(member.raw)
            }
            members.append((name, type == H5I_GROUP ? .group : type == H5I_DATASET ? .dataset : .other))
        }
        return members
    }

    /// Names of the datasets directly inside a group (default: root), sorted.
    public func datasetNames(in group: String = "/") throws(HDF5Error) -> [String] {
        try members(of: group).filter { $0.kind == .dataset }.map(\.name)
    }

    /// Names of the groups directly inside a group (default: root), sorted.
    public func groupNames(in group: String = "/") throws(HDF5Error) -> [String] {
        try members(of: group).filter { $0.kind == .group }.map(\.name)
    }

    // MARK: Datasets

    /// Creates a dataset of `T` (`Float` → float32, `Double`, `Int8`, `UInt8`, `Int32`, `Int64`) and returns it open.
    /// - Parameters:
    ///   - shape: the extent, slowest-varying axis first (`[]` = scalar).
    ///   - maxShape: how far each axis may grow later with `HDF5Dataset.resize(to:)`; `nil` in an axis = unlimited
    ///     (needs `chunks`); the whole argument `nil` = fixed size.
    ///   - chunks: chunk shape (same rank as `shape`); `nil` = contiguous storage.
    ///   - compression: `.gzip(level:)` needs `chunks`.
    /// Missing groups in `name` (`"norm/mean"`) are created.
    public func createDataset<T: HDF5Scalar>(
        _ name: String, of type: T.Type, shape: [Int], maxShape: [Int?]? = nil, chunks: [Int]? = nil,
        compression: HDF5Compression = .none
    ) throws(HDF5Error) -> HDF5Dataset {
        let created = try HDF5Operations.createDataset(
            on: handle.raw, name: name, fileType: T.hdf5ElementType.fileTypeID, shape: shape, maxShape: maxShape,
            chunks: chunks, compression: compression, path: path)
        return try HDF5Dataset(handle: created, name: name, filePath: path)
    }

    /// Creates a one-dimensional dataset of `count` variable-length UTF-8 strings and returns it open.
    public func createStringDataset(
        _ name: String, count: Int, chunks: Int? = nil, compression: HDF5Compression = .none
    ) throws(HDF5Error) -> HDF5Dataset {
        let type = try HDF5Operations.variableUTF8StringType(path: path, object: name)
        let created = try HDF5Operations.createDataset(
            on: handle.raw, name: name, fileType: type.raw, shape: [count], maxShape: nil, chunks: chunks.map { [$0] },
            compression: compression, path: path)
        return try HDF5Dataset(handle: created, name: name, filePath: path)
    }

    /// Opens an existing dataset.
    public func openDataset(_ name: String) throws(HDF5Error) -> HDF5Dataset {
        try HDF5Dataset(handle: HDF5Operations.openDataset(on: handle.raw, name: name, path: path), name: name,
                        filePath: path)
    }

    /// Shape, maximum shape, element type, chunking and compression of a dataset.
    public func datasetInfo(_ name: String) throws(HDF5Error) -> HDF5DatasetInfo {
        let dataset = try HDF5Operations.openDataset(on: handle.raw, name: name, path: path)
        return try HDF5Operations.info(ofDataset: dataset.raw, path: path, object: name)
    }

    /// The current extent of a dataset (`[]` for a scalar).
    public func shape(of name: String) throws(HDF5Error) -> [Int] {
        try datasetInfo(name).shape
    }

    // MARK: Whole-dataset helpers

    /// Creates dataset `name` holding `values` with `shape` (default: one-dimensional, `[values.count]`).
    public func write<T: HDF5Scalar>(
        _ values: UnsafeBufferPointer<T>, shape: [Int]? = nil, to name: String, chunks: [Int]? = nil,
        compression: HDF5Compression = .none
    ) throws(HDF5Error) {
        let shape = shape ?? [values.count]
        let count = try elementCount(shape, "write", path: path, object: name)
        guard count == values.count else {
            throw .usage("write", "\(values.count) values do not fill shape \(shape)", path: path, object: name)
        }
        let dataset = try createDataset(name, of: T.self, shape: shape, chunks: chunks, compression: compression)
        try dataset.write(values)
        try dataset.close()
    }

    /// Creates dataset `name` holding `values` with `shape` (default: one-dimensional, `[values.count]`).
    public func write<T: HDF5Scalar>(
        _ values: [T], shape: [Int]? = nil, to name: String, chunks: [Int]? = nil,
        compression: HDF5Compression = .none
    ) throws(HDF5Error) {
        try values.withUnsafeBufferPointer { (buffer) throws(HDF5Error) in
            try write(buffer, shape: shape, to: name, chunks: chunks, compression: compression)
        }
    }

    /// Creates a one-dimensional dataset `name` of variable-length UTF-8 strings (h5py reads `str`).
    public func write(_ strings: [String], to name: String) throws(HDF5Error) {
        let dataset = try createStringDataset(name, count: strings.count)
        try dataset.writeStrings(strings)
        try dataset.close()
    }

    /// Reads a whole dataset as `T` (converting if stored differently), row-major, with its shape.
    public func read<T: HDF5Scalar>(_ name: String, as type: T.Type = T.self) throws(HDF5Error)
        -> (values: [T], shape: [Int])
    {
        let dataset = try openDataset(name)
        let shape = try dataset.shape
        return (try dataset.read(T.self), shape)
    }

    /// Reads a whole dataset as float32 values with its shape.
    public func readFloats(_ name: String) throws(HDF5Error) -> (values: [Float], shape: [Int]) {
        try read(name, as: Float.self)
    }

    /// Reads a whole dataset as float64 values with its shape.
    public func readDoubles(_ name: String) throws(HDF5Error) -> (values: [Double], shape: [Int]) {
        try read(name, as: Double.self)
    }

    /// Reads a whole dataset as int32 values with its shape.
    public func readInt32s(_ name: String) throws(HDF5Error) -> (values: [Int32], shape: [Int]) {
        try read(name, as: Int32.self)
    }

    /// Reads a whole dataset as int64 values with its shape.
    public func readInt64s(_ name: String) throws(HDF5Error) -> (values: [Int64], shape: [Int]) {
        try read(name, as: Int64.self)
    }

    /// Reads a whole dataset as uint8 values with its shape.
    public func readUInt8s(_ name: String) throws(HDF5Error) -> (values: [UInt8], shape: [Int]) {
        try read(name, as: UInt8.self)
    }

    /// Reads a whole string dataset (row-major).
    public func readStrings(_ name: String) throws(HDF5Error) -> [String] {
        try openDataset(name).readStrings()
    }

    // MARK: Rows (convenience; keep an `HDF5Dataset` open for repeated calls)

    /// Writes whole rows (slices along the first axis) of dataset `name` starting at `row`; see
    /// `HDF5Dataset.writeRows(_:at:)`. Opens and closes the dataset on every call.
    public func writeRows<T: HDF5Scalar>(_ rows: UnsafeBufferPointer<T>, to name: String, at row: Int)
        throws(HDF5Error)
    {
        try openDataset(name).writeRows(rows, at: row)
    }

    /// Reads whole rows of dataset `name` starting at `row` into `rows`; see `HDF5Dataset.readRows(at:into:)`.
    /// Opens and closes the dataset on every call.
    public func readRows<T: HDF5Scalar>(from name: String, at row: Int, into rows: UnsafeMutableBufferPointer<T>)
        throws(HDF5Error)
    {
        try openDataset(name).readRows(at: row, into: rows)
    }

    // MARK: Attributes

    /// Sets (creates or replaces) an attribute on the object at `object` (default: the root group).
    public func setAttribute(_ name: String, to value: AttributeValue, on object: String = "/") throws(HDF5Error) {
        let target = try openObject(object)
        try HDF5Attributes.set(name, to: value, on: target.raw, path: path, object: object)
    }

    /// The value of an attribute of `object` (default: root), or nil when there is no attribute of that name.
    public func attribute(_ name: String, on object: String = "/") throws(HDF5Error) -> AttributeValue? {
        let target = try openObject(object)
        return try HDF5Attributes.get(name, on: target.raw, path: path, object: object)
    }

    /// The attribute names of `object` (default: root), sorted.
    public func attributeNames(on object: String = "/") throws(HDF5Error) -> [String] {
        let target = try openObject(object)
        return try HDF5Attributes.names(on: target.raw, path: path, object: object)
    }

    /// Every attribute of `object` (default: root).
    public func attributes(on object: String = "/") throws(HDF5Error) -> [String: AttributeValue] {
        let target = try openObject(object)
        var values: [String: AttributeValue] = [:]
        for name in try HDF5Attributes.names(on: target.raw, path: path, object: object) {
            values[name] = try HDF5Attributes.get(name, on: target.raw, path: path, object: object)
        }
        return values
    }

    /// Removes an attribute of `object` (default: root); fails if there is none.
    public func removeAttribute(_ name: String, on object: String = "/") throws(HDF5Error) {
        let target = try openObject(object)
        _ = try hdf5("H5Adelete", path: path, object: "\(object)@\(name)") { H5Adelete(target.raw, name) }
    }

    private func openObject(_ object: String) throws(HDF5Error) -> HDF5Handle {
        let raw = handle.raw
        return try HDF5Handle("H5Oopen", .object, path: path, object: object) {
            H5Oopen(raw, object, CHDF5_p_default())
        }
    }

    // MARK: Flushing and closing

    /// Writes the library's buffered data and metadata for this file to the operating system.
    public func flush() throws(HDF5Error) {
        let raw = handle.raw
        _ = try hdf5("H5Fflush", path: path) { H5Fflush(raw, H5F_SCOPE_LOCAL) }
    }

    /// Closes the file now and reports a failure (dropping the owner closes it too, silently).
    public consuming func close() throws(HDF5Error) {
        try handle.close(path: path)
    }
}
