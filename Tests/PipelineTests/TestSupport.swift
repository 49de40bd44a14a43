import AudioIO
import Foundation

/// A fresh temporary folder per test, removed by the caller with `cleanup()`.
struct TemporaryFolder: ~Copyable {
    let path: String

    init(_ tag: String = #function) {
        let safe = tag.filter { $0.isLetter || $0.isNumber }
        path = NSTemporaryDirectory() + "genrekit-pipeline-\(safe)-\(UUID().uuidString.prefix(8))"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ relative: String) -> String { path + "/" + relative }

    func makeFolder(_ relative: String) {
        try! FileManager.default.createDirectory(atPath: file(relative), withIntermediateDirectories: true)
    }

    func write(_ relative: String, text: String) {
        makeFolder((relative as NSString).deletingLastPathComponent)
        try! text.write(toFile: file(relative), atomically: true, encoding: .utf8)
    }

    /// Writes a tone (Hz) of `seconds` at `rate` with `channels` channels.
    func writeTone(_ relative: String, frequency: Double, seconds: Double, rate: Int = 22050, channels: Int = 1,
                   format: AudioFileFormat = .wavPCM16, amplitude: Float = 0.5) {
        makeFolder((relative as NSString).deletingLastPathComponent)
        let n = Int(seconds * Double(rate))
        var samples = [Float](repeating: 0, count: n * channels)
        for i in 0..<n {
            let v = amplitude * Float(sin(2 * Double.pi * frequency * Double(i) / Double(rate)))
            for c in 0..<channels { samples[i * channels + c] = v * (c == 0 ? 1 : 0.5) }
        }
        try! SoundFileWriter.write(samples, to: file(relative), format: format, sampleRate: rate, channels: channels)
    }
}
