internal import GenreCore
internal import Foundation

/// Renders one clip: owns its mono buses (one `frames`-long buffer per ``Bus``), the drum one-shots, the clip's
/// random generator and its musical clock. Genre arrangers call `play`/`pluck`/`playFM`/`hit` with positions in
/// beats; ``mixdown(_:channels:into:)`` turns the buses into the interleaved clip.
///
/// Single owner (`~Copyable`): its work buffers are freed in `deinit`; the bus storage is borrowed from a
/// ``RenderBuffers`` that outlives it.
struct Studio: ~Copyable {
    let sampleRate: Double
    let frames: Int
    let secondsPerBeat: Double
    let beatsPerBar: Int
    /// Song time (s) at the clip's first sample: clips start at a random point of their first bar.
    let startSeconds: Double
    /// Number of bars that overlap the clip (bar 0 starts at or before the first sample).
    let barCount: Int
    /// Fraction of a beat at which the off-beat eighth falls (0.5 straight, 2/3 full swing).
    var swing: Double = 0.5
    /// Standard deviation (s) of random timing offsets of played notes and hits.
    var humanize: Double = 0
    var random: SplitMix64
    var noise: NoiseSource

    /// Samples each bus keeps before the clip's first frame (heard by the right channel's width delay); writes
    /// earlier than that are dropped.
    static let prerollSeconds = 0.03
    let preroll: Int
    /// The buses' storage, each `preroll + frames` samples (from ``RenderBuffers``), zeroed when first written.
    let busStorage: [UnsafeMutablePointer<Float>]
    private(set) var busWritten = [Bool](repeating: false, count: Bus.allCases.count)
    /// Samples per oscillator work buffer.
    static let chunk = 1024
    /// Samples per pitch update of bends and vibrato (and FM index update): 2.8 kHz control rate at 44.1 kHz.
    static let controlPeriod = 16
    /// Oscillator output, `chunk` samples.
    private let waveChunk: UnsafeMutablePointer<Float>
    /// Sink for envelope output that falls before the bus start, `chunk` samples.
    private let spillChunk: UnsafeMutablePointer<Float>
    /// Karplus-Strong delay line (longest period handled: 25 Hz).
    private let stringLine: UnsafeMutablePointer<Float>
    private let stringCapacity: Int
    /// Rendered one-shots per ``DrumSound`` (empty until loaded).
    private var drums: [[Float]] = Array(repeating: [], count: DrumSound.allCases.count)

    /// Samples per bus needed for a clip of `seconds` at `sampleRate` Hz.
    static func samplesPerBus(sampleRate: Int, seconds: Double) -> Int {
        Int(prerollSeconds * Double(sampleRate)) + max(0, Int((seconds * Double(sampleRate)).rounded()))
    }

    /// A studio for one clip at `tempo` BPM writing into `buses` (``Bus/allCases`` count pointers to at least
    /// ``samplesPerBus(sampleRate:seconds:)`` samples each, valid for the studio's lifetime).
    init(sampleRate: Int, seconds: Double, tempo: Double, beatsPerBar: Int, random: consuming SplitMix64,
         buses: [UnsafeMutablePointer<Float>]) {
        self.sampleRate = Double(sampleRate)
        frames = max(0, Int((seconds * Double(sampleRate)).rounded()))
        secondsPerBeat = 60 / tempo
        self.beatsPerBar = beatsPerBar
        var random = random
        let barSeconds = secondsPerBeat * Double(beatsPerBar)
        startSeconds = random.uniform(0, barSeconds)
        barCount = Int(((seconds + startSeconds) / barSeconds).rounded(.up)) + 1
        noise = NoiseSource(seed: random.next())
        self.random = random
        preroll = Int(Studio.prerollSeconds * Double(sampleRate))
        precondition(buses.count == Bus.allCases.count)
        busStorage = buses
        waveChunk = .allocate(capacity: Studio.chunk)
        spillChunk = .allocate(capacity: Studio.chunk)
        stringCapacity = sampleRate / 25 + 2
        stringLine = .allocate(capacity: stringCapacity)
        stringLine.initialize(repeating: 0, count: stringCapacity)
    }

    deinit {
        waveChunk.deallocate()
        spillChunk.deallocate()
        stringLine.deallocate()
    }

    // MARK: Clock

