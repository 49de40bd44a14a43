import Foundation

/// Structural checks of an HDF5 file's bytes that the C library (1.10) does not make before trusting them.
///
/// Why: variable-length data (every UTF-8 string attribute and dataset written by HDF5Store) lives in *global heap
/// collections* ("GCOL" blocks), which carry no checksum even in the 1.10 file format. HDF5 1.10.8 trusts the
/// object sizes recorded there: a damaged size makes `H5HG_read` copy past the end of the collection, and the
/// process dies with a segmentation fault inside `H5Aread`/`H5Dread` (found by the reader fuzz tests:
/// `Tests/TrainingTests/ReaderFuzzTests.swift`). `checkGlobalHeaps(path:)` walks every collection first and refuses
/// a file whose collections do not add up, so callers get an error instead of a crash.
///
/// The check reads the whole file (memory-mapped): use it where the whole file is read anyway or is small
/// (`genre verify`, checkpoints), not on every open of a large shard.
public enum HDF5Integrity {
    /// Global heap collection header: "GCOL", version 1, 3 reserved bytes, 8-byte collection size.
    static let collectionHeaderBytes = 16
    /// Heap object header: 2-byte index, 2-byte reference count, 4 reserved bytes, 8-byte object size.
    static let objectHeaderBytes = 16

    /// Walks every global heap collection in the file at `path` (found by its `GCOL` signature, version 1) and checks that it
    /// lies inside the file and that its objects, each rounded up to 8 bytes, fit inside it. Returns the number of
    /// collections found. Throws an `HDF5Error` (function `"check global heap"`) naming the offset of the first
    /// damaged collection, or when the file cannot be read.
    @discardableResult
    public static func checkGlobalHeaps(path: String) throws(HDF5Error) -> Int {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw .usage("check global heap", "cannot read the file: \(error.localizedDescription)", path: path)
        }
        var collections = 0
        let problem: String? = data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) -> String? in
            guard let base = bytes.baseAddress, bytes.count >= collectionHeaderBytes else { return nil }
            let size = bytes.count
            var searchFrom = 0
            while searchFrom + 4 <= size,
                  let found = memchr(base + searchFrom, Int32(UInt8(ascii: "G")), size - searchFrom)
            {
                let start = base.distance(to: UnsafeRawPointer(found))
                searchFrom = start + 1
                guard start + 4 <= size, bytes[start + 1] == UInt8(ascii: "C"), bytes[start + 2] == UInt8(ascii: "O"),
                      bytes[start + 3] == UInt8(ascii: "L")
                else { continue }
                // A version other than 1 is not a collection header (a chance match inside raw data): skip it.
                guard start + collectionHeaderBytes <= size, bytes[start + 4] == 1 else { continue }
                collections += 1
                let length = base.loadUnaligned(fromByteOffset: start + 8, as: UInt64.self).littleEndian
                guard length >= UInt64(collectionHeaderBytes), length <= UInt64(size - start) else {
                    return "global heap collection at byte \(start) claims \(length) bytes; the file has "
                        + "\(size - start) from there"
                }
                let end = start + Int(length)
                var object = start + collectionHeaderBytes
                while object + objectHeaderBytes <= end {
                    let index = base.loadUnaligned(fromByteOffset: object, as: UInt16.self).littleEndian
                    let objectSize = base.loadUnaligned(fromByteOffset: object + 8, as: UInt64.self).littleEndian
                    if index == 0 {
                        // Free space, its header included. HDF5 1.10 steps over it by its recorded size and goes on
                        // walking: a size below one object header makes that walk stand still (an endless loop in
                        // `H5HG_read`), one past the collection's end makes it read beyond.
                        guard objectSize >= UInt64(objectHeaderBytes), objectSize <= UInt64(end - object) else {
                            return "global heap collection at byte \(start): free space of \(objectSize) bytes "
                                + "at byte \(object) does not fit the collection"
                        }
                        object += Int(objectSize)
                        continue
                    }
                    let (padded, overflow) = objectSize.addingReportingOverflow(7)
                    let needed = overflow ? UInt64.max : padded & ~7
                    guard needed <= UInt64(end - object - objectHeaderBytes) else {
                        return "global heap collection at byte \(start): object \(index) of \(objectSize) bytes "
                            + "overruns the collection"
                    }
                    object += objectHeaderBytes + Int(needed)
                }
                searchFrom = max(searchFrom, start + collectionHeaderBytes)
            }
            return nil
        }
        if let problem { throw .usage("check global heap", problem + " (damaged file)", path: path) }
        return collections
    }
}
