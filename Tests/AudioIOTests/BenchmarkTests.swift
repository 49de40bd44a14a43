import Foundation
import Testing
@testable import AudioIO

/// Speed figures, printed, never asserted; run with `GENREKIT_BENCH=1 swift test -c release -Xswiftc
/// -enable-testing --filter AudioIOTests.BenchmarkTests`. Skipped otherwise so the normal test run stays fast.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["GENREKIT_BENCH"] != nil))
struct BenchmarkTests {
    static func milliseconds(repeats: Int, _ body: () throws -> Void) rethrows -> Double {
        try body()  // warm up
        var best = Double.infinity
        for _ in 0..<repeats {
            let start = ContinuousClock.now
            try body()
            let elapsed = ContinuousClock.now - start
            best = min(best, Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1e3)
        }
        return best
    }

    @Test func resampleThirtySecondsOfCD() throws {
        let input = ReferenceSignal.make(rate: 44100, count: 44100 * 30)
        for kind in ResamplerKind.allCases {
            let resampler = kind.makeResampler()
            let ms = try Self.milliseconds(repeats: kind.rawValue.hasPrefix("sinc-best") ? 2 : 5) {
                _ = try resampler.resample(input, from: 44100, to: 22050)
            }
            print("[benchmark] \(kind.rawValue): \(String(format: "%.1f", ms)) ms per 30 s clip 44100 -> 22050 Hz")
        }
        let tiny = [Float](repeating: 0.1, count: 1000)
        let perCall = try Self.milliseconds(repeats: 20) { _ = try SoxrResampler().resample(tiny, from: 44100, to: 22050) }
        print("[benchmark] soxr-hq create + 1000-sample call: \(String(format: "%.3f", perCall)) ms")
    }

    @Test func decodeThirtySecondClip() throws {
        let dir = try TemporaryDirectory()
        for format in [AudioFileFormat.auPCM16, .wavPCM16, .flacPCM16, .oggVorbis] {
            let path = dir.file("clip.\(format.fileExtension)")
            try SoundFileWriter.write(ReferenceSignal.make(rate: 22050, count: 22050 * 30), to: path, format: format,
                                      sampleRate: 22050, channels: 1)
            let ms = try Self.milliseconds(repeats: 5) { _ = try AudioDecoder.decodeMono(path: path) }
            print("[benchmark] decodeMono 30 s mono 22050 Hz \(format): \(String(format: "%.2f", ms)) ms")
        }
        let stereo = dir.file("stereo.wav")
        let left = ReferenceSignal.make(rate: 44100, count: 44100 * 30)
        try SoundFileWriter.write(Signal.interleave([left, left]), to: stereo, format: .wavPCM16, sampleRate: 44100, channels: 2)
        let ms = try Self.milliseconds(repeats: 5) { _ = try AudioDecoder.decodeMono(path: stereo) }
        print("[benchmark] decodeMono 30 s stereo 44100 Hz WAV 16-bit: \(String(format: "%.2f", ms)) ms")
    }
}
