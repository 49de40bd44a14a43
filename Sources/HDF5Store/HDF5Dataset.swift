internal import CHDF5

/// An open dataset: the fast path for reading and writing slices along the first axis ("rows") without reopening
/// the dataset for every call.
///
/// A *row* is one slice along the first axis: for a `[clips, n_mels, frames]` dataset a row is one clip's
/// `[n_mels, frames]` matrix (row-major), for a one-dimensional dataset a single element.
///
/// When the dataset is chunked with whole rows per chunk and stored uncompressed in the native layout, reads and
/// writes of whole chunks go straight between the caller's buffer and the file (HDF5 direct chunk I/O), skipping
/// the chunk cache, selections and type conversion. Everything else goes through an ordinary hyperslab selection.
///
/// Opened with `HDF5File.createDataset(...)` or `HDF5File.openDataset(_:)`. An open dataset keeps its file open
/// inside the library until the dataset is closed too (by `close()` or when the owner goes away).
public struct HDF5Dataset: ~Copyable, Sendable {
    /// The file the dataset lives in.
    public let filePath: String
    /// The dataset's path inside the file (e.g. `"mel"` or `"norm/mean"`).
    public let name: String
    /// The element type, or `nil` for a type HDF5Store does not read.
    public let elementType: HDF5ElementType?

    let handle: HDF5Handle
    /// Chunk geometry when whole chunks may bypass the library's conversion pipeline, else nil.
    private let directChunk: DirectChunk?

    /// A chunk that spans `rowsPerChunk` rows and the whole of every other axis (`rowShape`), stored without
    /// filters with a file type equal to the native memory type of `elementType`.
    private struct DirectChunk: Sendable {
        var rowsPerChunk: Int
        var rowShape: [Int]
    }

    init(handle: consuming HDF5Handle, name: String, filePath: String) throws(HDF5Error) {
        let info = try HDF5Operations.info(ofDataset: handle.raw, path: filePath, object: name)
        var directChunk: DirectChunk?
        if let chunks = info.chunks, info.compression == .none, let elementType = info.elementType,
           elementType != .string, chunks.count == info.shape.count, chunks.count >= 1,
           Array(chunks.dropFirst()) == Array(info.shape.dropFirst())
        {
            let raw = handle.raw
            let fileType = try HDF5Handle("H5Dget_type", .datatype, path: filePath, object: name) { H5Dget_type(raw) }
            // Filters other than deflate (shuffle, fletcher32, szip...) also rule out direct chunk I/O.
            let creation = try HDF5Handle("H5Dget_create_plist", .propertyList, path: filePath, object: name) {
                H5Dget_create_plist(raw)
            }
            let filterCount = try hdf5("H5Pget_nfilters", path: filePath, object: name) {
                H5Pget_nfilters(creation.raw)
            }
            let sameLayout = try hdf5("H5Tequal", path: filePath, object: name) {
                H5Tequal(fileType.raw, elementType.memoryTypeID)
            }
            if filterCount == 0, sameLayout > 0 {
                directChunk = DirectChunk(rowsPerChunk: chunks[0], rowShape: Array(chunks.dropFirst()))
            }
        }
        self.handle = handle
        self.name = name
        self.filePath = filePath
        self.elementType = info.elementType
        self.directChunk = directChunk
    }

    // MARK: Shape

    /// The current extent, first axis = rows (`[]` for a scalar dataset).
    public var shape: [Int] {
        get throws(HDF5Error) { try currentShape() }
    }

    /// Shape, maximum shape, element type, chunking and compression.
    public func info() throws(HDF5Error) -> HDF5DatasetInfo {
        try HDF5Operations.info(ofDataset: handle.raw, path: filePath, object: name)
    }

    /// Changes the extent (only within the maximum shape the dataset was created with; needs a chunked dataset).
    /// Shrinking discards the data outside the new extent.
    public func resize(to shape: [Int]) throws(HDF5Error) {
        let dims = try hsizes(shape, "resize", path: filePath, object: name)
        let raw = handle.raw
        _ = try hdf5("H5Dset_extent", path: filePath, object: name) { H5Dset_extent(raw, dims) }
    }

    private func currentShape() throws(HDF5Error) -> [Int] {
        let raw = handle.raw
        let space = try HDF5Handle("H5Dget_space", .dataspace, path: filePath, object: name) { H5Dget_space(raw) }
        return try HDF5Operations.extent(ofSpace: space.raw, path: filePath, object: name).shape
    }

