import Foundation
import Testing

@testable import HDF5Store

// MARK: - Datasets of every element type

/// Writes `values` with `shape`, reads them back and checks values, shape and element type.
private func roundTrip<T: HDF5Scalar & Equatable>(_ values: [T], shape: [Int], in directory: TemporaryDirectory)
    throws
{
    let path = directory.file("\(T.self).h5")
    do {
        let file = try HDF5File.create(path: path)
        try file.write(values, shape: shape, to: "data")
        try file.close()
    }
    let file = try HDF5File(openingForReading: path)
    let (read, readShape) = try file.read("data", as: T.self)
    #expect(readShape == shape)
    #expect(read == values)
    let info = try file.datasetInfo("data")
    #expect(info.elementType == T.hdf5ElementType)
    #expect(info.chunks == nil)
    #expect(info.maxShape == shape.map { Optional($0) })
}

@Test func everyElementTypeRoundTrips() throws {
    let directory = try TemporaryDirectory()
    let shape = [2, 3, 4]
    let floats = (0..<24).map { Float($0) * 0.37 - 3.1 } + []
    try roundTrip(floats, shape: shape, in: directory)
    try roundTrip((0..<24).map { Double($0) * -1.0e-300 + .pi }, shape: shape, in: directory)
    try roundTrip((0..<24).map { Int8(truncatingIfNeeded: $0 * 11 - 128) }, shape: shape, in: directory)
    try roundTrip((0..<24).map { UInt8(truncatingIfNeeded: $0 * 11 + 3) }, shape: shape, in: directory)
    try roundTrip((0..<24).map { Int32($0) * 90_000_007 - Int32.max / 2 }, shape: shape, in: directory)
    try roundTrip((0..<24).map { Int64($0) * 1_000_000_000_007 - Int64.max / 3 }, shape: shape, in: directory)
    try roundTrip([Int64.min, Int64.max, 0], shape: [3], in: directory)
    try roundTrip([Float.greatestFiniteMagnitude, -.leastNonzeroMagnitude, .infinity], shape: [3], in: directory)
}

@Test func floatsRoundTripBitExactIncludingNaN() throws {
    let directory = try TemporaryDirectory()
    let path = directory.file("nan.h5")
    let values: [Float] = [.nan, -0.0, Float(bitPattern: 0x7FC0_1234), Float.leastNormalMagnitude / 4]
    do {
        let file = try HDF5File.create(path: path)
        try file.write(values, to: "x")
    }
    let (read, _) = try HDF5File(openingForReading: path).readFloats("x")
    #expect(read.map(\.bitPattern) == values.map(\.bitPattern))
}

@Test func readingConvertsBetweenNumericTypes() throws {
    let directory = try TemporaryDirectory()
    let path = directory.file("convert.h5")
    let file = try HDF5File.create(path: path)
    try file.write([Int32(-3), 7, 1 << 20], to: "ints")
    #expect(try file.readDoubles("ints").values == [-3, 7, 1_048_576])
    try file.write([0.5, 2.25] as [Double], to: "doubles")
    #expect(try file.readFloats("doubles").values == [0.5, 2.25])
}

@Test func scalarAndEmptyDatasets() throws {
    let directory = try TemporaryDirectory()
    let file = try HDF5File.create(path: directory.file("shapes.h5"))
    try file.write([Double(42.5)], shape: [], to: "scalar")
    let scalar = try file.readDoubles("scalar")
    #expect(scalar.values == [42.5])
    #expect(scalar.shape == [])
    try file.write([Float](), shape: [0, 128], to: "empty")
    let empty = try file.readFloats("empty")
    #expect(empty.values.isEmpty)
    #expect(empty.shape == [0, 128])
    try file.write([String](), to: "no-strings")
    #expect(try file.readStrings("no-strings") == [])
}

@Test func gzipCompressedChunkedDatasetRoundTrips() throws {
    let directory = try TemporaryDirectory()
    let path = directory.file("gzip.h5")
    let values = (0..<(256 * 200)).map { Float($0 % 50) }
    do {
        let file = try HDF5File.create(path: path)
        try file.write(values, shape: [256, 200], to: "z", chunks: [8, 200], compression: .gzip(level: 4))
    }
    let file = try HDF5File(openingForReading: path)
    #expect(try file.readFloats("z").values == values)
    let info = try file.datasetInfo("z")
    #expect(info.chunks == [8, 200])
    #expect(info.compression == .gzip(level: 4))
    let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? .max
    #expect(size < values.count * 4 / 4, "compressed file of \(size) bytes")
}

