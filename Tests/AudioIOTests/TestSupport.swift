import Foundation
/// The shared test support (TemporaryDirectory, ErrorBound, expectClose) for every file of this target.
@_exported import TestSupport
@testable import AudioIO

/// Deterministic test signals.
enum Signal {
    /// `amplitude * sin(2π f t)` for `count` samples at `sampleRate`.
    static func tone(frequency: Double, sampleRate: Int, count: Int, amplitude: Double = 0.5, phase: Double = 0) -> [Float] {
        (0..<count).map { i in Float(amplitude * sin(2 * Double.pi * frequency * Double(i) / Double(sampleRate) + phase)) }
    }

    /// Interleaves per-channel signals of equal length into frames.
    static func interleave(_ channels: [[Float]]) -> [Float] {
        let frames = channels[0].count
        var out = [Float](repeating: 0, count: frames * channels.count)
        for (c, channel) in channels.enumerated() {
            for f in 0..<frames { out[f * channels.count + c] = channel[f] }
        }
        return out
    }

    /// A uniform pseudo-random signal in [-amplitude, amplitude] (xorshift, seedable).
    static func noise(count: Int, seed: UInt64, amplitude: Float = 0.5) -> [Float] {
        var state = seed | 1
        return (0..<count).map { _ in
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return (Float(state >> 40) / Float(1 << 24) * 2 - 1) * amplitude
        }
    }
}
