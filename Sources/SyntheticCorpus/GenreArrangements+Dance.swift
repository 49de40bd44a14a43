internal import GenreCore

// Disco, hip-hop, pop and reggae: the groove-led arrangers.
extension GenreArrangements {
    // MARK: Disco: four-on-the-floor, open hats on the off-beats, octave bass, string pads, guitar scratch.

    static func disco(_ s: inout Studio) -> MixSettings {
        let key = s.random.belowByModulo(12)
        let progression: [(Int, [Int])] = s.random.pick([
            [(0, ChordShape.minor7), (0, ChordShape.minor7), (5, ChordShape.dominant7), (5, ChordShape.dominant7)],
            [(0, ChordShape.minor7), (10, ChordShape.major), (8, ChordShape.major), (10, ChordShape.major)],
            [(0, ChordShape.minor7), (3, ChordShape.major7), (5, ChordShape.minor7), (3, ChordShape.major7)],
        ])
        let offset = s.random.belowByModulo(4)

        s.load(.kick, .kick(startHz: s.random.uniform(130, 160), endHz: 50, decay: 0.16, click: 0.4))
        s.load(.snare, .snare(toneHz: 210, noiseDecay: 0.12))
        s.load(.clap, .clap(decay: 0.08))
        s.load(.closedHat, .hat(decay: 0.025, highPassHz: 8_000))
        s.load(.openHat, .hat(decay: s.random.uniform(0.12, 0.2), highPassHz: 6_500))
        let bass = ToneInstrument(body: Wavetable(harmonics: Wavetable.sawtooth(harmonics: 24, rolloff: s.random.uniform(1.1, 1.5))),
                                  attack: 0.003, decay: 0.12, sustain: 0.35, release: 0.03)
        let strings = ToneInstrument(
            body: Wavetable(harmonics: Wavetable.sawtooth(harmonics: 48, rolloff: s.random.uniform(1.0, 1.3))),
            attack: 0.06, decay: 0.4, sustain: 0.8, release: 0.12, detuneCents: s.random.uniform(7, 12), vibratoHz: 5.5,
            vibratoDepth: 0.003, vibratoDelay: 0.1)
        let stabs = s.random.chance(0.5)
        let scratch = PluckInstrument(brightness: 0.85, ringSeconds: 0.6, muteRelease: 0.015)
        let useScratch = s.random.chance(0.6)

        for bar in 0..<s.barCount {
            let (chordRoot, shape) = progression[(bar + offset) % 4]
            for beat in 0..<4 {
                let b = Double(beat)
                s.hit(.kick, beat: s.beat(bar: bar, b), velocity: 1)
                s.hit(.openHat, beat: s.beat(bar: bar, b + 0.5), velocity: 0.55)
                s.hit(.closedHat, beat: s.beat(bar: bar, b + 0.25), velocity: 0.25)
                s.hit(.closedHat, beat: s.beat(bar: bar, b + 0.75), velocity: 0.3)
                if beat % 2 == 1 {
                    s.hit(.snare, beat: s.beat(bar: bar, b), velocity: 0.6)
                    s.hit(.clap, beat: s.beat(bar: bar, b), velocity: 0.7)
                }
            }
            let bassRoot = Double(register(key + chordRoot, from: 33))
            for eighth in 0..<8 {
                s.play(bass, midi: bassRoot + (eighth % 2 == 1 ? 12 : 0), beat: s.beat(bar: bar, Double(eighth) * 0.5), beats: 0.4,
                       velocity: 0.85, bus: .bass)
            }
            let chord = shape.map { Double(register(key + chordRoot, from: 55) + $0) }
            if stabs {
                for beat in 0..<4 {
                    for note in chord { s.play(strings, midi: note, beat: s.beat(bar: bar, Double(beat) + 0.5), beats: 0.3, velocity: 0.28, bus: .harmony) }
                }
            } else {
                for note in chord { s.play(strings, midi: note, beat: s.beat(bar: bar, 0), beats: 3.95, velocity: 0.25, bus: .harmony) }
                s.play(strings, midi: chord[0] + 12, beat: s.beat(bar: bar, 0), beats: 3.95, velocity: 0.2, bus: .harmony)
            }
            if useScratch {
                for sixteenth in 0..<16 where sixteenth % 4 != 0 || s.random.chance(0.3) {
                    let accent: Float = sixteenth % 4 == 2 ? 0.45 : 0.22
                    for note in chord.prefix(3) {
                        s.pluck(scratch, midi: note + 12, beat: s.beat(bar: bar, Double(sixteenth) * 0.25), beats: 0.12, velocity: accent, bus: .lead)
                    }
                }
            }
        }
        var mix = MixSettings()
        mix.gain = [1.0, 0.75, 0.6, 0.45, 0]
        mix.pan = [0, 0, -0.4, 0.5, 0]
        mix.reverb = 0.1
        mix.noise = s.random.uniformFloat(0.005, 0.015)
        return mix
    }

