internal import Foundation

/// Fixed-point oscillator phase: a full cycle is 2^32, so wrapping addition is the phase wrap.
typealias OscillatorPhase = UInt32

/// Table geometry shared by every wavetable: 2^11 samples per cycle plus one guard sample for interpolation.
enum TableGeometry {
    static let bits = 11
    static let size = 1 << bits
    static let stride = size + 1
    static let fractionBits = 32 - bits  // 21: `lookup` spells it out
    static let fractionScale: Float = 1.0 / Float(1 << fractionBits)

    /// The phase increment per sample of an oscillator at `frequency` Hz sampled at `sampleRate` Hz
    /// (frequency clamped below Nyquist so the conversion never overflows).
    @inline(__always)
    static func increment(frequency: Double, sampleRate: Double) -> Float {
        Float(min(max(frequency, 0), sampleRate * 0.49) / sampleRate * 4_294_967_296.0)
    }

    /// Linearly interpolated lookup of the cycle starting at `table` at `phase`.
    @inline(__always)
    static func lookup(_ table: UnsafePointer<Float>, _ phase: OscillatorPhase) -> Float {
        // Concrete (non-generic) integer operations: fast in unoptimised builds too.
        let index = Int(truncatingIfNeeded: phase &>> 21)
        let fraction = Float(Int(truncatingIfNeeded: phase & 0x1F_FFFF)) * fractionScale
        let a = table[index]
        return a + (table[index + 1] - a) * fraction
    }
}

/// One cycle of a sine, shared read-only by every oscillator (built once; `[Float]` is immutable and Sendable).
let sineCycle: [Float] = (0..<TableGeometry.stride).map { Float(sin(2 * Double.pi * Double($0) / Double(TableGeometry.size))) }

/// A band-limited single-cycle waveform made of harmonic partials, stored at several harmonic limits so a note
/// uses the richest version whose partials all stay below Nyquist (no aliasing at any pitch).
struct Wavetable {
    /// Harmonic-count limits of the stored versions, ascending.
    private static let limits = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64]

    /// `levels` cycles of `TableGeometry.stride` samples, version `k` limited to `limits[k]` harmonics.
    let cycles: [Float]
    private let levelCount: Int

    /// Builds the waveform with partial amplitudes `harmonics[h - 1]` for harmonic h (phases all sine, 0).
    /// The result is scaled to a peak of about 1 for the richest version.
    init(harmonics: [Float]) {
        let count = min(harmonics.count, Self.limits.last!)
        var levels = 1
        while levels < Self.limits.count, Self.limits[levels - 1] < count { levels += 1 }
        levelCount = levels
        let stride = TableGeometry.stride, size = TableGeometry.size
        var tables = [Float](repeating: 0, count: levels * stride)
        sineCycle.withUnsafeBufferPointer { sine in
            tables.withUnsafeMutableBufferPointer { out in
                var harmonic = 1
                for level in 0..<levels {
                    let base = level * stride
                    if level > 0 {  // start from the previous version and add the next partials
                        for i in 0..<stride { out[base + i] = out[base - stride + i] }
                    }
                    while harmonic <= min(Self.limits[level], count) {
                        let amplitude = harmonics[harmonic - 1]
                        if amplitude != 0 {
                            for i in 0..<size { out[base + i] += amplitude * sine[(i &* harmonic) & (size - 1)] }
                        }
                        harmonic += 1
                    }
                    out[base + size] = out[base]
                }
                // One scale for all versions (the richest one peaks at 1) so loudness does not jump with pitch.
                var peak: Float = 1e-9
                let richest = (levels - 1) * stride
                for i in 0..<size { peak = max(peak, abs(out[richest + i])) }
                let scale = 1 / peak
                for i in 0..<out.count { out[i] *= scale }
            }
        }
        cycles = tables
    }

    /// Index of the first sample of the version to play at up to `maximumFrequency` Hz at `sampleRate` Hz.
    func cycleOffset(maximumFrequency: Double, sampleRate: Double) -> Int {
        let allowed = Int(0.45 * sampleRate / max(maximumFrequency, 1))
        var level = 0
        while level + 1 < levelCount, Self.limits[level + 1] <= allowed { level += 1 }
        return level * TableGeometry.stride
    }

    // MARK: Partial recipes

    /// Sawtooth-like spectrum: harmonic h at 1 / h^rolloff (rolloff 1 = bright saw, 2 = mellow).
    static func sawtooth(harmonics: Int, rolloff: Double) -> [Float] {
        (1...harmonics).map { Float(1 / pow(Double($0), rolloff)) }
    }

    /// Square-like spectrum: odd harmonics at 1 / h^rolloff, even ones at `evenLevel` times that.
    static func square(harmonics: Int, rolloff: Double, evenLevel: Double = 0) -> [Float] {
        (1...harmonics).map { Float(($0 % 2 == 1 ? 1 : evenLevel) / pow(Double($0), rolloff)) }
    }

    /// An organ: drawbar-like partials at harmonics 1, 2, 3, 4, 6, 8 with the given levels.
    static func organ(_ drawbars: [Float]) -> [Float] {
        var partials = [Float](repeating: 0, count: 8)
        for (k, harmonic) in [1, 2, 3, 4, 6, 8].enumerated() where k < drawbars.count { partials[harmonic - 1] = drawbars[k] }
        return partials
    }
}
