import Foundation
import Testing

@testable import Pipeline

/// A 44.1 kHz stereo WAV through the whole per-clip chain (decode → mean of channels → soxr-hq → STFT → mel →
/// dB) against librosa 0.11's `load(sr=22050, mono=True)` + `melspectrogram` + `power_to_db`
/// (golden files from scripts/make_golden.py).
///
/// 0.05 dB over the cells within 80 dB of the maximum is the product's specification against librosa (see
/// SpectralTests/GoldenTests for why float32 rounding stays far below it there); here both sides also resample
/// with libsoxr's HQ filter in float32, whose rounding (~1e-6 relative, AudioIOTests/ResamplerTests) is as far
/// below it.
@Suite struct GoldenStereoTests {
    static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("SpectralTests/Golden").path

    @Test func stereo44kMatchesLibrosaWithin005dB() throws {
        let samples22k = 16538, frames = 33, bands = 128
        let reference: [Float] = try {
            let data = try Data(contentsOf: URL(fileURLWithPath: Self.golden + "/stereo44k.mel.f32"))
            return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        }()
        #expect(reference.count == bands * frames)
        var config = try PipelineConfiguration.parse(toml: "")
        config.audio.clipSeconds = Double(samples22k) / 22050
        #expect(config.audio.clipSamples == samples22k)
        #expect(config.framesPerClip == frames)
        var extractor = ClipFeatureExtractor(configuration: config)
        var ours = [Float](repeating: 0, count: extractor.outputCount)
        let outcome = try ours.withUnsafeMutableBufferPointer {
            try extractor.extract(path: Self.golden + "/stereo44k.wav", header: nil, into: $0)
        }
        #expect(!outcome.padded)
        let top = reference.max()!
        var worst: Float = 0
        for i in reference.indices where reference[i] > top - 80 {
            worst = max(worst, abs(ours[i] - reference[i]))
        }
        #expect(worst <= 0.05, "max |diff| \(worst) dB")
    }
}
