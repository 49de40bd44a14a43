internal import GenreCore
internal import Foundation

extension Studio {
    /// Processes the buses as `mix` says, mixes them to `channels` (1 = mono, 2 = interleaved stereo L R), adds
    /// the noise floor and normalises the peak to `mix.peak`, writing all `frames * channels` samples of `output`
    /// (values in [-1, 1]).
    mutating func mixdown(_ mix: MixSettings, channels: Int, into output: UnsafeMutableBufferPointer<Float>) {
        let frames = self.frames
        precondition(output.count == frames * channels)
        guard frames > 0 else { return }
        let rate = sampleRate
        let widthDelay = channels == 2 ? min(preroll, Int(mix.widthDelaySeconds * rate)) : 0
        let active = Bus.allCases.compactMap { bus in
            mix.gain[bus.rawValue] > 0 ? writtenBus(bus).map { (bus, $0) } : nil
        }

        // Per-bus processing (from `widthDelay` before the clip, which the right channel hears).
        for (bus, start) in active {
            let samples = start - widthDelay, count = frames + widthDelay
            if bus == .guitar, mix.drive > 0 {
                BusEffects.distort(samples, count: count, drive: mix.drive, hardClip: mix.hardClip)
            }
            if mix.highPassHz[bus.rawValue] > 0 {
                BusEffects.highPass(samples, count: count, hz: mix.highPassHz[bus.rawValue], sampleRate: rate)
            }
            if mix.lowPassHz[bus.rawValue] > 0 {
                BusEffects.lowPass(samples, count: count, hz: mix.lowPassHz[bus.rawValue], sampleRate: rate)
            }
            if mix.masterLowPassHz > 0 {  // linear, so filtering every bus filters the mix
                BusEffects.lowPass(samples, count: count, hz: mix.masterLowPassHz, sampleRate: rate)
            }
        }

        // Reverb: mono send, run block by block with the mix.
        let sends = mix.reverb > 0
            ? active.map { bus, source in (source, mix.reverbSend[bus.rawValue] * mix.gain[bus.rawValue] * mix.reverb) }.filter { $0.1 > 0 }
            : []
        var reverb = sends.isEmpty ? nil : Reverb(sampleRate: rate)

        // Pan and sum block by block (the block accumulators stay in cache), then interleave.
        let gains = active.map { bus, source -> (source: UnsafeMutablePointer<Float>, left: Float, right: Float, delay: Int) in
            let gain = mix.gain[bus.rawValue]
            guard channels == 2 else { return (source, gain, 0, 0) }
            let angle = Double(mix.pan[bus.rawValue] + 1) * Double.pi / 4
            return (source, gain * Float(cos(angle) * 2.0.squareRoot()), gain * Float(sin(angle) * 2.0.squareRoot()),
                    mix.widened[bus.rawValue] ? widthDelay : 0)
        }
        // Noise floor relative to the music's level (estimated from the buses, as if they were uncorrelated),
        // read from a band-limited noise tile at a random offset per channel; vinyl crackle pops.
        var musicPower: Float = 0
        for entry in gains {
            let power = SampleMath.sumOfSquares(entry.source, count: frames) / Float(frames)
            musicPower += power * (entry.left * entry.left + entry.right * entry.right) / Float(channels)
        }
        let rms = musicPower.squareRoot()
        let noiseLevel = mix.noise * rms * 2.2  // band-limiting removes level: scale by the approximate loss
        let tile = mix.noise > 0
            ? NoiseTile(noise: &noise, highPassHz: mix.noiseHighPassHz, lowPassHz: mix.noiseLowPassHz, sampleRate: rate).samples : []
        let noiseOffsets = (0..<channels).map { _ in random.belowByModulo(NoiseTile.length) }
        var pops = [(frame: Int, value: Float)]()
        if mix.crackle > 0 {
            for _ in 0..<Int(mix.crackle * 400 * Double(frames) / rate) {
                pops.append((random.belowByModulo(frames), rms * 3 * noise.sample()))
            }
            pops.sort { $0.frame < $1.frame }
        }

        let blockSize = 4096
        let left = UnsafeMutablePointer<Float>.allocate(capacity: blockSize)
        let right = UnsafeMutablePointer<Float>.allocate(capacity: blockSize)
        let send = UnsafeMutablePointer<Float>.allocate(capacity: blockSize)
        defer { left.deallocate(); right.deallocate(); send.deallocate() }
        var peak: Float = 0
        var nextPop = 0
        tile.withUnsafeBufferPointer { tileBuffer in
            let out = output.baseAddress!
            var blockStart = 0
            while blockStart < frames {
                let n = min(blockSize, frames - blockStart)
                left.update(repeating: 0, count: n)
                right.update(repeating: 0, count: n)
                for entry in gains {
                    let source = entry.source + blockStart
                    let gainLeft = entry.left
                    for i in 0..<n { left[i] += gainLeft * source[i] }
                    if channels == 2 {
                        let delayed = source - entry.delay, gainRight = entry.right
                        for i in 0..<n { right[i] += gainRight * delayed[i] }
                    }
                }
                if reverb != nil {
                    send.update(repeating: 0, count: n)
                    for (source, amount) in sends {
                        let block = source + blockStart
                        for i in 0..<n { send[i] += amount * block[i] }
                    }
                    reverb!.process(send, count: n, addingTo: left, channels == 2 ? right : nil)
                }
                if let noiseSamples = tileBuffer.baseAddress {
                    for channel in 0..<channels {
                        let target = channel == 0 ? left : right
                        var i = 0
                        while i < n {
                            let position = (noiseOffsets[channel] + blockStart + i) % NoiseTile.length
                            let run = min(n - i, NoiseTile.length - position)
                            let from = noiseSamples + position, to = target + i
                            for k in 0..<run { to[k] += noiseLevel * from[k] }
                            i += run
                        }
                    }
                }
                while nextPop < pops.count, pops[nextPop].frame < blockStart + n {
                    let (frame, value) = pops[nextPop]
                    left[frame - blockStart] += value
                    right[frame - blockStart] += value
                    nextPop += 1
                }
                peak = max(peak, SampleMath.peakMagnitude(left, count: n))
                if channels == 1 {
                    (out + blockStart).update(from: left, count: n)
                } else {
                    peak = max(peak, SampleMath.peakMagnitude(right, count: n))
                    let target = out + 2 * blockStart
                    for i in 0..<n {
                        target[2 * i] = left[i]
                        target[2 * i + 1] = right[i]
                    }
                }
                blockStart += n
            }
        }

        // Peak normalisation (every |sample| <= peak, so the result stays within ±mix.peak).
        let scale = mix.peak / max(peak, 1e-12)
        let out = output.baseAddress!
        for n in 0..<(frames * channels) { out[n] *= scale }
    }
}