// MARK: - Strings

@Test func unicodeStringsRoundTrip() throws {
    let directory = try TemporaryDirectory()
    let path = directory.file("strings.h5")
    let strings = ["blues/blues.00000.au", "", "métal/Motörhead – Ace of Spades.wav", "日本語/曲.flac",
                   "emoji/🎸🥁.mp3", String(repeating: "long/", count: 400)]
    do {
        let file = try HDF5File.create(path: path)
        try file.write(strings, to: "paths")
    }
    let file = try HDF5File(openingForReading: path)
    #expect(try file.readStrings("paths") == strings)
    #expect(try file.datasetInfo("paths").elementType == .string)
    #expect(try file.shape(of: "paths") == [strings.count])
}

@Test func stringsWithNULAreRejected() throws {
    let directory = try TemporaryDirectory()
    let file = try HDF5File.create(path: directory.file("nul.h5"))
    let error = #expect(throws: HDF5Error.self) { try file.write(["a\u{0}b"], to: "bad") }
    #expect(error?.message.contains("NUL") == true)
}

// MARK: - Attributes

@Test func attributesOfEveryKindRoundTripOnRootGroupAndDataset() throws {
    let directory = try TemporaryDirectory()
    let path = directory.file("attributes.h5")
    let values: [String: AttributeValue] = [
        "schema": .string("genrekit-shard/1"),
        "unicode": .string("Ünïcødé – 🎵"),
        "empty_text": .string(""),
        "classes": .strings(["blues", "classical", "hip-hop", "música"]),
        "no_classes": .strings([]),
        "sample_rate": .int(22050),
        "negative": .int(-9_000_000_000),
        "shape": .ints([128, 1292]),
        "no_ints": .ints([]),
        "fmax": .double(11025.5),
        "tiny": .double(-1.0e-300),
        "weights": .doubles([0.25, -1.5, 3.0e100]),
        "mean": .floats([1.5, -2.25, .greatestFiniteMagnitude]),
        "center": .bool(true),
        "normalised": .bool(false),
    ]
    do {
        let file = try HDF5File.create(path: path)
        try file.createGroup("norm")
        let dataset = try file.createDataset("mel", of: Float.self, shape: [1, 2])
        for (name, value) in values {
            try file.setAttribute(name, to: value)
            try file.setAttribute(name, to: value, on: "norm")
            try dataset.setAttribute(name, to: value)
        }
    }
    let file = try HDF5File(openingForReading: path)
    #expect(try file.attributes() == values)
    #expect(try file.attributes(on: "norm") == values)
    #expect(try file.attributes(on: "mel") == values)
    #expect(try file.openDataset("mel").attribute("fmax") == .double(11025.5))
    #expect(try file.attributeNames() == values.keys.sorted())
    #expect(try file.openDataset("mel").attributeNames() == values.keys.sorted())
    #expect(try file.attribute("missing") == nil)
}

@Test func settingAnAttributeAgainReplacesItsValueAndType() throws {
    let directory = try TemporaryDirectory()
    let path = directory.file("replace.h5")
    let file = try HDF5File.create(path: path)
    try file.setAttribute("clips", to: 0)
    try file.setAttribute("clips", to: .ints([1, 2]))
    try file.setAttribute("clips", to: "many")
    #expect(try file.attribute("clips") == .string("many"))
    try file.removeAttribute("clips")
    #expect(try file.attribute("clips") == nil)
    #expect(try file.attributeNames() == [])
}

@Test func attributeValueLiteralsAndAccessors() {
    let values: [AttributeValue] = ["text", 3, 0.5, true]
    #expect(values == [.string("text"), .int(3), .double(0.5), .bool(true)])
    #expect(AttributeValue.int(3).doubleValue == 3)
    #expect(AttributeValue.floats([0.5]).doublesValue == [0.5])
    #expect(AttributeValue.string("x").intValue == nil)
    #expect(AttributeValue.strings(["a", "b\"c"]).description == #"["a", "b\"c"]"#)
}

// MARK: - Rows (hyperslabs along the first axis)

/// A `[rows, 4, 5]` dataset's row `index`: distinct values per row and position.
private func row(_ index: Int) -> [Float] { (0..<20).map { Float(index * 100 + $0) + 0.5 } }

