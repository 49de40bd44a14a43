internal import CHDF5

/// The C-level building blocks shared by `HDF5File`, `HDF5Dataset` and the attribute code. Every function works on
/// raw identifiers owned by the caller and takes the file path (and object name) only to name them in errors.
enum HDF5Operations {
    // MARK: Dataspaces

    /// A dataspace of `shape` (`[]` = scalar); `maxShape` nil = fixed size, an axis of `nil` = unlimited.
    static func createDataspace(
        shape: [Int], maxShape: [Int?]?, path: String?, object: String?
    ) throws(HDF5Error) -> HDF5Handle {
        if shape.isEmpty {
            return try HDF5Handle("H5Screate", .dataspace, path: path, object: object) { H5Screate(H5S_SCALAR) }
        }
        let dims = try hsizes(shape, "create dataspace", path: path, object: object)
        guard let maxShape else {
            return try HDF5Handle("H5Screate_simple", .dataspace, path: path, object: object) {
                H5Screate_simple(Int32(dims.count), dims, nil)
            }
        }
        guard maxShape.count == shape.count else {
            throw .usage("create dataspace", "maxShape \(maxShape) has not the rank of shape \(shape)",
                         path: path, object: object)
        }
        var maxDims: [hsize_t] = []
        for (axis, limit) in maxShape.enumerated() {
            if let limit {
                guard limit >= shape[axis] else {
                    throw .usage("create dataspace", "maxShape \(maxShape) is smaller than shape \(shape)",
                                 path: path, object: object)
                }
                maxDims.append(hsize_t(limit))
            } else {
                maxDims.append(CHDF5_s_unlimited())
            }
        }
        return try HDF5Handle("H5Screate_simple", .dataspace, path: path, object: object) {
            H5Screate_simple(Int32(dims.count), dims, maxDims)
        }
    }

    /// The current and maximum extents of a dataspace (`[]` for a scalar one, `[0]` for a null one).
    static func extent(
        ofSpace space: hid_t, path: String?, object: String?
    ) throws(HDF5Error) -> (shape: [Int], maxShape: [Int?]) {
        let spaceClass = try hdf5("H5Sget_simple_extent_type", path: path, object: object,
                                  failsWhen: { $0 == H5S_NO_CLASS }) { H5Sget_simple_extent_type(space) }
        if spaceClass == H5S_NULL { return ([0], [0]) }
        let rank = Int(try hdf5("H5Sget_simple_extent_ndims", path: path, object: object) {
            H5Sget_simple_extent_ndims(space)
        })
        if rank == 0 { return ([], []) }
        var dims = [hsize_t](repeating: 0, count: rank)
        var maxDims = [hsize_t](repeating: 0, count: rank)
        _ = try hdf5("H5Sget_simple_extent_dims", path: path, object: object) {
            H5Sget_simple_extent_dims(space, &dims, &maxDims)
        }
        let unlimited = CHDF5_s_unlimited()
        return (dims.map { Int($0) }, maxDims.map { $0 == unlimited ? nil : Int($0) })
    }

    /// A one-dimensional memory dataspace of `count` elements.
    static func memorySpace(count: Int, path: String?, object: String?) throws(HDF5Error) -> HDF5Handle {
        var dims = [hsize_t(count)]
        return try HDF5Handle("H5Screate_simple", .dataspace, path: path, object: object) {
            H5Screate_simple(1, &dims, nil)
        }
    }

    // MARK: Datasets

    /// Creates a dataset (and any missing intermediate groups in `name`).
    static func createDataset(
        on location: hid_t, name: String, fileType: hid_t, shape: [Int], maxShape: [Int?]?, chunks: [Int]?,
        compression: HDF5Compression, path: String
    ) throws(HDF5Error) -> HDF5Handle {
        let operation = "create dataset"
        if maxShape?.contains(where: { $0 == nil }) == true, chunks == nil {
            throw .usage(operation, "an unlimited axis needs a chunk shape", path: path, object: name)
        }
        if compression != .none, chunks == nil {
            throw .usage(operation, "compression needs a chunk shape", path: path, object: name)
        }
        let space = try createDataspace(shape: shape, maxShape: maxShape, path: path, object: name)
        let creation = try HDF5Handle("H5Pcreate", .propertyList, path: path, object: name) {
            H5Pcreate(CHDF5_p_dataset_create())
        }
        if let chunks {
            guard chunks.count == shape.count, !chunks.isEmpty, chunks.allSatisfy({ $0 > 0 }) else {
                throw .usage(operation, "chunk shape \(chunks) does not fit shape \(shape)", path: path, object: name)
            }
            let chunkDims = chunks.map { hsize_t($0) }
            _ = try hdf5("H5Pset_chunk", path: path, object: name) {
                H5Pset_chunk(creation.raw, Int32(chunkDims.count), chunkDims)
            }
        }
        if case .gzip(let level) = compression {
            guard (0...9).contains(level) else {
                throw .usage(operation, "gzip level \(level) is not in 0...9", path: path, object: name)
            }
            _ = try hdf5("H5Pset_deflate", path: path, object: name) { H5Pset_deflate(creation.raw, UInt32(level)) }
        }
        let linkCreation = try intermediateGroupLinkCreation(path: path, object: name)
        return try HDF5Handle("H5Dcreate2", .dataset, path: path, object: name) {
            H5Dcreate2(location, name, fileType, space.raw, linkCreation.raw, creation.raw, CHDF5_p_default())
        }
    }