    /// The sample index (may be negative or past the end) at song position `beat`, with random humanisation.
    private mutating func sampleIndex(beat: Double) -> Int {
        var seconds = beat * secondsPerBeat - startSeconds
        if humanize > 0 { seconds += random.jitter(humanize) }
        return Int((seconds * sampleRate).rounded(.down))
    }

    /// Sample 0 of `bus` for writing (valid indices: -preroll..<frames); zeroes the bus on first use.
    private mutating func bus(_ bus: Bus) -> UnsafeMutablePointer<Float> {
        let samples = busStorage[bus.rawValue]
        if !busWritten[bus.rawValue] {
            samples.update(repeating: 0, count: preroll + frames)
            busWritten[bus.rawValue] = true
        }
        return samples + preroll
    }

    /// Sample 0 of `bus` if anything was written to it.
    func writtenBus(_ bus: Bus) -> UnsafeMutablePointer<Float>? {
        busWritten[bus.rawValue] ? busStorage[bus.rawValue] + preroll : nil
    }

    /// Adds `wave[0..<count] * envelope * gain` to `target` from sample `index` on (index may be negative:
    /// the part before `-preroll` only advances the envelope).
    private func applyEnvelope(_ envelope: inout Envelope, _ wave: UnsafePointer<Float>, count: Int, gain: Float,
                               to target: UnsafeMutablePointer<Float>, at index: Int) {
        let skip = min(count, max(0, -preroll - index))
        if skip > 0 { envelope.apply(wave, count: skip, gain: gain, into: spillChunk) }
        if skip < count { envelope.apply(wave + skip, count: count - skip, gain: gain, into: target + (index + skip)) }
    }

    // MARK: Pitched notes

    /// Plays a wavetable note of MIDI pitch `midi` at song position `beat` held for `beats` beats, at linear
    /// `velocity`, gliding from `bendFrom` semitones away over `bendTime` s (blues bends, slides).
    mutating func play(_ instrument: ToneInstrument, midi: Double, beat: Double, beats: Double, velocity: Float,
                       bus target: Bus, bendFrom: Double = 0, bendTime: Double = 0.08) {
        let start = sampleIndex(beat: beat)
        let held = max(1, Int(beats * secondsPerBeat * sampleRate))
        let total = held + Int(instrument.release * 4 * sampleRate)
        guard start < frames, start + total > -preroll, velocity > 0 else { return }
        let count = min(total, frames - start)

        let baseHz = frequency(midi: midi)
        let topHz = baseHz * max(1, pow(2, bendFrom / 12)) * (1 + instrument.vibratoDepth) * (1 + instrument.detuneCents / 1200)
        let increment = TableGeometry.increment(frequency: baseHz, sampleRate: sampleRate)
        let detuneRatio = Float(pow(2, instrument.detuneCents / 1200))
        let hasDetune = instrument.detuneCents != 0
        let bendSamples = bendFrom == 0 ? 0 : max(1, Int(bendTime * sampleRate))
        let bendStart = Float(pow(2, bendFrom / 12))
        let bendStep = bendSamples > 0 ? (1 - bendStart) / Float(bendSamples) : 0
        let vibratoDepth = Float(instrument.vibratoDepth)
        let vibratoIncrement = OscillatorPhase(TableGeometry.increment(frequency: instrument.vibratoHz, sampleRate: sampleRate))
        var vibratoPhase = OscillatorPhase(truncatingIfNeeded: random.next())
        let vibratoRamp = Float(1 / max(1, instrument.vibratoDelay * sampleRate))
        let modulated = bendSamples > 0 || vibratoDepth > 0
        let transientFactor = Float(exp(-1 / (max(instrument.transientDecay, 1e-4) * sampleRate)))
        var transientLevel = instrument.transient == nil ? 0 : instrument.transientLevel
        // Samples until the transient layer has faded below -80 dB.
        var transientRemaining = transientLevel > 1e-4
            ? Int((log(1e-4 / Double(transientLevel)) / log(Double(transientFactor))).rounded(.up)) : 0
        var phase = OscillatorPhase(truncatingIfNeeded: random.next())
        var detunedPhase = OscillatorPhase(truncatingIfNeeded: random.next())
        var envelope = Envelope(attack: instrument.attack, decay: instrument.decay, sustain: instrument.sustain,
                                release: instrument.release, heldSamples: held, sampleRate: sampleRate)
        let gain = velocity * (hasDetune ? 0.6 : 1)
        let out = bus(target)
        let wave = waveChunk

        let bodyOffset = instrument.body.cycleOffset(maximumFrequency: topHz, sampleRate: sampleRate)
        let transientTable = instrument.transient ?? instrument.body
        let transientOffset = transientTable.cycleOffset(maximumFrequency: topHz, sampleRate: sampleRate)
        instrument.body.cycles.withUnsafeBufferPointer { bodyCycles in
            transientTable.cycles.withUnsafeBufferPointer { transientCycles in
                sineCycle.withUnsafeBufferPointer { sine in
                    let body = bodyCycles.baseAddress! + bodyOffset
                    let bright = transientCycles.baseAddress! + transientOffset
                    let lfo = sine.baseAddress!
                    var position = 0
                    while position < count {
                        let n = min(Studio.chunk, count - position)
                        var k = 0
                        while k < n {
                            // Pitch is held for sub-blocks of `Studio.controlPeriod` samples (the control rate of
                            // bends and vibrato), so each phase inside a sub-block is a closed form.
                            let length = min(Studio.controlPeriod, n - k)
                            var step = increment
                            if modulated {
                                let i = position + k
                                if i < bendSamples { step *= bendStart + bendStep * Float(i) }
                                if vibratoDepth > 0 {
                                    let depth = vibratoDepth * min(1, Float(i) * vibratoRamp)
                                    step *= 1 + depth * lfo[Int(truncatingIfNeeded: vibratoPhase &>> 21)]
                                    vibratoPhase &+= vibratoIncrement &* OscillatorPhase(truncatingIfNeeded: length)
                                }
                            }
                            let bodyStep = OscillatorPhase(step)
                            let target = wave + k
                            for j in 0..<length {
                                target[j] = TableGeometry.lookup(body, phase &+ bodyStep &* OscillatorPhase(truncatingIfNeeded: j + 1))
                            }
                            if hasDetune {
                                let detunedStep = OscillatorPhase(step * detuneRatio)
                                for j in 0..<length {
                                    target[j] += TableGeometry.lookup(body, detunedPhase &+ detunedStep &* OscillatorPhase(truncatingIfNeeded: j + 1))
                                }
                                detunedPhase &+= detunedStep &* OscillatorPhase(truncatingIfNeeded: length)
                            }
                            if transientRemaining > 0 {
                                for j in 0..<min(length, transientRemaining) {
                                    target[j] += transientLevel * TableGeometry.lookup(bright, phase &+ bodyStep &* OscillatorPhase(truncatingIfNeeded: j + 1))
                                    transientLevel *= transientFactor
                                }
                                transientRemaining -= length
                            }
                            phase &+= bodyStep &* OscillatorPhase(truncatingIfNeeded: length)
                            k += length
                        }
                        applyEnvelope(&envelope, wave, count: n, gain: gain, to: out, at: start + position)
                        position += n
                    }
                }
            }
        }
    }