/// How a clip's buses are processed and mixed (indexed by ``Bus/rawValue``). Frequencies in Hz, 0 = filter off.
struct MixSettings {
    var gain: [Float] = [1, 1, 1, 1, 1]
    /// -1 (left) ... 1 (right).
    var pan: [Float] = [0, 0, -0.3, 0.3, 0]
    var widened: [Bool] = [false, false, true, false, true]
    var widthDelaySeconds: Double = 0.012
    var highPassHz: [Double] = [0, 0, 0, 0, 0]
    var lowPassHz: [Double] = [0, 0, 0, 0, 0]
    /// Guitar bus distortion: pre-gain relative to its RMS (0 = clean), hard or soft clipping.
    var drive: Float = 0
    var hardClip = false
    var reverb: Float = 0
    var reverbSend: [Float] = [0.3, 0, 1, 1, 0.6]
    var masterLowPassHz: Double = 0
    /// Noise floor level relative to the music's RMS, and its band.
    var noise: Float = 0.01
    var noiseHighPassHz: Double = 100
    var noiseLowPassHz: Double = 12_000
    /// Vinyl crackle rate scale (about 400 pops per second at 1).
    var crackle: Double = 0
    /// Output peak after normalisation.
    var peak: Float = 0.8
}

/// A tiny offset added inside recursive filters so decaying tails never reach subnormal floats, which are
/// orders of magnitude slower to compute with (about -300 dB: inaudible and below 16-bit resolution).
let denormalGuard: Float = 1e-15