@Test(arguments: [
    ("one row per chunk (direct chunk I/O)", [1, 4, 5] as [Int]?),
    ("three rows per chunk (partial chunks go through selections)", [3, 4, 5]),
    ("contiguous", nil),
    ("chunk narrower than a row", [1, 2, 5]),
])
func rowsRoundTrip(_ label: String, _ chunks: [Int]?) throws {
    let directory = try TemporaryDirectory()
    let path = directory.file("rows.h5")
    do {
        let file = try HDF5File.create(path: path)
        let dataset = try file.createDataset("mel", of: Float.self, shape: [10, 4, 5], chunks: chunks)
        // Single rows out of order, then two rows at once, then six rows in one call.
        for index in [3, 0, 9] { try row(index).withUnsafeBufferPointer { try dataset.writeRows($0, at: index) } }
        try (row(1) + row(2)).withUnsafeBufferPointer { try dataset.writeRows($0, at: 1) }
        try (4..<9).flatMap(row).withUnsafeBufferPointer { try dataset.writeRows($0, at: 4) }
        try dataset.close()
        try file.close()
    }
    let file = try HDF5File(openingForReading: path)
    #expect(try file.readFloats("mel").values == (0..<10).flatMap(row), "\(label)")
    let dataset = try file.openDataset("mel")
    #expect(try dataset.readRows(Float.self, at: 7, count: 1) == row(7))
    #expect(try dataset.readRows(Float.self, at: 2, count: 6) == (2..<8).flatMap(row))
    var buffer = [Float](repeating: -1, count: 40)
    try buffer.withUnsafeMutableBufferPointer { try file.readRows(from: "mel", at: 8, into: $0) }
    #expect(buffer == row(8) + row(9))
    #expect(try dataset.readRows(Float.self, at: 10, count: 0) == [])
}

@Test func rowsNeverWrittenReadAsZeros() throws {
    let directory = try TemporaryDirectory()
    let file = try HDF5File.create(path: directory.file("sparse.h5"))
    let dataset = try file.createDataset("mel", of: Float.self, shape: [4, 3, 2], chunks: [1, 3, 2])
    try row(0).prefix(6).withUnsafeBufferPointer { try dataset.writeRows(UnsafeBufferPointer(rebasing: $0[...]), at: 2) }
    let all = try dataset.readRows(Float.self, at: 0, count: 4)
    #expect(all == [Float](repeating: 0, count: 12) + Array(row(0).prefix(6)) + [Float](repeating: 0, count: 6))
}

@Test func rowsCanBeWrittenWithAnotherNumericType() throws {
    let directory = try TemporaryDirectory()
    let file = try HDF5File.create(path: directory.file("convert-rows.h5"))
    let dataset = try file.createDataset("x", of: Float.self, shape: [2, 3], chunks: [1, 3])
    try [Double(1.5), -2, 300].withUnsafeBufferPointer { try dataset.writeRows($0, at: 1) }
    #expect(try dataset.read(Float.self) == [0, 0, 0, 1.5, -2, 300])
    #expect(try dataset.readRows(Int32.self, at: 1, count: 1)[1...] == [-2, 300])
    // Rows written through the library's chunk cache are visible to direct chunk reads, and the other way round.
    #expect(try dataset.readRows(Float.self, at: 1, count: 1) == [1.5, -2, 300])
    try [Float(7), 8, 9].withUnsafeBufferPointer { try dataset.writeRows($0, at: 1) }
    #expect(try dataset.readRows(Double.self, at: 0, count: 2) == [0, 0, 0, 7, 8, 9])
}

@Test func rowRequestsOutsideTheDatasetOrOfPartialRowsAreRejected() throws {
    let directory = try TemporaryDirectory()
    let path = directory.file("bad-rows.h5")
    let file = try HDF5File.create(path: path)
    let dataset = try file.createDataset("mel", of: Float.self, shape: [3, 4, 5], chunks: [1, 4, 5])
    let outside = #expect(throws: HDF5Error.self) {
        try row(0).withUnsafeBufferPointer { try dataset.writeRows($0, at: 3) }
    }
    #expect(outside?.path == path)
    #expect(outside?.object == "mel")
    #expect(outside?.message.contains("outside") == true)
    let partial = #expect(throws: HDF5Error.self) {
        try [Float](repeating: 0, count: 19).withUnsafeBufferPointer { try dataset.writeRows($0, at: 0) }
    }
    #expect(partial?.message.contains("whole rows") == true)
    #expect(throws: HDF5Error.self) { try dataset.readRows(Float.self, at: -1, count: 1) }
    #expect(throws: HDF5Error.self) { try dataset.readRows(Float.self, at: 2, count: 2) }
}

