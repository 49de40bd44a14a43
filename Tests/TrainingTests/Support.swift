import Deflate
import Foundation
/// The shared test support (TemporaryDirectory, ErrorBound, expectClose) for every file of this target.
@_exported import TestSupport
import HDF5Store
import Pipeline
import Shards
import SyntheticCorpus

@testable import Training

/// The value hand-made shards store at (clip, band, frame): distinct exact integers (+1 so that no cell is 0).
func cellValue(clip: Int, band: Int, frame: Int) -> Float {
    Float(clip * 100_000 + band * 1000 + frame + 1)
}

/// A small hand-made shard folder description: `[split: [[labels of shard 0], [labels of shard 1], ...]]`.
struct HandMadeFolder {
    var classes = ["blues", "jazz", "rock"]
    var nMels = 8
    var frames = 40
    var parameters: [String: ShardParameter] = ["hop_length": 512, "sample_rate": 22050]
    /// `/seconds` of the clip with that id (1 s, which fills the 40 frames, when absent); a clip with an entry is
    /// stored as padded when its seconds are below the clips' length.
    var clipSeconds: [Int: Float] = [:]

    /// Writes the shards; clip ids count up across all shards in (train, valid, test) then file order, and
    /// `cellValue(clip:band:frame:)` gives their contents. Returns the clip ids of every split in order.
    @discardableResult
    func write(to directory: String, splits: [String: [[Int32]]]) throws -> [String: [Int]] {
        var next = 0
        var ids: [String: [Int]] = [:]
        let order = ["train", "valid", "test"].filter { splits[$0] != nil }
            + splits.keys.filter { !["train", "valid", "test"].contains($0) }.sorted()
        for split in order {
            for (index, labels) in splits[split]!.enumerated() {
                try writeShard(directory + "/" + ShardSchema.fileName(split: split, index: index), split: split,
                               labels: labels, firstId: next)
                ids[split, default: []] += Array(next..<(next + labels.count))
                next += labels.count
            }
        }
        return ids
    }

    func metadata(split: String) -> ShardMetadata {
        ShardMetadata(classes: classes, split: split, nMels: nMels, frames: frames,
                      normMean: (0..<nMels).map { -40 + Float($0) }, normStd: (0..<nMels).map { 10 + Float($0) },
                      parameters: parameters, configuration: "{}")
    }

    func writeShard(_ path: String, split: String, labels: [Int32], firstId: Int) throws {
        var writer = try ShardWriter(path: path, metadata: metadata(split: split), capacity: labels.count,
                                     syncToDisk: false)
        for (k, label) in labels.enumerated() {
            let id = firstId + k
            var clip = [Float](repeating: 0, count: nMels * frames)
            for b in 0..<nMels { for t in 0..<frames { clip[b * frames + t] = cellValue(clip: id, band: b, frame: t) } }
            let seconds = clipSeconds[id] ?? 1
            try writer.append(mel: clip, label: label, path: "\(classes[Int(label)])/clip\(id).wav",
                              padded: clipSeconds[id] != nil, seconds: seconds)
        }
        try writer.commit()
    }
}

/// A hand-made folder with 3 train shards (4 + 4 + 3 clips), one valid and one test shard.
@discardableResult
func standardHandMadeFolder(_ directory: String, folder: HandMadeFolder = HandMadeFolder()) throws -> [String: [Int]] {
    try folder.write(to: directory, splits: [
        "train": [[0, 1, 2, 0], [1, 2, 0, 1], [2, 0, 1]],
        "valid": [[0, 1, 2]],
        "test": [[2, 1, 0, 0]],
    ])
}

// MARK: - The pipeline-made fixture (built once per test process)

/// Where the pipeline fixture lives; removed when the test process exits.
let pipelineFixtureRoot: String = {
    var base = NSTemporaryDirectory()
    while base.count > 1, base.hasSuffix("/") { base.removeLast() }
    return base + "/genrekit-training-fixture-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
}()