/// In-place processing of one bus (`count` samples).
enum BusEffects {
    /// Normalises to a fixed RMS, multiplies by `drive` and clips (hard: clamp to ±1; soft: x / (1 + |x|)).
    static func distort(_ samples: UnsafeMutablePointer<Float>, count: Int, drive: Float, hardClip: Bool) {
        let rms = (SampleMath.sumOfSquares(samples, count: count) / Float(max(count, 1))).squareRoot()
        guard rms > 1e-9 else { return }
        let gain = drive * 0.3 / rms
        if hardClip {
            for n in 0..<count {
                let x = samples[n] * gain
                samples[n] = x > 1 ? 1 : (x < -1 ? -1 : x)
            }
        } else {
            for n in 0..<count {
                let x = samples[n] * gain
                samples[n] = x / (1 + abs(x))
            }
        }
    }

    /// Samples each segment's filter runs over the end of the previous segment before its own start, so its
    /// state has converged (the filters here have time constants of at most a few hundred samples; 2048
    /// samples leaves an error far below 16-bit resolution).
    static let segmentWarmUp = 2048

    /// Segment layout for ``lowPass(_:count:hz:sampleRate:)`` and ``highPass(_:count:hz:sampleRate:)``: the
    /// signal is cut into four consecutive segments filtered side by side (four independent recursions in one
    /// loop run about four times faster than one long dependency chain). nil when too short to split.
    private static func segments(count: Int) -> (length: Int, lastLength: Int, warmUp: Int)? {
        let length = (count + 3) / 4
        let lastLength = count - 3 * length
        guard count >= 64, lastLength > 0 else { return nil }
        return (length, lastLength, min(segmentWarmUp, length))
    }

    /// Two cascaded one-pole low-passes at `hz` (12 dB/octave).
    static func lowPass(_ samples: UnsafeMutablePointer<Float>, count: Int, hz: Double, sampleRate: Double) {
        let c = Float(1 - exp(-2 * Double.pi * min(hz, sampleRate * 0.45) / sampleRate)), keep = 1 - c
        guard let (length, lastLength, warmUp) = segments(count: count) else {
            var a: Float = 0, b: Float = 0
            for n in 0..<count {
                a = a * keep + (samples[n] + denormalGuard) * c
                b = b * keep + a * c
                samples[n] = b
            }
            return
        }
        let s0 = samples, s1 = samples + length, s2 = samples + 2 * length, s3 = samples + 3 * length
        var a0: Float = 0, a1: Float = 0, a2: Float = 0, a3: Float = 0
        var b0: Float = 0, b1: Float = 0, b2: Float = 0, b3: Float = 0
        // Warm-up: segments 1...3 run over the end of the previous segment (segment 0 starts from rest).
        for i in (length - warmUp)..<length {
            a1 = a1 * keep + (s0[i] + denormalGuard) * c; b1 = b1 * keep + a1 * c
            a2 = a2 * keep + (s1[i] + denormalGuard) * c; b2 = b2 * keep + a2 * c
            a3 = a3 * keep + (s2[i] + denormalGuard) * c; b3 = b3 * keep + a3 * c
        }
        for i in 0..<length {
            let last = i < lastLength
            a0 = a0 * keep + (s0[i] + denormalGuard) * c; b0 = b0 * keep + a0 * c
            a1 = a1 * keep + (s1[i] + denormalGuard) * c; b1 = b1 * keep + a1 * c
            a2 = a2 * keep + (s2[i] + denormalGuard) * c; b2 = b2 * keep + a2 * c
            a3 = a3 * keep + ((last ? s3[i] : 0) + denormalGuard) * c; b3 = b3 * keep + a3 * c
            s0[i] = b0; s1[i] = b1; s2[i] = b2
            if last { s3[i] = b3 }
        }
    }

