internal import GenreCore

// Metal and rock: the distorted-guitar arrangers.
extension GenreArrangements {
    // MARK: Metal: fast double kick, blast beats, hard-clipped power chords, crashes, loud noise.

    static func metal(_ s: inout Studio) -> MixSettings {
        s.humanize = 0.002
        let root = s.random.pick([35, 36, 37, 38, 40])
        let riffSteps = [0, 0, 0, 0, 1, 3, 5, 6, 7, -2]
        var riff = [(Int, Bool)]()  // per sixteenth: degree offset, palm-muted chug
        for _ in 0..<16 {
            riff.append(s.random.chance(0.7) ? (0, true) : (s.random.pick(riffSteps), false))
        }
        let blast = s.random.chance(0.35)

        s.load(.kick, .kick(startHz: 170, endHz: 60, decay: 0.09, click: 0.8))
        s.load(.snare, .snare(toneHz: 230, noiseDecay: 0.12, tone: 0.4, highPassHz: 1_000, lowPassHz: 10_000))
        s.load(.crash, .cymbal(decay: s.random.uniform(0.7, 1.1), highPassHz: 3_500, bell: 0.15, bellHz: 480))
        s.load(.ride, .cymbal(decay: 0.3, highPassHz: 5_000, bell: 0.25, bellHz: 700))
        let guitar = ToneInstrument(
            body: Wavetable(harmonics: Wavetable.sawtooth(harmonics: 64, rolloff: s.random.uniform(0.9, 1.2))),
            attack: 0.002, decay: 0.15, sustain: 0.7, release: 0.03, detuneCents: s.random.uniform(8, 15))
        let bass = ToneInstrument(body: Wavetable(harmonics: Wavetable.sawtooth(harmonics: 20, rolloff: 1.4)),
                                  attack: 0.003, decay: 0.2, sustain: 0.6, release: 0.03)

        for bar in 0..<s.barCount {
            let doubleKick = !blast || bar % 2 == 0 || s.random.chance(0.5)
            for sixteenth in 0..<16 {
                let b = s.beat(bar: bar, Double(sixteenth) * 0.25)
                if doubleKick || sixteenth % 2 == 0 { s.hit(.kick, beat: b, velocity: sixteenth % 4 == 0 ? 1 : 0.85) }
                if sixteenth % 2 == 0 { s.hit(.ride, beat: b, velocity: 0.35) }
                let (step, chug) = riff[sixteenth]
                let note = root + step
                if chug {
                    for interval in ChordShape.power.prefix(2) {
                        s.play(guitar, midi: Double(note + interval), beat: b, beats: 0.16, velocity: 0.8, bus: .guitar)
                    }
                } else {
                    for interval in ChordShape.power {
                        s.play(guitar, midi: Double(note + interval), beat: b, beats: 0.24, velocity: 0.9, bus: .guitar)
                    }
                }
                if sixteenth % 2 == 0 {
                    s.play(bass, midi: Double(note - 12), beat: b, beats: 0.45, velocity: 0.8, bus: .bass)
                }
            }
            if blast && bar % 2 == 1 {
                for eighth in 0..<8 { s.hit(.snare, beat: s.beat(bar: bar, Double(eighth) * 0.5), velocity: 0.85) }
            } else {
                s.hit(.snare, beat: s.beat(bar: bar, 1), velocity: 1)
                s.hit(.snare, beat: s.beat(bar: bar, 3), velocity: 1)
            }
            s.hit(.crash, beat: s.beat(bar: bar, 0), velocity: 0.8)
            for beat in 1..<4 where s.random.chance(0.3) { s.hit(.crash, beat: s.beat(bar: bar, Double(beat)), velocity: 0.6) }
        }
        var mix = MixSettings()
        mix.gain = [0.9, 0.6, 0, 0, 1.0]
        mix.pan = [0, 0, 0, 0, -0.2]
        mix.drive = s.random.uniformFloat(12, 22)
        mix.hardClip = true
        mix.highPassHz[Bus.guitar.rawValue] = 90
        mix.lowPassHz[Bus.guitar.rawValue] = s.random.uniform(5_000, 7_000)
        mix.widthDelaySeconds = s.random.uniform(0.012, 0.022)
        mix.noise = s.random.uniformFloat(0.08, 0.15)
        mix.noiseHighPassHz = 200
        mix.noiseLowPassHz = 11_000
        return mix
    }

    // MARK: Rock: backbeat drums with crashes, overdriven (soft-clipped) power chords in eighths, bass roots.