@Test func unlimitedDatasetGrowsAndShrinks() throws {
    let directory = try TemporaryDirectory()
    let path = directory.file("grow.h5")
    do {
        let file = try HDF5File.create(path: path)
        let dataset = try file.createDataset("mel", of: Float.self, shape: [2, 4, 5], maxShape: [nil, 4, 5],
                                             chunks: [1, 4, 5])
        for index in 0..<2 { try row(index).withUnsafeBufferPointer { try dataset.writeRows($0, at: index) } }
        try dataset.resize(to: [8, 4, 5])
        for index in 2..<8 { try row(index).withUnsafeBufferPointer { try dataset.writeRows($0, at: index) } }
        try dataset.resize(to: [5, 4, 5])
        #expect(try dataset.shape == [5, 4, 5])
    }
    let file = try HDF5File(openingForReading: path)
    #expect(try file.readFloats("mel").values == (0..<5).flatMap(row))
    #expect(try file.datasetInfo("mel").maxShape == [nil, 4, 5])
}

// MARK: - Groups and listing

@Test func groupsAndListing() throws {
    let directory = try TemporaryDirectory()
    let file = try HDF5File.create(path: directory.file("listing.h5"))
    try file.createGroup("a/b")
    try file.write([Float(1)], to: "norm/mean")  // intermediate group created on the way
    try file.write([Int32(1)], to: "label")
    try file.write(["x"], to: "a/b/path")
    #expect(try file.datasetNames() == ["label"])
    #expect(try file.groupNames() == ["a", "norm"])
    #expect(try file.datasetNames(in: "norm") == ["mean"])
    #expect(try file.datasetNames(in: "/a/b") == ["path"])
    #expect(try file.contains("/"))
    #expect(try file.contains("norm/mean"))
    #expect(try file.contains("/a/b/path"))
    #expect(try !file.contains("a/c/path"))
    #expect(try !file.contains("missing"))
    #expect(throws: HDF5Error.self) { try file.createGroup("a") }
}

// MARK: - Errors name the file and the reason

@Test func openingAMissingFileNamesTheFileAndTheReason() throws {
    let directory = try TemporaryDirectory()
    let path = directory.file("does-not-exist.h5")
    let error = #expect(throws: HDF5Error.self) { _ = try HDF5File(openingForReading: path) }
    #expect(error?.path == path)
    #expect(error?.function == "H5Fopen")
    #expect(error?.message.contains("No such file or directory") == true)
    #expect(error?.description.hasPrefix("\(path): H5Fopen: unable to open file") == true, "\(String(describing: error))")
    #expect(error?.description.contains("\n") == false)
}

@Test func openingANonHDF5FileNamesTheFileAndTheReason() throws {
    let directory = try TemporaryDirectory()
    let path = directory.file("not-hdf5.h5")
    try Data("this is a text file, not HDF5\n".utf8).write(to: URL(fileURLWithPath: path))
    let error = #expect(throws: HDF5Error.self) { _ = try HDF5File(openingForWriting: path) }
    #expect(error?.path == path)
    #expect(error?.message.contains("file signature not found") == true, "\(String(describing: error))")
}

@Test func openingAMissingDatasetNamesTheFileAndTheDataset() throws {
    let directory = try TemporaryDirectory()
    let path = directory.file("no-dataset.h5")
    let file = try HDF5File.create(path: path)
    let error = #expect(throws: HDF5Error.self) { _ = try file.readFloats("mel") }
    #expect(error?.path == path)
    #expect(error?.object == "mel")
    #expect(error?.function == "H5Dopen2")
    #expect(error?.message.contains("doesn't exist") == true, "\(String(describing: error))")
    #expect(error?.description.hasPrefix("\(path): H5Dopen2 'mel': ") == true)
    #expect(throws: HDF5Error.self) { _ = try file.attributes(on: "missing-group") }
}

@Test func creatingWithoutOverwriteFailsOnAnExistingFile() throws {
    let directory = try TemporaryDirectory()
    let path = directory.file("exists.h5")
    try HDF5File.create(path: path).close()
    let error = #expect(throws: HDF5Error.self) { _ = try HDF5File.create(path: path, overwrite: false) }
    #expect(error?.path == path)
    #expect(error?.function == "H5Fcreate")
}

@Test func readingTheWrongKindOfDatasetIsAnError() throws {
    let directory = try TemporaryDirectory()
    let file = try HDF5File.create(path: directory.file("kinds.h5"))
    try file.write(["a"], to: "text")
    try file.write([Float(1)], to: "number")
    #expect(throws: HDF5Error.self) { _ = try file.readFloats("text") }
    #expect(throws: HDF5Error.self) { _ = try file.readStrings("number") }
    #expect(throws: HDF5Error.self) { try file.write([Float(1), 2], shape: [3], to: "short") }
}