    // MARK: Hip-hop: slow heavy boom kick and snare, hats, sub bass, dusty low-passed keys, vinyl crackle.

    static func hiphop(_ s: inout Studio) -> MixSettings {
        s.swing = s.random.uniform(0.5, 0.6)
        s.humanize = 0.003
        let key = s.random.belowByModulo(12)
        let progression: [(Int, [Int])] = s.random.pick([
            [(0, ChordShape.minor7), (8, ChordShape.major7)],
            [(0, ChordShape.minor7), (5, ChordShape.minor7)],
            [(0, ChordShape.minor7), (10, ChordShape.dominant7)],
        ])
        let offset = s.random.belowByModulo(2)
        let kickPattern = s.random.pick([[0, 10], [0, 3, 10], [0, 7, 10, 11], [0, 6, 9]])  // sixteenths of the bar

        s.load(.kick, .kick(startHz: s.random.uniform(95, 120), endHz: s.random.uniform(44, 52), decay: s.random.uniform(0.35, 0.55), click: 0.5))
        s.load(.snare, .snare(toneHz: 180, noiseDecay: 0.16, tone: 0.7, highPassHz: 600, lowPassHz: 7_000))
        s.load(.clap, .clap(decay: 0.1))
        s.load(.closedHat, .hat(decay: s.random.uniform(0.025, 0.04), highPassHz: 7_500))
        let sub = ToneInstrument(body: Wavetable(harmonics: [1, 0.12]), attack: 0.005, decay: 0.6, sustain: 0.5, release: 0.08)
        let keys = FMInstrument(ratio: 1, index: s.random.uniform(0.8, 1.6), sustainIndex: 0.2, indexDecay: 0.3, attack: 0.003,
                                decay: 1.2, sustain: 0.2, release: 0.1)
        let flute = ToneInstrument(body: Wavetable(harmonics: [1, 0.2, 0.06]), attack: 0.05, decay: 0.5, sustain: 0.7, release: 0.2,
                                   vibratoHz: 5, vibratoDepth: 0.004)
        let useFlute = s.random.chance(0.5)
        var walk = MelodyWalk(degree: 5, range: 2...9)
        let tonic = register(key, from: 60)

        for bar in 0..<s.barCount {
            let (chordRoot, shape) = progression[(bar / 2 + offset) % 2]
            for sixteenth in kickPattern {
                s.hit(.kick, beat: s.beat(bar: bar, Double(sixteenth) * 0.25), velocity: sixteenth == 0 ? 1 : 0.85)
            }
            for beat in [1.0, 3.0] {
                s.hit(.snare, beat: s.beat(bar: bar, beat), velocity: 0.9)
                s.hit(.clap, beat: s.beat(bar: bar, beat), velocity: 0.5)
            }
            for eighth in 0..<8 { s.hit(.closedHat, beat: s.eighth(bar: bar, eighth), velocity: eighth % 2 == 0 ? 0.4 : 0.25) }
            if s.random.chance(0.3) {
                for k in 0..<3 { s.hit(.closedHat, beat: s.beat(bar: bar, 3.5 + Double(k) / 6), velocity: 0.2) }
            }
            let bassRoot = Double(register(key + chordRoot, from: 26))
            for (k, sixteenth) in kickPattern.enumerated() {
                let end = k + 1 < kickPattern.count ? kickPattern[k + 1] : 16
                s.play(sub, midi: bassRoot, beat: s.beat(bar: bar, Double(sixteenth) * 0.25), beats: Double(end - sixteenth) * 0.25 * 0.9,
                       velocity: 0.7, bus: .bass)
            }
            let chord = shape.map { Double(register(key + chordRoot, from: 55) + $0) }
            for (position, length) in [(0.0, 1.5), (1.75, 2.0)] {
                for note in chord { s.playFM(keys, midi: note, beat: s.beat(bar: bar, position), beats: length, velocity: 0.25, bus: .harmony) }
            }
            if useFlute && bar % 2 == 1 {
                for beat in [0.0, 1.5, 2.5] where s.random.chance(0.7) {
                    let note = Double(Scale.note(Scale.minorPentatonic, degree: walk.step(&s.random), tonic: tonic))
                    s.play(flute, midi: note, beat: s.beat(bar: bar, beat), beats: 0.9, velocity: 0.3, bus: .lead)
                }
            }
        }
        var mix = MixSettings()
        mix.gain = [1.1, 1.0, 0.55, 0.4, 0]
        mix.lowPassHz[Bus.harmony.rawValue] = s.random.uniform(1_400, 2_200)
        mix.masterLowPassHz = s.random.uniform(7_000, 9_500)
        mix.crackle = s.random.uniform(0.2, 0.5)
        mix.noise = s.random.uniformFloat(0.01, 0.03)
        mix.noiseHighPassHz = 1_000
        mix.noiseLowPassHz = 6_000
        mix.reverb = 0.05
        return mix
    }

