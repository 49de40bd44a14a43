internal import CHDF5

/// The single owner of one HDF5 identifier (file, group, dataset, dataspace, datatype, property list, attribute or
/// generic object): it closes the identifier exactly once, either explicitly with `close(path:)` (which reports a
/// failure) or in `deinit` (which cannot). HDF5 identifiers are process-wide integers and the thread-safe library
/// serialises every call behind its global lock, so an owner may move between threads (`Sendable`).
struct HDF5Handle: ~Copyable, Sendable {
    enum Kind: Sendable {
        case file, group, dataset, dataspace, datatype, propertyList, attribute, object
    }

    let raw: hid_t
    let kind: Kind

    /// Takes ownership of an identifier that the caller has already checked (non-negative).
    init(_ raw: hid_t, _ kind: Kind) {
        self.raw = raw
        self.kind = kind
    }

    /// Opens or creates an identifier through the checker and takes ownership of it.
    @inline(__always)
    init(
        _ function: StaticString, _ kind: Kind, path: String?, object: String? = nil, _ call: () -> hid_t
    ) throws(HDF5Error) {
        self.init(try hdf5(function, path: path, object: object, call), kind)
    }

    deinit {
        _ = CHDF5_silence_automatic_error_printing()
        if HDF5Handle.close(raw, kind) < 0 {
            // A failed close has nowhere to be reported from deinit; drop its error stack so it cannot be mistaken
            // for the cause of a later failure on this thread.
            _ = H5Eclear2(CHDF5_e_default())
        }
    }

    /// Closes the identifier now and reports a failure (for a file this is where buffered data is written).
    consuming func close(path: String?, object: String? = nil) throws(HDF5Error) {
        let raw = self.raw
        let kind = self.kind
        discard self
        switch kind {
        case .file: _ = try hdf5("H5Fclose", path: path, object: object) { H5Fclose(raw) }
        case .group: _ = try hdf5("H5Gclose", path: path, object: object) { H5Gclose(raw) }
        case .dataset: _ = try hdf5("H5Dclose", path: path, object: object) { H5Dclose(raw) }
        case .dataspace: _ = try hdf5("H5Sclose", path: path, object: object) { H5Sclose(raw) }
        case .datatype: _ = try hdf5("H5Tclose", path: path, object: object) { H5Tclose(raw) }
        case .propertyList: _ = try hdf5("H5Pclose", path: path, object: object) { H5Pclose(raw) }
        case .attribute: _ = try hdf5("H5Aclose", path: path, object: object) { H5Aclose(raw) }
        case .object: _ = try hdf5("H5Oclose", path: path, object: object) { H5Oclose(raw) }
        }
    }

    private static func close(_ raw: hid_t, _ kind: Kind) -> herr_t {
        switch kind {
        case .file: H5Fclose(raw)
        case .group: H5Gclose(raw)
        case .dataset: H5Dclose(raw)
        case .dataspace: H5Sclose(raw)
        case .datatype: H5Tclose(raw)
        case .propertyList: H5Pclose(raw)
        case .attribute: H5Aclose(raw)
        case .object: H5Oclose(raw)
        }
    }
}