@Test func automaticErrorPrintingIsOffOnEveryThreadThatCallsHDF5() async throws {
    let directory = try TemporaryDirectory()
    let path = directory.file("missing.h5")
    // Threads created for the test: HDF5's printing switch is per thread in the thread-safe build.
    let results = try await withThrowingTaskGroup(of: Bool.self) { group in
        for _ in 0..<4 {
            group.addTask {
                await withCheckedContinuation { continuation in
                    Thread {
                        _ = try? HDF5File(openingForReading: path)
                        continuation.resume(returning: automaticErrorPrintingIsOffOnThisThread())
                    }.start()
                }
            }
        }
        return try await group.reduce(into: []) { $0.append($1) }
    }
    #expect(results == [true, true, true, true])
}

// MARK: - Parallel use

@Test func parallelRoundTripsInDifferentFiles() async throws {
    let directory = try TemporaryDirectory()
    let count = 8
    try await withThrowingTaskGroup(of: Void.self) { group in
        for task in 0..<count {
            let path = directory.file("parallel-\(task).h5")
            group.addTask {
                let rows = 16
                let values = (0..<(rows * 64 * 32)).map { Float($0 &* (task + 1) % 9973) }
                do {
                    let file = try HDF5File.create(path: path)
                    let dataset = try file.createDataset("mel", of: Float.self, shape: [rows, 64, 32],
                                                         chunks: [1, 64, 32])
                    for row in 0..<rows {
                        try values.withUnsafeBufferPointer { all in
                            try dataset.writeRows(UnsafeBufferPointer(rebasing: all[(row * 2048)..<((row + 1) * 2048)]),
                                                  at: row)
                        }
                    }
                    try file.write((0..<rows).map { "clip-\(task)-\($0)-é" }, to: "path")
                    try file.setAttribute("task", to: .int(task))
                }
                let file = try HDF5File(openingForReading: path)
                #expect(try file.readFloats("mel").values == values)
                #expect(try file.readStrings("path") == (0..<rows).map { "clip-\(task)-\($0)-é" })
                #expect(try file.attribute("task") == .int(task))
            }
        }
        try await group.waitForAll()
    }
}

@Test func reopeningWorksWhileAnotherThreadSpawnsProcesses() throws {
    // A child process inherits the parent's descriptors until it execs: with HDF5's flock-based file locking
    // that made reopening a just-closed file fail now and then ("unable to lock file, errno = 11").
    let directory = try TemporaryDirectory()
    let path = directory.file("reopen.h5")
    let stop = Stop()
    let spawner = Thread {
        while !stop.isSet {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/true")
            try? process.run()
            process.waitUntilExit()
        }
    }
    spawner.start()
    defer { stop.set() }
    for cycle in 0..<300 {
        do {
            let file = try HDF5File.create(path: path)
            try file.write([Int32(cycle)], to: "cycle")
        }
        #expect(try HDF5File(openingForReading: path).readInt32s("cycle").values == [Int32(cycle)])
    }
}

/// A flag set once, read from another thread.
private final class Stop: @unchecked Sendable {
    // Invariant: `flag` is only accessed with `lock` held.
    private let lock = NSLock()
    private var flag = false
    var isSet: Bool { lock.withLock { flag } }
    func set() { lock.withLock { flag = true } }
}

/// Full-size rows (`[128, 1292]` float32, one chunk each) written and read back through hyperslabs. The throughput
/// of the same work is printed by `BenchmarkTests` on request (no clock here).
@Test func fullSizeRowsRoundTrip() throws {
    let directory = try TemporaryDirectory()
    let path = directory.file("rows.h5")
    let (rows, mels, frames) = (4, 128, 1292)
    let clip = (0..<(mels * frames)).map { Float($0 % 977) * 0.01 }
    let file = try HDF5File.create(path: path)
    let dataset = try file.createDataset("mel", of: Float.self, shape: [rows, mels, frames], chunks: [1, mels, frames])
    try clip.withUnsafeBufferPointer { clip in
        for row in 0..<rows { try dataset.writeRows(clip, at: row) }
    }
    try file.flush()
    var buffer = [Float](repeating: 0, count: mels * frames)
    for row in 0..<rows {
        try buffer.withUnsafeMutableBufferPointer { try dataset.readRows(at: row, into: $0) }
        #expect(buffer == clip, "row \(row)")
    }
}