    // MARK: Rows (hyperslabs along the first axis)

    /// Writes whole rows starting at row `row`. `rows` holds `k * rowElements` values (k >= 0 consecutive rows,
    /// each row-major over the remaining axes); the rows must lie inside the current extent.
    public func writeRows<T: HDF5Scalar>(_ rows: UnsafeBufferPointer<T>, at row: Int) throws(HDF5Error) {
        let plan = try rowPlan(T.self, valueCount: rows.count, row: row, operation: "writeRows")
        guard plan.rowCount > 0, let base = rows.baseAddress else { return }
        let raw = handle.raw
        if let chunk = plan.directChunk {
            let chunkValues = chunk.rowsPerChunk * plan.rowElements
            let chunkBytes = chunkValues * MemoryLayout<T>.stride
            var offset = [hsize_t](repeating: 0, count: plan.rank)
            for first in stride(from: 0, to: plan.rowCount, by: chunk.rowsPerChunk) {
                offset[0] = hsize_t(row + first)
                let source = UnsafeRawPointer(base + first * plan.rowElements)
                _ = try hdf5("H5Dwrite_chunk", path: filePath, object: name) {
                    H5Dwrite_chunk(raw, CHDF5_p_default(), 0, offset, chunkBytes, source)
                }
            }
            return
        }
        let selection = try selectRows(plan, row: row)
        _ = try hdf5("H5Dwrite", path: filePath, object: name) {
            H5Dwrite(raw, T.hdf5ElementType.memoryTypeID, selection.memory.raw, selection.file.raw, CHDF5_p_default(),
                     base)
        }
    }

    /// Reads whole rows starting at row `row` into `rows`, whose size sets how many rows are read
    /// (`rows.count / rowElements`, which must divide exactly); the rows must lie inside the current extent.
    /// Rows never written read as zeros.
    public func readRows<T: HDF5Scalar>(at row: Int, into rows: UnsafeMutableBufferPointer<T>) throws(HDF5Error) {
        let plan = try rowPlan(T.self, valueCount: rows.count, row: row, operation: "readRows")
        guard plan.rowCount > 0, let base = rows.baseAddress else { return }
        let raw = handle.raw
        if let chunk = plan.directChunk {
            let chunkValues = chunk.rowsPerChunk * plan.rowElements
            let chunkBytes = hsize_t(chunkValues * MemoryLayout<T>.stride)
            var offset = [hsize_t](repeating: 0, count: plan.rank)
            for first in stride(from: 0, to: plan.rowCount, by: chunk.rowsPerChunk) {
                offset[0] = hsize_t(row + first)
                // A chunk that was never written has no storage: read it the ordinary way (fill values).
                var storedBytes: hsize_t = 0
                let stored = (try? hdf5("H5Dget_chunk_storage_size", path: filePath, object: name) {
                    H5Dget_chunk_storage_size(raw, offset, &storedBytes)
                }) != nil
                let destination = base + first * plan.rowElements
                if stored, storedBytes == chunkBytes {
                    var filters: UInt32 = 0
                    _ = try hdf5("H5Dread_chunk", path: filePath, object: name) {
                        H5Dread_chunk(raw, CHDF5_p_default(), offset, &filters, destination)
                    }
                } else {
                    let chunkPlan = RowPlan(rank: plan.rank, rowShape: plan.rowShape, rowElements: plan.rowElements,
                                            rowCount: chunk.rowsPerChunk, directChunk: nil)
                    let selection = try selectRows(chunkPlan, row: row + first)
                    _ = try hdf5("H5Dread", path: filePath, object: name) {
                        H5Dread(raw, T.hdf5ElementType.memoryTypeID, selection.memory.raw, selection.file.raw,
                                CHDF5_p_default(), destination)
                    }
                }
            }
            return
        }
        let selection = try selectRows(plan, row: row)
        _ = try hdf5("H5Dread", path: filePath, object: name) {
            H5Dread(raw, T.hdf5ElementType.memoryTypeID, selection.memory.raw, selection.file.raw, CHDF5_p_default(),
                    base)
        }
    }

    /// Reads `count` rows starting at `row` into a new array (row-major).
    public func readRows<T: HDF5Scalar>(
        _ type: T.Type = T.self, at row: Int, count: Int
    ) throws(HDF5Error) -> [T] {
        let rowElements = try currentShape().dropFirst().reduce(1, *)
        let total = try elementCount([rowElements, max(count, 0)], "readRows", path: filePath, object: name)
        var result = [T]()
        try withUninitializedArray(&result, count: total) { (buffer) throws(HDF5Error) in
            try readRows(at: row, into: buffer)
        }
        return result
    }