    /// A link-creation property list that creates missing intermediate groups.
    static func intermediateGroupLinkCreation(path: String?, object: String?) throws(HDF5Error) -> HDF5Handle {
        let linkCreation = try HDF5Handle("H5Pcreate", .propertyList, path: path, object: object) {
            H5Pcreate(CHDF5_p_link_create())
        }
        _ = try hdf5("H5Pset_create_intermediate_group", path: path, object: object) {
            H5Pset_create_intermediate_group(linkCreation.raw, 1)
        }
        return linkCreation
    }

    static func openDataset(on location: hid_t, name: String, path: String) throws(HDF5Error) -> HDF5Handle {
        try HDF5Handle("H5Dopen2", .dataset, path: path, object: name) {
            H5Dopen2(location, name, CHDF5_p_default())
        }
    }

    /// Shape, type and storage of an open dataset.
    static func info(ofDataset dataset: hid_t, path: String, object: String) throws(HDF5Error) -> HDF5DatasetInfo {
        let space = try HDF5Handle("H5Dget_space", .dataspace, path: path, object: object) { H5Dget_space(dataset) }
        let (shape, maxShape) = try extent(ofSpace: space.raw, path: path, object: object)
        let type = try HDF5Handle("H5Dget_type", .datatype, path: path, object: object) { H5Dget_type(dataset) }
        let elementType = try HDF5ElementType.of(typeID: type.raw, path: path, object: object)
        let creation = try HDF5Handle("H5Dget_create_plist", .propertyList, path: path, object: object) {
            H5Dget_create_plist(dataset)
        }
        let layout = try hdf5("H5Pget_layout", path: path, object: object, failsWhen: { $0 == H5D_LAYOUT_ERROR }) {
            H5Pget_layout(creation.raw)
        }
        var chunks: [Int]?
        var compression = HDF5Compression.none
        if layout == H5D_CHUNKED {
            var chunkDims = [hsize_t](repeating: 0, count: max(shape.count, 1))
            let rank = try hdf5("H5Pget_chunk", path: path, object: object) {
                H5Pget_chunk(creation.raw, Int32(chunkDims.count), &chunkDims)
            }
            chunks = chunkDims.prefix(Int(rank)).map { Int($0) }
            let filterCount = try hdf5("H5Pget_nfilters", path: path, object: object) {
                H5Pget_nfilters(creation.raw)
            }
            for index in 0..<UInt32(filterCount) {
                var flags: UInt32 = 0
                var valueCount = 1
                var values: [UInt32] = [0]
                let filter = try hdf5("H5Pget_filter2", path: path, object: object) {
                    H5Pget_filter2(creation.raw, index, &flags, &valueCount, &values, 0, nil, nil)
                }
                if filter == H5Z_FILTER_DEFLATE { compression = .gzip(level: Int(values[0])) }
            }
        }
        return HDF5DatasetInfo(shape: shape, maxShape: maxShape, elementType: elementType, chunks: chunks,
                               compression: compression)
    }

    // MARK: Strings

    /// The variable-length UTF-8 string type (h5py's `string_dtype("utf-8")`).
    static func variableUTF8StringType(path: String?, object: String?) throws(HDF5Error) -> HDF5Handle {
        let type = try HDF5Handle("H5Tcopy", .datatype, path: path, object: object) { H5Tcopy(CHDF5_t_c_s1()) }
        _ = try hdf5("H5Tset_size", path: path, object: object) { H5Tset_size(type.raw, CHDF5_t_variable()) }
        _ = try hdf5("H5Tset_cset", path: path, object: object) { H5Tset_cset(type.raw, H5T_CSET_UTF8) }
        return type
    }

