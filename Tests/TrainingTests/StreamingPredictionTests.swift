import AudioIO
import Foundation
import Testing
@testable import Training

/// Prediction streams a file of any length (blocks of spectrogram, windows classified as they complete); its
/// result equals the whole-file computation it replaced.
@Suite struct StreamingPredictionTests {
    static func write(_ path: String, seconds: Double, rate: Int = 44100) throws {
        let frames = Int(seconds * Double(rate))
        var state: UInt64 = 5
        var interleaved = [Float](repeating: 0, count: 2 * frames)
        for i in 0..<frames {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let noise = Float(Int64(bitPattern: state) >> 40) / Float(1 << 23)
            interleaved[2 * i] = 0.2 * noise * (1 + sinf(Float(i) * 0.0002))
            interleaved[2 * i + 1] = 0.3 * sinf(Float(i) * (0.02 + 0.01 * sinf(Float(i) * 0.00001)))
        }
        try SoundFileWriter.write(interleaved, to: path, format: .wavPCM16, sampleRate: rate, channels: 2)
    }

    @Test func streamingEqualsTheWholeFileComputation() throws {
        let shards = try LearnableFixture.shardFolder.get()
        let run = try TemporaryDirectory("stream-predict")
        _ = try Trainer(run: TrainingRun(shards: shards, directory: run.path,
                                         configuration: try LearnableFixture.configuration(epochs: 1))).train()
        let predictor = try Predictor(checkpointPath: run.file("best.h5"))
        // 20 s: 862 frames, 14 windows of 64 (more than one streaming batch); 1 s: shorter than a window.
        try Self.write(run.file("long.wav"), seconds: 20)
        try Self.write(run.file("short.wav"), seconds: 1, rate: 22050)
        for (name, hop) in [("long.wav", nil), ("long.wav", 10), ("short.wav", nil)] as [(String, Int?)] {
            let streamed = try predictor.predict(path: run.file(name), windowHop: hop)
            let whole = try predictor.predictInMemory(path: run.file(name), windowHop: hop)
            #expect(streamed.seconds == whole.seconds)
            #expect(streamed.windows.map(\.start) == whole.windows.map(\.start), "\(name) hop \(String(describing: hop))")
            #expect(zip(streamed.probabilities, whole.probabilities).allSatisfy { abs($0 - $1) <= 1e-6 }, "\(name)")
            for (a, b) in zip(streamed.windows, whole.windows) {
                #expect(zip(a.probabilities, b.probabilities).allSatisfy { abs($0 - $1) <= 1e-6 })
            }
            if name == "long.wav" && hop == nil { #expect(streamed.windows.count == 14) }
        }
    }
}