    static func rock(_ s: inout Studio) -> MixSettings {
        s.humanize = 0.004
        let key = s.random.pick([4, 9, 2, 7, 0])
        let progression = s.random.pick([[0, 10, 5, 0], [0, 5, 7, 5], [0, 7, 9, 5], [0, 3, 5, 0]])
        let offset = s.random.belowByModulo(4)
        let useRide = s.random.chance(0.3)

        s.load(.kick, .kick(startHz: 140, endHz: 55, decay: 0.16, click: 0.5))
        s.load(.snare, .snare(toneHz: 200, noiseDecay: 0.15, tone: 0.5))
        s.load(.closedHat, .hat(decay: 0.04, highPassHz: 7_000))
        s.load(.ride, .cymbal(decay: 0.4, highPassHz: 5_000, bell: 0.25, bellHz: 680))
        s.load(.crash, .cymbal(decay: 0.8, highPassHz: 3_500, bell: 0.15, bellHz: 500))
        let guitar = ToneInstrument(
            body: Wavetable(harmonics: Wavetable.sawtooth(harmonics: 48, rolloff: s.random.uniform(1.0, 1.3))),
            attack: 0.003, decay: 0.3, sustain: 0.6, release: 0.05, detuneCents: s.random.uniform(5, 10))
        let bass = ToneInstrument(body: Wavetable(harmonics: Wavetable.sawtooth(harmonics: 12, rolloff: 1.8)),
                                  attack: 0.004, decay: 0.25, sustain: 0.5, release: 0.04)
        let lead = ToneInstrument(
            body: Wavetable(harmonics: Wavetable.sawtooth(harmonics: 32, rolloff: 1.3)),
            transient: Wavetable(harmonics: Wavetable.sawtooth(harmonics: 40, rolloff: 1.0)), transientLevel: 0.5, transientDecay: 0.03,
            attack: 0.004, decay: 0.4, sustain: 0.5, release: 0.1, vibratoHz: 5.5, vibratoDepth: 0.006, vibratoDelay: 0.2)
        var walk = MelodyWalk(degree: 6, range: 2...11)
        let leadTonic = register(key, from: 57)

        for bar in 0..<s.barCount {
            let chordRoot = progression[(bar + offset) % 4]
            s.hit(.kick, beat: s.beat(bar: bar, 0), velocity: 1)
            s.hit(.kick, beat: s.beat(bar: bar, 2), velocity: 0.9)
            if s.random.chance(0.5) { s.hit(.kick, beat: s.beat(bar: bar, 2.5), velocity: 0.7) }
            if s.random.chance(0.2) { s.hit(.kick, beat: s.beat(bar: bar, 1.5), velocity: 0.6) }
            s.hit(.snare, beat: s.beat(bar: bar, 1), velocity: 0.95)
            s.hit(.snare, beat: s.beat(bar: bar, 3), velocity: 1)
            for eighth in 0..<8 { s.hit(useRide ? .ride : .closedHat, beat: s.beat(bar: bar, Double(eighth) * 0.5), velocity: eighth % 2 == 0 ? 0.5 : 0.35) }
            if (bar + offset) % 4 == 0 { s.hit(.crash, beat: s.beat(bar: bar, 0), velocity: 0.7) }

            let root = register(key + chordRoot, from: 40)
            let sustained = s.random.chance(0.2)
            for eighth in 0..<(sustained ? 1 : 8) {
                for interval in ChordShape.power {
                    s.play(guitar, midi: Double(root + interval), beat: s.beat(bar: bar, Double(eighth) * 0.5), beats: sustained ? 3.9 : 0.42,
                           velocity: eighth % 2 == 0 ? 0.9 : 0.75, bus: .guitar)
                }
            }
            for eighth in 0..<8 { s.play(bass, midi: Double(root - 12), beat: s.beat(bar: bar, Double(eighth) * 0.5), beats: 0.42, velocity: 0.8, bus: .bass) }
            if s.random.chance(0.35) {
                for eighth in 0..<8 where s.random.chance(0.6) {
                    let note = Double(Scale.note(Scale.minorPentatonic, degree: walk.step(&s.random), tonic: leadTonic))
                    s.play(lead, midi: note, beat: s.beat(bar: bar, Double(eighth) * 0.5), beats: 0.45, velocity: 0.4, bus: .lead,
                           bendFrom: s.random.chance(0.2) ? -2 : 0)
                }
            }
        }
        var mix = MixSettings()
        mix.gain = [0.9, 0.7, 0, 0.45, 0.85]
        mix.drive = s.random.uniformFloat(5, 9)
        mix.highPassHz[Bus.guitar.rawValue] = 80
        mix.lowPassHz[Bus.guitar.rawValue] = s.random.uniform(3_500, 5_000)
        mix.widthDelaySeconds = s.random.uniform(0.01, 0.018)
        mix.reverb = 0.08
        mix.noise = s.random.uniformFloat(0.02, 0.05)
        return mix
    }
}
