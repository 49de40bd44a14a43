import Foundation
import Testing

@testable import HDF5Store

/// `HDF5Integrity.checkGlobalHeaps` refuses the damaged global heaps that make HDF5 1.10 crash or loop forever.
@Suite struct IntegrityTests {
    /// A small file with variable-length strings (one global heap collection) and its bytes.
    func fileWithStrings(in directory: TemporaryDirectory) throws -> (path: String, bytes: [UInt8], heap: Int) {
        let path = directory.file("strings.h5")
        do {
            let file = try HDF5File.create(path: path)
            try file.write(["blues/a.au", "jazz/b.au", "rock/c.au"], to: "paths")
        }
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let heap = try #require(Self.find(Array("GCOL".utf8), in: bytes))
        return (path, bytes, heap)
    }

    static func find(_ needle: [UInt8], in bytes: [UInt8]) -> Int? {
        guard bytes.count >= needle.count else { return nil }
        return (0...(bytes.count - needle.count)).first { Array(bytes[$0..<($0 + needle.count)]) == needle }
    }

    /// The offset of the free-space object (index 0) of the collection at `heap`, walking its objects.
    static func freeSpace(in bytes: [UInt8], heap: Int) -> Int? {
        func word(_ at: Int) -> Int { (0..<8).reduce(0) { $0 | Int(bytes[at + $1]) << (8 * $1) } }
        let end = heap + word(heap + 8)
        var object = heap + 16
        while object + 16 <= end {
            let index = Int(bytes[object]) | Int(bytes[object + 1]) << 8
            if index == 0 { return object }
            object += 16 + (word(object + 8) + 7) & ~7
        }
        return nil
    }

    @Test func anIntactFileHasSoundHeaps() throws {
        let directory = try TemporaryDirectory()
        let (path, _, _) = try fileWithStrings(in: directory)
        #expect(try HDF5Integrity.checkGlobalHeaps(path: path) >= 1)
    }

    /// Found by the reader fuzz test: a free-space size of 0 makes HDF5's heap walk stand still (an endless loop
    /// inside `H5Aread`/`H5Dread`); one larger than the collection makes it read past it.
    @Test(arguments: [UInt64(0), 8, 1 << 40])
    func aFreeSpaceObjectThatDoesNotFitIsRefused(size: UInt64) throws {
        let directory = try TemporaryDirectory()
        var (path, bytes, heap) = try fileWithStrings(in: directory)
        let free = try #require(Self.freeSpace(in: bytes, heap: heap))
        for k in 0..<8 { bytes[free + 8 + k] = UInt8(truncatingIfNeeded: size >> (8 * UInt64(k))) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(throws: HDF5Error.self) { try HDF5Integrity.checkGlobalHeaps(path: path) }
    }

    @Test func anObjectThatOverrunsTheCollectionIsRefused() throws {
        let directory = try TemporaryDirectory()
        var (path, bytes, heap) = try fileWithStrings(in: directory)
        let first = heap + 16
        for k in 0..<8 { bytes[first + 8 + k] = k == 7 ? 0x7F : 0xFF }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(throws: HDF5Error.self) { try HDF5Integrity.checkGlobalHeaps(path: path) }
    }
}