    private struct RowPlan {
        var rank: Int
        var rowShape: [Int]
        var rowElements: Int
        var rowCount: Int
        var directChunk: DirectChunk?
    }

    /// Validates a row transfer against the current extent and decides whether direct chunk I/O applies.
    private func rowPlan<T: HDF5Scalar>(
        _ type: T.Type, valueCount: Int, row: Int, operation: String
    ) throws(HDF5Error) -> RowPlan {
        let shape = try currentShape()
        guard let rows = shape.first else {
            throw .usage(operation, "a scalar dataset has no rows", path: filePath, object: name)
        }
        let rowShape = Array(shape.dropFirst())
        let rowElements = try elementCount(rowShape, operation, path: filePath, object: name)
        guard rowElements > 0 else {
            throw .usage(operation, "rows of shape \(rowShape) hold no values", path: filePath, object: name)
        }
        guard valueCount % rowElements == 0 else {
            throw .usage(operation, "\(valueCount) values are not whole rows of \(rowShape) (\(rowElements) values)",
                         path: filePath, object: name)
        }
        let rowCount = valueCount / rowElements
        guard row >= 0, row <= rows, rowCount <= rows - row else {
            throw .usage(operation, "rows \(row)..<\(row + rowCount) are outside the dataset's \(rows) rows",
                         path: filePath, object: name)
        }
        var direct: DirectChunk?
        if let chunk = directChunk, T.hdf5ElementType == elementType, chunk.rowShape == rowShape,
           row % chunk.rowsPerChunk == 0, rowCount % chunk.rowsPerChunk == 0
        {
            direct = chunk
        }
        return RowPlan(rank: shape.count, rowShape: rowShape, rowElements: rowElements, rowCount: rowCount,
                       directChunk: direct)
    }

    /// A file dataspace with a selection and the matching memory dataspace.
    private struct Selection: ~Copyable {
        let file: HDF5Handle
        let memory: HDF5Handle
    }

    /// The file selection of `plan.rowCount` rows from `row` and a matching one-dimensional memory space.
    private func selectRows(_ plan: RowPlan, row: Int) throws(HDF5Error) -> Selection {
        let raw = handle.raw
        let fileSpace = try HDF5Handle("H5Dget_space", .dataspace, path: filePath, object: name) { H5Dget_space(raw) }
        let start = [hsize_t(row)] + [hsize_t](repeating: 0, count: plan.rank - 1)
        let count = [hsize_t(plan.rowCount)] + plan.rowShape.map { hsize_t($0) }
        _ = try hdf5("H5Sselect_hyperslab", path: filePath, object: name) {
            H5Sselect_hyperslab(fileSpace.raw, H5S_SELECT_SET, start, nil, count, nil)
        }
        // The memory space has the selection's own shape: HDF5 then moves the rows as one contiguous block (with a
        // flat memory space it maps the selection element by element, ~30x slower).
        var memoryDims = count
        let memorySpace = try HDF5Handle("H5Screate_simple", .dataspace, path: filePath, object: name) {
            H5Screate_simple(Int32(memoryDims.count), &memoryDims, nil)
        }
        return Selection(file: fileSpace, memory: memorySpace)
    }

    // MARK: Whole dataset

    /// Writes every value of the dataset (`values.count` must equal the number of elements, row-major).
    public func write<T: HDF5Scalar>(_ values: UnsafeBufferPointer<T>) throws(HDF5Error) {
        let count = try elementCount(currentShape(), "write", path: filePath, object: name)
        guard values.count == count else {
            throw .usage("write", "\(values.count) values for a dataset of \(count) elements", path: filePath,
                         object: name)
        }
        guard count > 0 else { return }
        let raw = handle.raw
        _ = try hdf5("H5Dwrite", path: filePath, object: name) {
            H5Dwrite(raw, T.hdf5ElementType.memoryTypeID, CHDF5_s_all(), CHDF5_s_all(), CHDF5_p_default(),
                     values.baseAddress)
        }
    }

    /// Writes every value of the dataset (`values.count` must equal the number of elements, row-major).
    public func write<T: HDF5Scalar>(_ values: [T]) throws(HDF5Error) {
        try values.withUnsafeBufferPointer { (buffer) throws(HDF5Error) in try write(buffer) }
    }