    /// One-pole high-pass at `hz` (6 dB/octave).
    static func highPass(_ samples: UnsafeMutablePointer<Float>, count: Int, hz: Double, sampleRate: Double) {
        let pole = Float(exp(-2 * Double.pi * hz / sampleRate))
        // The tiny offset alternates in sign (a Nyquist-rate signal) so the high-pass does not remove it.
        var guardSign = denormalGuard
        guard let (length, lastLength, warmUp) = segments(count: count) else {
            var state: Float = 0, previous: Float = 0
            for n in 0..<count {
                let x = samples[n] + guardSign
                guardSign = -guardSign
                state = (state + x - previous) * pole
                previous = x
                samples[n] = state
            }
            return
        }
        let s0 = samples, s1 = samples + length, s2 = samples + 2 * length, s3 = samples + 3 * length
        var y0: Float = 0, y1: Float = 0, y2: Float = 0, y3: Float = 0
        var p0: Float = 0, p1: Float = 0, p2: Float = 0, p3: Float = 0
        for i in (length - warmUp)..<length {
            let x1 = s0[i] + guardSign, x2 = s1[i] + guardSign, x3 = s2[i] + guardSign
            guardSign = -guardSign
            y1 = (y1 + x1 - p1) * pole; p1 = x1
            y2 = (y2 + x2 - p2) * pole; p2 = x2
            y3 = (y3 + x3 - p3) * pole; p3 = x3
        }
        for i in 0..<length {
            let last = i < lastLength
            let x0 = s0[i] + guardSign, x1 = s1[i] + guardSign, x2 = s2[i] + guardSign
            let x3 = (last ? s3[i] : 0) + guardSign
            guardSign = -guardSign
            y0 = (y0 + x0 - p0) * pole; p0 = x0
            y1 = (y1 + x1 - p1) * pole; p1 = x1
            y2 = (y2 + x2 - p2) * pole; p2 = x2
            y3 = (y3 + x3 - p3) * pole; p3 = x3
            s0[i] = y0; s1[i] = y1; s2[i] = y2
            if last { s3[i] = y3 }
        }
    }
}

/// A small room reverb: four damped feedback combs (run side by side so their recursions overlap) into an
/// all-pass, processed block by block. The right output taps the combs with alternating signs, which
/// decorrelates it from the left. Above 32 kHz it runs at half rate (pairs of input samples averaged, output
/// linearly interpolated): its tail is dark anyway. Single owner of its delay lines (`~Copyable`).
struct Reverb: ~Copyable {
    private static let seconds = [0.0297, 0.0371, 0.0411, 0.0437, 0.005, 0.0017]
    private let storage: UnsafeMutablePointer<Float>
    private let lengths: [Int]
    private let halfRate: Bool
    private var positions = [Int](repeating: 0, count: 6)
    private var damping: (Float, Float, Float, Float) = (0, 0, 0, 0)
    private var guardSign = denormalGuard
    private var previous: (left: Float, right: Float) = (0, 0)

    init(sampleRate: Double) {
        halfRate = sampleRate > 32_000
        let internalRate = halfRate ? sampleRate / 2 : sampleRate
        lengths = Self.seconds.map { max(1, Int($0 * internalRate)) }
        let total = lengths.reduce(0, +)
        storage = .allocate(capacity: total)
        storage.initialize(repeating: 0, count: total)
    }

    deinit { storage.deallocate() }