    /// Plays a two-operator FM note (see ``FMInstrument``).
    mutating func playFM(_ instrument: FMInstrument, midi: Double, beat: Double, beats: Double, velocity: Float,
                         bus target: Bus) {
        let start = sampleIndex(beat: beat)
        let held = max(1, Int(beats * secondsPerBeat * sampleRate))
        let total = held + Int(instrument.release * 4 * sampleRate)
        guard start < frames, start + total > -preroll, velocity > 0 else { return }
        let count = min(total, frames - start)
        let baseHz = frequency(midi: midi)
        let carrierStep = OscillatorPhase(TableGeometry.increment(frequency: baseHz, sampleRate: sampleRate))
        let modulatorStep = OscillatorPhase(TableGeometry.increment(frequency: baseHz * instrument.ratio, sampleRate: sampleRate))
        // Modulation index in phase units, at most 3 radians so index * sine always fits an Int32.
        let radiansToPhase: Float = 4_294_967_296 / (2 * .pi)
        var index = Float(min(instrument.index, 3)) * radiansToPhase
        let sustainIndex = Float(min(instrument.sustainIndex, 3)) * radiansToPhase
        let indexFactor = Float(exp(-Double(Studio.controlPeriod) / (max(instrument.indexDecay, 1e-4) * sampleRate)))
        var envelope = Envelope(attack: instrument.attack, decay: instrument.decay, sustain: instrument.sustain,
                                release: instrument.release, heldSamples: held, sampleRate: sampleRate)
        var carrier = OscillatorPhase(truncatingIfNeeded: random.next())
        var modulator = carrier
        let out = bus(target)
        let wave = waveChunk
        sineCycle.withUnsafeBufferPointer { sineBuffer in
            let sine = sineBuffer.baseAddress!
            var position = 0
            while position < count {
                let n = min(Studio.chunk, count - position)
                var k = 0
                while k < n {
                    // The index is updated at the control rate, so each phase inside a sub-block is a closed form.
                    let length = min(Studio.controlPeriod, n - k)
                    let depth = index
                    for j in 0..<length {
                        let step = OscillatorPhase(truncatingIfNeeded: j + 1)
                        let offset = Int32(depth * TableGeometry.lookup(sine, modulator &+ modulatorStep &* step))
                        wave[k + j] = TableGeometry.lookup(sine, carrier &+ carrierStep &* step &+ OscillatorPhase(bitPattern: offset))
                    }
                    carrier &+= carrierStep &* OscillatorPhase(truncatingIfNeeded: length)
                    modulator &+= modulatorStep &* OscillatorPhase(truncatingIfNeeded: length)
                    index = sustainIndex + (index - sustainIndex) * indexFactor
                    k += length
                }
                applyEnvelope(&envelope, wave, count: n, gain: velocity, to: out, at: start + position)
                position += n
            }
        }
    }

