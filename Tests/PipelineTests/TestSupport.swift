import AudioIO
import Foundation
/// The shared test support (TemporaryDirectory, ErrorBound, expectClose) for every file of this target.
@_exported import TestSupport

/// A fresh temporary folder per test (a ``TemporaryDirectory`` of the shared support), removed when released.
struct TemporaryFolder: ~Copyable {
    private let directory: TemporaryDirectory
    var path: String { directory.path }

    init(_ tag: String = #function) {
        directory = try! TemporaryDirectory("pipeline-" + tag)
    }

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