    /// Calls `body` with a C array of `strings.count` pointers to NUL-terminated UTF-8 copies of the strings (the
    /// memory layout HDF5 expects for variable-length strings). Strings containing NUL are rejected.
    static func withCStringArray<R>(
        _ strings: [String], path: String?, object: String?, _ body: (UnsafeRawPointer?) throws(HDF5Error) -> R
    ) throws(HDF5Error) -> R {
        var bytes: [CChar] = []
        bytes.reserveCapacity(strings.reduce(0) { $0 + $1.utf8.count + 1 })
        var offsets: [Int] = []
        offsets.reserveCapacity(strings.count)
        for (index, string) in strings.enumerated() {
            offsets.append(bytes.count)
            for byte in string.utf8 {
                guard byte != 0 else {
                    throw .usage("write strings", "string \(index) contains a NUL character", path: path,
                                 object: object)
                }
                bytes.append(CChar(bitPattern: byte))
            }
            bytes.append(0)
        }
        return try bytes.withUnsafeBufferPointer { (storage) throws(HDF5Error) -> R in
            let pointers: [UnsafePointer<CChar>?] = offsets.map { storage.baseAddress! + $0 }
            return try pointers.withUnsafeBufferPointer { (pointers) throws(HDF5Error) -> R in
                try body(UnsafeRawPointer(pointers.baseAddress))
            }
        }
    }

    /// Reads `count` strings stored with `fileType` (variable-length or fixed-length, ASCII or UTF-8). `read` is
    /// the H5Dread/H5Aread call given a memory type and a destination buffer.
    static func readStrings(
        fileType: hid_t, count: Int, path: String?, object: String?,
        read: (_ memoryType: hid_t, _ buffer: UnsafeMutableRawPointer) throws(HDF5Error) -> Void
    ) throws(HDF5Error) -> [String] {
        if count == 0 { return [] }
        let isVariable = try hdf5("H5Tis_variable_str", path: path, object: object) { H5Tis_variable_str(fileType) }
        let characterSet = try hdf5("H5Tget_cset", path: path, object: object, failsWhen: { $0 == H5T_CSET_ERROR }) {
            H5Tget_cset(fileType)
        }
        if isVariable > 0 {
            let memoryType = try HDF5Handle("H5Tcopy", .datatype, path: path, object: object) {
                H5Tcopy(CHDF5_t_c_s1())
            }
            _ = try hdf5("H5Tset_size", path: path, object: object) {
                H5Tset_size(memoryType.raw, CHDF5_t_variable())
            }
            _ = try hdf5("H5Tset_cset", path: path, object: object) { H5Tset_cset(memoryType.raw, characterSet) }
            var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
            return try pointers.withUnsafeMutableBufferPointer { (pointers) throws(HDF5Error) -> [String] in
                try read(memoryType.raw, UnsafeMutableRawPointer(pointers.baseAddress!))
                let strings = pointers.map { $0.map { String(cString: $0) } ?? "" }
                let space = try memorySpace(count: count, path: path, object: object)
                _ = try hdf5("H5Dvlen_reclaim", path: path, object: object) {
                    H5Dvlen_reclaim(memoryType.raw, space.raw, CHDF5_p_default(), pointers.baseAddress)
                }
                return strings
            }
        }
        let size = try hdf5("H5Tget_size", path: path, object: object, failsWhen: { $0 == 0 }) {
            H5Tget_size(fileType)
        }
        let padding = try hdf5("H5Tget_strpad", path: path, object: object, failsWhen: { $0 == H5T_STR_ERROR }) {
            H5Tget_strpad(fileType)
        }
        let memoryType = try HDF5Handle("H5Tcopy", .datatype, path: path, object: object) { H5Tcopy(fileType) }
        var bytes = [UInt8](repeating: 0, count: size * count)
        try bytes.withUnsafeMutableBufferPointer { (buffer) throws(HDF5Error) -> Void in
            try read(memoryType.raw, UnsafeMutableRawPointer(buffer.baseAddress!))
        }
        return (0..<count).map { index in
            var field = bytes[(index * size)..<((index + 1) * size)]
            if let end = field.firstIndex(of: 0) { field = field[..<end] }
            if padding == H5T_STR_SPACEPAD { while field.last == 0x20 { field = field.dropLast() } }
            return String(decoding: field, as: UTF8.self)
        }
    }
}