    /// Plucks a Karplus-Strong string at MIDI pitch `midi`, sounding `beats` beats before being damped.
    mutating func pluck(_ instrument: PluckInstrument, midi: Double, beat: Double, beats: Double, velocity: Float,
                        bus target: Bus, delaySeconds: Double = 0) {
        let start = sampleIndex(beat: beat) + Int(delaySeconds * sampleRate)
        let held = max(1, Int(beats * secondsPerBeat * sampleRate))
        let total = held + Int(instrument.muteRelease * 5 * sampleRate)
        guard start < frames, start + total > -preroll, velocity > 0 else { return }
        let count = min(total, frames - start)
        // Loop filter: a two-point average weighted by brightness (0.5 = darkest), combined with a linear
        // interpolation that supplies the fractional part of the period, so the string is in tune: the loop
        // delay is period - (1 - weight) - fraction = sampleRate / frequency.
        let brightness = Float(min(max(instrument.brightness, 0), 1))
        let weight = 0.5 + 0.45 * Double(brightness)
        let desired = sampleRate / frequency(midi: midi) + (1 - weight)
        let period = min(stringCapacity, max(3, Int(desired.rounded(.down)) + 1))
        let fraction = min(1, max(0, Double(period) - desired))
        let loopGain = pow(0.001, Double(period) / (max(instrument.ringSeconds, 0.01) * sampleRate))
        let tap0 = Float(loopGain * weight * (1 - fraction))
        let tap1 = Float(loopGain * (weight * fraction + (1 - weight) * (1 - fraction)))
        let tap2 = Float(loopGain * (1 - weight) * fraction)
        // Excitation: noise, low-passed more for darker strings, with its mean removed.
        var smoothed: Float = 0, mean: Float = 0
        let excitationPole = 0.15 + 0.85 * brightness
        for i in 0..<period {
            smoothed += excitationPole * (noise.sample() - smoothed)
            stringLine[i] = smoothed
            mean += smoothed
        }
        mean /= Float(period)
        for i in 0..<period { stringLine[i] -= mean }
        let releaseFactor = Float(exp(-1 / (max(instrument.muteRelease, 1e-4) * sampleRate)))
        var envelope: Float = velocity * 1.6
        let line = stringLine
        var position = 0
        // The string rings from sample 0 of the note; output starts at the first sample the bus keeps.
        let firstWritten = min(count, max(0, -preroll - start))
        let out = bus(target) + start
        for n in 0..<count {
            let next = position + 1 == period ? 0 : position + 1
            let afterNext = next + 1 == period ? 0 : next + 1
            let current = line[position]
            line[position] = tap0 * current + tap1 * line[next] + tap2 * line[afterNext]
            if n >= held { envelope *= releaseFactor }
            if n >= firstWritten { out[n] += current * envelope }
            position = next
        }
    }

    // MARK: Percussion

