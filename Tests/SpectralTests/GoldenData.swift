import Foundation
import Spectral

/// The librosa golden files in `Tests/SpectralTests/Golden` (made by `scripts/make_golden.py`), read through
/// `#filePath` so that no resources need bundling.
enum GoldenData {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    struct Index: Decodable {
        let versions: [String: String]
        let parameters: [String: Parameters]
        let cases: [Case]
        let filterbanks: [Filterbank]
    }

    struct Parameters: Decodable {
        let sr: Int
        let n_fft: Int
        let hop_length: Int
        let n_mels: Int
        let fmin: Double
        let fmax: Double?
        let center: Bool
        let htk: Bool
        let norm: String?
        /// `"log1p"` (with `scale`) for musicnn's front end; absent for `power_to_db` (with `amin`, `ref`, `top_db`).
        let compression: String?
        let scale: Double?
        let amin: Double?
        let ref: Double?
        let top_db: Double?

        var logMel: LogMelParameters {
            LogMelParameters(
                sampleRate: sr, nFFT: n_fft, hopLength: hop_length, nMels: n_mels, fMin: fmin, fMax: fmax,
                center: center, melScale: htk ? .htk : .slaney, melNorm: norm == "slaney" ? .slaney : .none,
                compression: compression == "log1p"
                    ? .log1p(scale: Float(scale!))
                    : .decibels(refPower: Float(ref!), amin: Float(amin!), topDB: top_db.map { Float($0) }))
        }
    }

    struct Case: Decodable {
        let name: String
        let kind: String
        let input: String
        let samples: Int?
        let mel: String
        let shape: [Int]
        let parameters: String
    }

    struct Filterbank: Decodable {
        let file: String
        let nnz: Int
        let shape: [Int]
        let sr: Int
        let n_fft: Int
        let n_mels: Int
        let fmin: Double
        let fmax: Double?
        let htk: Bool
        let norm: String?

        var logMel: LogMelParameters {
            LogMelParameters(
                sampleRate: sr, nFFT: n_fft, nMels: n_mels, fMin: fmin, fMax: fmax,
                melScale: htk ? .htk : .slaney, melNorm: norm == "slaney" ? .slaney : .none)
        }
    }

    static let index: Index = {
        do {
            let data = try Data(contentsOf: directory.appendingPathComponent("golden.json"))
            return try JSONDecoder().decode(Index.self, from: data)
        } catch {
            fatalError("cannot read \(directory.path)/golden.json: \(error)")
        }
    }()

    /// Names of the mono 22.05 kHz cases (raw float32 inputs), the ones Spectral can check on its own.
    static var monoCaseNames: [String] { index.cases.filter { $0.kind == "mono22k" }.map(\.name) }

    /// Names of musicnn's front-end cases on raw float32 inputs taken as 16 kHz signals (log1p compression).
    static var musicnnCaseNames: [String] { index.cases.filter { $0.kind == "mono16k_log1p" }.map(\.name) }

    static func golden(_ name: String) -> Case { index.cases.first { $0.name == name }! }

    /// Reads a raw little-endian float32 file.
    static func floats(_ file: String) throws -> [Float] {
        let data = try Data(contentsOf: directory.appendingPathComponent(file))
        precondition(data.count % 4 == 0, "\(file): size \(data.count) is not a multiple of 4")
        return data.withUnsafeBytes { raw in
            (0..<(data.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
    }
}

/// Deterministic test noise in [-0.5, 0.5) (a 32-bit LCG, like fft_floor.c).
struct TestNoise {
    var state: UInt32
    init(seed: UInt32) { state = seed }
    mutating func next() -> Float {
        state = state &* 1_664_525 &+ 1_013_904_223
        return Float(state >> 8) * (1.0 / 16_777_216.0) - 0.5
    }
    mutating func samples(_ count: Int) -> [Float] { (0..<count).map { _ in next() } }
}
