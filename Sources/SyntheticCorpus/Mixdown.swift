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