    // MARK: Pop: I-V-vi-IV, bright detuned synth chords, steady beat, catchy repeated lead motif.

    static func pop(_ s: inout Studio) -> MixSettings {
        let key = s.random.belowByModulo(12)
        let progression: [(Int, [Int])] = s.random.pick([
            [(0, ChordShape.major), (7, ChordShape.major), (9, ChordShape.minor), (5, ChordShape.major)],
            [(9, ChordShape.minor), (5, ChordShape.major), (0, ChordShape.major), (7, ChordShape.major)],
            [(0, ChordShape.major), (5, ChordShape.major), (9, ChordShape.minor), (7, ChordShape.major)],
        ])
        let offset = s.random.belowByModulo(4)
        let chordRhythm: [(Double, Double)] = s.random.pick([
            [(0, 3.9)],
            [(0, 0.4), (0.5, 0.4), (1, 0.4), (1.5, 0.4), (2, 0.4), (2.5, 0.4), (3, 0.4), (3.5, 0.4)],
            [(0, 0.6), (0.75, 0.6), (1.5, 0.9), (2.5, 0.4), (3, 0.9)],
        ])
        var motif = [(Int, Int)]()  // eighth position in a 2-bar phrase, pentatonic degree
        var degree = 4 + s.random.belowByModulo(3)
        for eighth in 0..<16 where s.random.chance(0.55) {
            degree = min(max(degree + s.random.belowByModulo(5) - 2, 0), 9)
            motif.append((eighth, degree))
        }

        s.load(.kick, .kick(startHz: 130, endHz: 50, decay: 0.2, click: 0.3))
        s.load(.snare, .snare(toneHz: 200, noiseDecay: 0.13))
        s.load(.clap, .clap(decay: 0.1))
        s.load(.closedHat, .hat(decay: 0.03, highPassHz: 8_000))
        s.load(.shaker, .hat(decay: 0.04, highPassHz: 5_000))
        let bass = ToneInstrument(body: Wavetable(harmonics: Wavetable.square(harmonics: 16, rolloff: 1.4, evenLevel: 0.3)),
                                  attack: 0.004, decay: 0.2, sustain: 0.6, release: 0.04)
        let pad = ToneInstrument(
            body: Wavetable(harmonics: Wavetable.sawtooth(harmonics: 64, rolloff: s.random.uniform(0.9, 1.1))),
            attack: 0.015, decay: 0.4, sustain: 0.7, release: 0.1, detuneCents: s.random.uniform(10, 18))
        let lead = ToneInstrument(
            body: Wavetable(harmonics: Wavetable.square(harmonics: 32, rolloff: 1.0, evenLevel: 0.2)),
            transient: Wavetable(harmonics: Wavetable.sawtooth(harmonics: 48, rolloff: 0.9)), transientLevel: 0.5, transientDecay: 0.03,
            attack: 0.005, decay: 0.25, sustain: 0.5, release: 0.08, vibratoHz: 6, vibratoDepth: 0.003, vibratoDelay: 0.2)
        let bell = FMInstrument(ratio: 3.5, index: 2, sustainIndex: 0.2, indexDecay: 0.15, attack: 0.001, decay: 0.4, sustain: 0, release: 0.1)
        let useBells = s.random.chance(0.4)
        let leadTonic = register(key, from: 67)

        for bar in 0..<s.barCount {
            let (chordRoot, shape) = progression[(bar + offset) % 4]
            s.hit(.kick, beat: s.beat(bar: bar, 0), velocity: 1)
            s.hit(.kick, beat: s.beat(bar: bar, 2), velocity: 0.95)
            if s.random.chance(0.5) { s.hit(.kick, beat: s.beat(bar: bar, 2.5), velocity: 0.7) }
            for beat in [1.0, 3.0] {
                s.hit(.snare, beat: s.beat(bar: bar, beat), velocity: 0.8)
                s.hit(.clap, beat: s.beat(bar: bar, beat), velocity: 0.6)
            }
            for eighth in 0..<8 { s.hit(.closedHat, beat: s.beat(bar: bar, Double(eighth) * 0.5), velocity: eighth % 2 == 0 ? 0.4 : 0.3) }
            for sixteenth in 0..<16 { s.hit(.shaker, beat: s.beat(bar: bar, Double(sixteenth) * 0.25), velocity: 0.12) }

            let bassRoot = Double(register(key + chordRoot, from: 33))
            for eighth in 0..<8 { s.play(bass, midi: bassRoot, beat: s.beat(bar: bar, Double(eighth) * 0.5), beats: 0.45, velocity: 0.8, bus: .bass) }
            let chord = shape.map { Double(register(key + chordRoot, from: 57) + $0) } + [Double(register(key + chordRoot, from: 57) + 12)]
            for (position, length) in chordRhythm {
                for note in chord { s.play(pad, midi: note, beat: s.beat(bar: bar, position), beats: length, velocity: 0.22, bus: .harmony) }
            }
            for (eighth, degree) in motif where eighth / 8 == bar % 2 {
                let note = Double(Scale.note(Scale.majorPentatonic, degree: degree, tonic: leadTonic - 12))
                s.play(lead, midi: note, beat: s.beat(bar: bar, Double(eighth % 8) * 0.5), beats: 0.45, velocity: 0.5, bus: .lead)
            }
            if useBells {
                for sixteenth in 0..<16 {
                    let note = chord[sixteenth % chord.count] + 12
                    s.playFM(bell, midi: note, beat: s.beat(bar: bar, Double(sixteenth) * 0.25), beats: 0.2, velocity: 0.18, bus: .lead)
                }
            }
        }
        var mix = MixSettings()
        mix.gain = [0.9, 0.75, 0.7, 0.6, 0]
        mix.lowPassHz[Bus.bass.rawValue] = 1_200
        mix.reverb = 0.15
        mix.noise = s.random.uniformFloat(0.004, 0.012)
        return mix
    }