    /// Synthesises `sound` from `recipe` for this clip (call before `hit`).
    mutating func load(_ sound: DrumSound, _ recipe: DrumRecipe) {
        let count = max(1, Int(recipe.length * sampleRate))
        var samples = [Float](repeating: 0, count: count)
        let rate = sampleRate
        samples.withUnsafeMutableBufferPointer { out in
            // Pitched body with exponential downward sweep.
            if recipe.toneLevel > 0 {
                sineCycle.withUnsafeBufferPointer { sine in
                    var phase: OscillatorPhase = 0
                    var hz = recipe.toneStartHz
                    let sweepFactor = exp(-1 / (max(recipe.sweepTime, 1e-4) * rate))
                    let decayFactor = Float(exp(-1 / (max(recipe.toneDecay, 1e-4) * rate)))
                    var amplitude = recipe.toneLevel
                    for n in 0..<count {
                        hz = recipe.toneEndHz + (hz - recipe.toneEndHz) * sweepFactor
                        phase &+= OscillatorPhase(TableGeometry.increment(frequency: hz, sampleRate: rate))
                        out[n] += amplitude * TableGeometry.lookup(sine.baseAddress!, phase)
                        amplitude *= decayFactor
                    }
                }
            }
            // Click: a 2 ms noise burst.
            if recipe.clickLevel > 0 {
                let clickSamples = min(count, Int(0.002 * rate) + 1)
                for n in 0..<clickSamples { out[n] += recipe.clickLevel * noise.sample() * Float(clickSamples - n) / Float(clickSamples) }
            }
            // Band-passed noise (two one-pole high-passes, two one-pole low-passes), possibly in bursts.
            if recipe.noiseLevel > 0 {
                let highPole = Float(exp(-2 * Double.pi * recipe.noiseHighPassHz / rate))
                let lowCoefficient = Float(1 - exp(-2 * Double.pi * min(recipe.noiseLowPassHz, rate * 0.45) / rate))
                let attackSamples = max(1, Int(recipe.noiseAttack * rate))
                let decayFactor = Float(exp(-1 / (max(recipe.noiseDecay, 1e-4) * rate)))
                let burstSamples = max(1, Int(recipe.burstSpacing * rate))
                var high1: Float = 0, high2: Float = 0, previous1: Float = 0, previous2: Float = 0
                var low1: Float = 0, low2: Float = 0
                var envelope: Float = 0
                for n in 0..<count {
                    let x = noise.sample()
                    high1 = highPole * (high1 + x - previous1); previous1 = x
                    high2 = highPole * (high2 + high1 - previous2); previous2 = high1
                    low1 += lowCoefficient * (high2 - low1)
                    low2 += lowCoefficient * (low1 - low2)
                    if recipe.bursts > 1, n < recipe.bursts * burstSamples {
                        let within = n % burstSamples
                        envelope = within < attackSamples ? Float(within + 1) / Float(attackSamples) : envelope * decayFactor * decayFactor
                    } else if n < attackSamples {
                        envelope = Float(n + 1) / Float(attackSamples)
                    } else {
                        envelope *= decayFactor
                    }
                    out[n] += recipe.noiseLevel * envelope * low2 * 2.5
                }
            }
            // Metallic bell partials (inharmonic ratios, like an 808 cymbal).
            if recipe.metalLevel > 0 {
                sineCycle.withUnsafeBufferPointer { sine in
                    let ratios = [1.0, 1.483, 1.932, 2.546, 2.63, 3.897]
                    let decayFactor = Float(exp(-1 / (max(recipe.metalDecay, 1e-4) * rate)))
                    for ratio in ratios where recipe.metalBaseHz * ratio < rate * 0.45 {
                        let step = OscillatorPhase(TableGeometry.increment(frequency: recipe.metalBaseHz * ratio, sampleRate: rate))
                        var phase = OscillatorPhase(truncatingIfNeeded: random.next())
                        var amplitude = recipe.metalLevel / Float(ratios.count)
                        for n in 0..<count {
                            phase &+= step
                            out[n] += amplitude * TableGeometry.lookup(sine.baseAddress!, phase)
                            amplitude *= decayFactor
                        }
                    }
                }
            }
        }
        drums[sound.rawValue] = samples
    }

    /// Adds one hit of a loaded percussion sound at song position `beat` with linear `velocity`.
    mutating func hit(_ sound: DrumSound, beat: Double, velocity: Float) {
        let start = sampleIndex(beat: beat)
        let first = max(0, -preroll - start), count = min(drums[sound.rawValue].count, frames - start)
        guard first < count else { return }
        let out = bus(.drums)
        drums[sound.rawValue].withUnsafeBufferPointer { shot in
            for n in first..<count { out[start + n] += velocity * shot[n] }
        }
    }
}