    /// Reverberates `input[0..<count]` and adds the result to `left` (and `right`, if given).
    mutating func process(_ input: UnsafePointer<Float>, count: Int, addingTo left: UnsafeMutablePointer<Float>,
                          _ right: UnsafeMutablePointer<Float>?) {
        let line0 = storage, line1 = line0 + lengths[0], line2 = line1 + lengths[1], line3 = line2 + lengths[2]
        let allpassLeft = line3 + lengths[3], allpassRight = allpassLeft + lengths[4]
        let length0 = lengths[0], length1 = lengths[1], length2 = lengths[2], length3 = lengths[3]
        let lengthLeft = lengths[4], lengthRight = lengths[5]
        var p0 = positions[0], p1 = positions[1], p2 = positions[2], p3 = positions[3]
        var pl = positions[4], pr = positions[5]
        var (s0, s1, s2, s3) = damping
        var guardSign = self.guardSign
        var (previousLeft, previousRight) = previous
        let feedback: Float = 0.8, damp: Float = 0.3, keep: Float = 0.7
        let stride = halfRate ? 2 : 1
        var n = 0
        while n < count {
            let pair = halfRate && n + 1 < count
            let x = (pair ? (input[n] + input[n + 1]) * 0.5 : input[n]) + guardSign
            guardSign = -guardSign
            let d0 = line0[p0], d1 = line1[p1], d2 = line2[p2], d3 = line3[p3]
            s0 = d0 * keep + s0 * damp
            s1 = d1 * keep + s1 * damp
            s2 = d2 * keep + s2 * damp
            s3 = d3 * keep + s3 * damp
            line0[p0] = x + s0 * feedback
            line1[p1] = x + s1 * feedback
            line2[p2] = x + s2 * feedback
            line3[p3] = x + s3 * feedback
            let wetLeft = (d0 + d1 + d2 + d3) * 0.25
            let delayedLeft = allpassLeft[pl]
            allpassLeft[pl] = wetLeft + delayedLeft * 0.5
            let outLeft = delayedLeft - wetLeft * 0.5
            if halfRate {
                left[n] += (previousLeft + outLeft) * 0.5
                if pair { left[n + 1] += outLeft }
            } else {
                left[n] += outLeft
            }
            previousLeft = outLeft
            if let right {
                let wetRight = (d0 - d1 + d2 - d3) * 0.25
                let delayedRight = allpassRight[pr]
                allpassRight[pr] = wetRight + delayedRight * 0.5
                let outRight = delayedRight - wetRight * 0.5
                if halfRate {
                    right[n] += (previousRight + outRight) * 0.5
                    if pair { right[n + 1] += outRight }
                } else {
                    right[n] += outRight
                }
                previousRight = outRight
                pr += 1; if pr == lengthRight { pr = 0 }
            }
            p0 += 1; if p0 == length0 { p0 = 0 }
            p1 += 1; if p1 == length1 { p1 = 0 }
            p2 += 1; if p2 == length2 { p2 = 0 }
            p3 += 1; if p3 == length3 { p3 = 0 }
            pl += 1; if pl == lengthLeft { pl = 0 }
            n += stride
        }
        positions = [p0, p1, p2, p3, pl, pr]
        damping = (s0, s1, s2, s3)
        self.guardSign = guardSign
        previous = (previousLeft, previousRight)
    }
}

/// A few seconds of band-limited noise, generated once per clip and read from random offsets (cheaper than
/// running the noise filters at every output sample).
struct NoiseTile {
    static let length = 1 << 17
    let samples: [Float]

    init(noise: inout NoiseSource, highPassHz: Double, lowPassHz: Double, sampleRate: Double) {
        let highPole = Float(exp(-2 * Double.pi * highPassHz / sampleRate))
        let lowCoefficient = Float(1 - exp(-2 * Double.pi * min(lowPassHz, sampleRate * 0.45) / sampleRate))
        var samples = [Float](repeating: 0, count: Self.length)
        var high: Float = 0, previous: Float = 0, low: Float = 0
        let warmUp = 4096
        for n in 0..<(Self.length + warmUp) {
            let x = noise.sample()
            high = highPole * (high + x - previous)
            previous = x
            low += lowCoefficient * (high - low)
            if n >= warmUp { samples[n - warmUp] = low }
        }
        self.samples = samples
    }
}

/// Reductions over sample buffers (four independent accumulators, so the loop is not one dependency chain).
enum SampleMath {
    /// Sum of squares of `count` samples.
    static func sumOfSquares(_ samples: UnsafePointer<Float>, count: Int) -> Float {
        var a: Float = 0, b: Float = 0, c: Float = 0, d: Float = 0
        var n = 0
        while n + 4 <= count {
            a += samples[n] * samples[n]
            b += samples[n + 1] * samples[n + 1]
            c += samples[n + 2] * samples[n + 2]
            d += samples[n + 3] * samples[n + 3]
            n += 4
        }
        while n < count { a += samples[n] * samples[n]; n += 1 }
        return (a + b) + (c + d)
    }

    /// Largest |sample| of `count` samples.
    static func peakMagnitude(_ samples: UnsafePointer<Float>, count: Int) -> Float {
        var a: Float = 0, b: Float = 0, c: Float = 0, d: Float = 0
        var n = 0
        while n + 4 <= count {
            let x = abs(samples[n]), y = abs(samples[n + 1]), z = abs(samples[n + 2]), w = abs(samples[n + 3])
            if x > a { a = x }
            if y > b { b = y }
            if z > c { c = z }
            if w > d { d = w }
            n += 4
        }
        while n < count { let x = abs(samples[n]); if x > a { a = x }; n += 1 }
        return max(max(a, b), max(c, d))
    }
}