    // MARK: Reggae: one drop at ~75 BPM, off-beat skank chords, heavy deep bass, organ bubble.

    static func reggae(_ s: inout Studio) -> MixSettings {
        s.swing = s.random.uniform(0.5, 0.58)
        s.humanize = 0.005
        let key = s.random.belowByModulo(12)
        let minor = s.random.chance(0.5)
        let progression: [(Int, [Int])] = minor
            ? s.random.pick([[(0, ChordShape.minor), (0, ChordShape.minor), (5, ChordShape.minor), (5, ChordShape.minor)],
                             [(0, ChordShape.minor), (10, ChordShape.major), (0, ChordShape.minor), (10, ChordShape.major)]])
            : [(0, ChordShape.major), (5, ChordShape.major), (7, ChordShape.major), (5, ChordShape.major)]
        let offset = s.random.belowByModulo(4)
        let bassRhythm: [(Double, Double, Int)] = s.random.pick([  // beat, length, interval above the root
            [(0, 0.9, 0), (1, 0.4, 0), (1.5, 0.4, 7), (2.5, 0.4, 12), (3, 0.9, 10)],
            [(0.5, 0.4, 0), (1, 0.9, 0), (2, 0.4, 7), (2.5, 0.9, 5), (3.5, 0.4, 3)],
            [(0, 1.4, 0), (1.5, 0.4, 7), (2, 0.9, 0), (3, 0.4, 12), (3.5, 0.4, 7)],
        ])

        s.load(.kick, .kick(startHz: 110, endHz: 55, decay: 0.22, click: 0.2))
        s.load(.rim, .rim(toneHz: s.random.uniform(1_400, 1_900)))
        s.load(.snare, .snare(toneHz: 250, noiseDecay: 0.1, tone: 0.5, highPassHz: 1_200))
        s.load(.closedHat, .hat(decay: 0.03, highPassHz: 7_000))
        let bass = ToneInstrument(body: Wavetable(harmonics: [1, 0.35, 0.12, 0.04]), attack: 0.01, decay: 0.5, sustain: 0.7, release: 0.08)
        let skank = ToneInstrument(
            body: Wavetable(harmonics: Wavetable.sawtooth(harmonics: 40, rolloff: 1.1)),
            transient: Wavetable(harmonics: Wavetable.sawtooth(harmonics: 48, rolloff: 0.8)), transientLevel: 0.8, transientDecay: 0.02,
            attack: 0.002, decay: 0.06, sustain: 0.1, release: 0.03)
        let organ = ToneInstrument(body: Wavetable(harmonics: Wavetable.organ([0.6, 0.8, 0.5, 0.3, 0, 0.2])), attack: 0.005, decay: 0.2,
                                   sustain: 0.7, release: 0.03)
        let useBubble = s.random.chance(0.6)

        for bar in 0..<s.barCount {
            let (chordRoot, shape) = progression[(bar + offset) % 4]
            s.hit(.kick, beat: s.beat(bar: bar, 2), velocity: 1)
            s.hit(s.random.chance(0.5) ? .rim : .snare, beat: s.beat(bar: bar, 2), velocity: 0.8)
            for eighth in 0..<8 { s.hit(.closedHat, beat: s.eighth(bar: bar, eighth), velocity: eighth % 2 == 1 ? 0.35 : 0.22) }
            let bassRoot = register(key + chordRoot, from: 28)
            for (beat, length, interval) in bassRhythm {
                s.play(bass, midi: Double(bassRoot + interval), beat: s.beat(bar: bar, beat), beats: length, velocity: 1, bus: .bass)
            }
            let chord = shape.map { Double(register(key + chordRoot, from: 60) + $0) }
            for beat in 0..<4 {
                for note in chord { s.play(skank, midi: note, beat: s.eighth(bar: bar, 2 * beat + 1), beats: 0.15, velocity: 0.35, bus: .harmony) }
            }
            if useBubble {
                for sixteenth in 0..<16 where sixteenth % 2 == 1 {
                    let notes = sixteenth % 4 == 1 ? chord.map { $0 - 12 } : chord
                    for note in notes { s.play(organ, midi: note, beat: s.beat(bar: bar, Double(sixteenth) * 0.25), beats: 0.15, velocity: 0.1, bus: .lead) }
                }
            }
        }
        var mix = MixSettings()
        mix.gain = [0.8, 1.3, 0.7, 0.6, 0]
        mix.highPassHz[Bus.harmony.rawValue] = 500
        mix.lowPassHz[Bus.bass.rawValue] = 700
        mix.reverb = 0.2
        mix.noise = s.random.uniformFloat(0.005, 0.02)
        return mix
    }
}