/// A synthetic corpus (10 genres x 3 clips of 4 s) preprocessed with the default configuration except 4-second
/// clips (173 frames) and 4 clips per shard: 10 clips in each of train, valid and test.
enum PipelineFixture {
    static let shardFolder: Result<String, any Error> = Result {
        atexit { try? FileManager.default.removeItem(atPath: pipelineFixtureRoot) }
        let corpus = pipelineFixtureRoot + "/corpus", shards = pipelineFixtureRoot + "/shards"
        _ = try SyntheticCorpus.write(to: corpus, options: .init(clipsPerGenre: 3, seconds: 4, seed: 1))
        var configuration = try PipelineConfiguration.parse(toml: "")
        configuration.audio.clipSeconds = 4
        configuration.shards.clipsPerShard = 4
        _ = try Preprocessor(configuration: configuration, options: .init(corpus: corpus, output: shards, jobs: 2))
            .run()
        return shards
    }

    static func folder() throws -> String { try shardFolder.get() }
}

// MARK: - Independent checks of the PNG encoder

/// CRC-32 bit by bit (no table), to check the encoder's table-driven one.
func bitwiseCRC32(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = (crc >> 1) ^ (crc & 1 == 1 ? 0xEDB8_8320 : 0) }
    }
    return ~crc
}

func bigEndian(_ bytes: ArraySlice<UInt8>) -> UInt32 {
    bytes.reduce(0) { $0 << 8 | UInt32($1) }
}

struct PNGChunk {
    var type: String
    var data: [UInt8]
    var crcMatches: Bool
}

/// The chunks of a PNG file (nil when the signature is wrong or a chunk runs past the end).
func pngChunks(_ png: [UInt8]) -> [PNGChunk]? {
    guard png.count >= 8, Array(png[0..<8]) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] else { return nil }
    var chunks: [PNGChunk] = []
    var at = 8
    while at + 12 <= png.count {
        let length = Int(bigEndian(png[at..<(at + 4)]))
        guard at + 12 + length <= png.count else { return nil }
        let typed = Array(png[(at + 4)..<(at + 8 + length)])
        let crc = bigEndian(png[(at + 8 + length)..<(at + 12 + length)])
        chunks.append(PNGChunk(type: String(decoding: typed.prefix(4), as: UTF8.self), data: Array(typed.dropFirst(4)),
                               crcMatches: bitwiseCRC32(typed) == crc))
        at += 12 + length
    }
    return at == png.count ? chunks : nil
}

/// The rows of a PNG as filter-0 rows (each row's filter undone, its filter byte set to 0): its IDAT data inflated
/// by zlib (`uncompress2`, which checks the Adler-32), which must hold exactly `height * (1 + width * channels)`
/// bytes for the IHDR's size and colour type (2 = RGB, 3 = palette); nil otherwise.
func inflateImageData(_ chunks: [PNGChunk]) -> [UInt8]? {
    guard let header = chunks.first(where: { $0.type == "IHDR" })?.data, header.count == 13 else { return nil }
    let width = Int(bigEndian(header[0..<4])), height = Int(bigEndian(header[4..<8]))
    let channels = header[9] == 2 ? 3 : 1
    let stream = chunks.filter { $0.type == "IDAT" }.flatMap(\.data)
    let rowBytes = width * channels
    guard var raw = try? Zlib.uncompress(stream, originalSize: height * (1 + rowBytes)) else { return nil }
    // Undo each row's filter (PNG specification, section 9), leaving the rows as filter-0 rows.
    for row in 0..<height {
        let at = row * (1 + rowBytes) + 1
        let filter = raw[at - 1]
        for i in 0..<rowBytes {
            let left = i >= channels ? Int(raw[at + i - channels]) : 0
            let up = row > 0 ? Int(raw[at - 1 - rowBytes + i]) : 0
            let upLeft = row > 0 && i >= channels ? Int(raw[at - 1 - rowBytes + i - channels]) : 0
            let p = left + up - upLeft
            let paeth = abs(p - left) <= abs(p - up) && abs(p - left) <= abs(p - upLeft)
                ? left : (abs(p - up) <= abs(p - upLeft) ? up : upLeft)
            let predictor: Int
            switch filter {
            case 0: predictor = 0
            case 1: predictor = left
            case 2: predictor = up
            case 3: predictor = (left + up) / 2
            case 4: predictor = paeth
            default: return nil
            }
            raw[at + i] = raw[at + i] &+ UInt8(predictor)
        }
        raw[at - 1] = 0
    }
    return raw
}