    /// Reads every value (row-major), converting to `T` if the dataset's type differs.
    public func read<T: HDF5Scalar>(_ type: T.Type = T.self) throws(HDF5Error) -> [T] {
        if elementType == .string {
            throw .usage("read", "the dataset holds strings, not \(T.hdf5ElementType)", path: filePath, object: name)
        }
        let count = try elementCount(currentShape(), "read", path: filePath, object: name)
        let raw = handle.raw
        var result = [T]()
        try withUninitializedArray(&result, count: count) { (buffer) throws(HDF5Error) in
            guard count > 0 else { return }
            _ = try hdf5("H5Dread", path: filePath, object: name) {
                H5Dread(raw, T.hdf5ElementType.memoryTypeID, CHDF5_s_all(), CHDF5_s_all(), CHDF5_p_default(),
                        buffer.baseAddress)
            }
        }
        return result
    }

    /// Writes every string of a string dataset (`strings.count` must equal the number of elements).
    public func writeStrings(_ strings: [String]) throws(HDF5Error) {
        let count = try elementCount(currentShape(), "writeStrings", path: filePath, object: name)
        guard strings.count == count else {
            throw .usage("writeStrings", "\(strings.count) strings for a dataset of \(count) elements",
                         path: filePath, object: name)
        }
        guard count > 0 else { return }
        let raw = handle.raw
        let type = try HDF5Operations.variableUTF8StringType(path: filePath, object: name)
        try HDF5Operations.withCStringArray(strings, path: filePath, object: name) { (pointers) throws(HDF5Error) in
            _ = try hdf5("H5Dwrite", path: filePath, object: name) {
                H5Dwrite(raw, type.raw, CHDF5_s_all(), CHDF5_s_all(), CHDF5_p_default(), pointers)
            }
        }
    }

    /// Reads every string of a string dataset (variable- or fixed-length, UTF-8 or ASCII), row-major.
    public func readStrings() throws(HDF5Error) -> [String] {
        guard elementType == .string else {
            throw .usage("readStrings", "the dataset holds \(elementType?.rawValue ?? "an unsupported type"), "
                         + "not strings", path: filePath, object: name)
        }
        let count = try elementCount(currentShape(), "readStrings", path: filePath, object: name)
        let raw = handle.raw
        let fileType = try HDF5Handle("H5Dget_type", .datatype, path: filePath, object: name) { H5Dget_type(raw) }
        return try HDF5Operations.readStrings(fileType: fileType.raw, count: count, path: filePath, object: name) {
            (memoryType, buffer) throws(HDF5Error) in
            _ = try hdf5("H5Dread", path: filePath, object: name) {
                H5Dread(raw, memoryType, CHDF5_s_all(), CHDF5_s_all(), CHDF5_p_default(), buffer)
            }
        }
    }

    // MARK: Attributes

    /// Sets (creates or replaces) an attribute of this dataset.
    public func setAttribute(_ attribute: String, to value: AttributeValue) throws(HDF5Error) {
        try HDF5Attributes.set(attribute, to: value, on: handle.raw, path: filePath, object: name)
    }

    /// The attribute's value, or nil when the dataset has no attribute of that name.
    public func attribute(_ attribute: String) throws(HDF5Error) -> AttributeValue? {
        try HDF5Attributes.get(attribute, on: handle.raw, path: filePath, object: name)
    }

    /// Names of this dataset's attributes, sorted.
    public func attributeNames() throws(HDF5Error) -> [String] {
        try HDF5Attributes.names(on: handle.raw, path: filePath, object: name)
    }

    // MARK: Closing

    /// Closes the dataset now, reporting a failure (dropping the owner closes it too, silently).
    public consuming func close() throws(HDF5Error) {
        try handle.close(path: filePath, object: name)
    }
}

/// Fills a new array of `count` elements through `body` (which must initialise every element or throw).
func withUninitializedArray<T: BitwiseCopyable>(
    _ array: inout [T], count: Int, _ body: (UnsafeMutableBufferPointer<T>) throws(HDF5Error) -> Void
) throws(HDF5Error) {
    var failure: HDF5Error?
    array = [T](unsafeUninitializedCapacity: count) { buffer, initialized in
        do throws(HDF5Error) {
            try body(buffer)
            initialized = count
        } catch {
            failure = error
            initialized = 0
        }
    }
    if let failure { throw failure }
}
