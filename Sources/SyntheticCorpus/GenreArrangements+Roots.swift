internal import GenreCore

// Blues, classical, country and jazz: the acoustic and roots arrangers.
extension GenreArrangements {
    // MARK: Blues: 12-bar shuffle, boogie bass, dominant sevenths, a bending lead guitar.

    static func blues(_ s: inout Studio) -> MixSettings {
        s.swing = 2.0 / 3.0
        s.humanize = 0.006
        let key = s.random.pick([4, 9, 7, 0, 2, 10])
        let bassTonic = register(key, from: 28)
        let leadTonic = register(key, from: 57)
        var form = [0, 0, 0, 0, 5, 5, 0, 0, 7, 5, 0, 7]
        if s.random.chance(0.5) { form[1] = 5 }
        let formOffset = s.random.belowByModulo(12)

        s.load(.kick, .kick(startHz: 120, endHz: 55, decay: 0.2, click: 0.2))
        s.load(.snare, .snare(toneHz: 200 + s.random.uniform(-20, 20), noiseDecay: 0.1, tone: 0.6, highPassHz: 700, lowPassHz: 5_000))
        s.load(.closedHat, .hat(decay: 0.035 + s.random.uniform(0, 0.02)))
        s.load(.ride, .cymbal(decay: 0.4, highPassHz: 5_000, bell: 0.3, bellHz: s.random.uniform(600, 760)))
        let useRide = s.random.chance(0.6)

        let bass = ToneInstrument(body: Wavetable(harmonics: Wavetable.sawtooth(harmonics: 10, rolloff: 2.2)),
                                  attack: 0.005, decay: 0.25, sustain: 0.4, release: 0.06)
        let organ = ToneInstrument(body: Wavetable(harmonics: Wavetable.organ([0.8, 1, 0.6, 0.3, 0.2, s.random.uniformFloat(0, 0.3)])),
                                   attack: 0.01, decay: 0.5, sustain: 0.8, release: 0.08, detuneCents: 4, vibratoHz: 6.5, vibratoDepth: 0.002)
        let piano = makePiano(&s.random, brightness: 0.5)
        let usePiano = s.random.chance(0.5)
        let guitar = ToneInstrument(
            body: Wavetable(harmonics: Wavetable.sawtooth(harmonics: 32, rolloff: s.random.uniform(1.2, 1.6))),
            transient: Wavetable(harmonics: Wavetable.sawtooth(harmonics: 40, rolloff: 1.0)), transientLevel: 0.6, transientDecay: 0.03,
            attack: 0.003, decay: 0.5, sustain: 0.45, release: 0.1,
            vibratoHz: s.random.uniform(5, 6.5), vibratoDepth: s.random.uniform(0.005, 0.01), vibratoDelay: 0.25)
        var walk = MelodyWalk(degree: 6 + s.random.belowByModulo(4), range: 3...13)

        for bar in 0..<s.barCount {
            let chordRoot = form[(bar + formOffset) % 12]
            for beat in 0..<4 {
                let cymbal: DrumSound = useRide ? .ride : .closedHat
                s.hit(cymbal, beat: s.beat(bar: bar, Double(beat)), velocity: 0.45 + (beat % 2 == 0 ? 0.1 : 0))
                s.hit(cymbal, beat: s.beat(bar: bar, Double(beat) + s.swing), velocity: 0.28)
            }
            s.hit(.kick, beat: s.beat(bar: bar, 0), velocity: 0.9)
            s.hit(.kick, beat: s.beat(bar: bar, 2), velocity: 0.8)
            if s.random.chance(0.35) { s.hit(.kick, beat: s.beat(bar: bar, 2 + s.swing), velocity: 0.5) }
            s.hit(.snare, beat: s.beat(bar: bar, 1), velocity: 0.75)
            s.hit(.snare, beat: s.beat(bar: bar, 3), velocity: 0.8)

            let pattern = bar % 2 == 0 ? [0, 4, 7, 9] : [10, 9, 7, 4]
            for beat in 0..<4 {
                let note = Double(bassTonic + chordRoot + pattern[beat])
                s.play(bass, midi: note, beat: s.beat(bar: bar, Double(beat)), beats: 0.55, velocity: 0.8, bus: .bass)
                s.play(bass, midi: note, beat: s.beat(bar: bar, Double(beat) + s.swing), beats: 0.3, velocity: 0.6, bus: .bass)
            }

            // Organ holds the dominant seventh; a piano may add shuffle stabs.
            let chord = ChordShape.dominant7.map { Double(register(key + chordRoot, from: 52) + $0) }
            for note in chord { s.play(organ, midi: note, beat: s.beat(bar: bar, 0), beats: 3.9, velocity: 0.2, bus: .harmony) }
            if usePiano {
                for beat in [1, 3] where s.random.chance(0.8) {
                    for note in chord { s.play(piano, midi: note + 12, beat: s.beat(bar: bar, Double(beat) + s.swing - 1), beats: 0.3, velocity: 0.2, bus: .harmony) }
                }
            }

            // Lead guitar phrases over every bar, bends on the blue notes.
            do {
                var eighth = s.random.belowByModulo(2)
                while eighth < 8 {
                    let length = 1 + s.random.belowByModulo(3)
                    if s.random.chance(0.8) {
                        let degree = walk.step(&s.random)
                        let note = Double(Scale.note(Scale.blues, degree: degree, tonic: leadTonic - 12))
                        let bend: Double = s.random.chance(0.35) ? -Double(1 + s.random.belowByModulo(2)) : 0
                        s.play(guitar, midi: note, beat: s.eighth(bar: bar, eighth), beats: Double(length) * 0.5 * 0.9,
                               velocity: 0.7, bus: .guitar, bendFrom: bend, bendTime: 0.09)
                    }
                    eighth += length
                }
            }
        }
        var mix = MixSettings()
        mix.gain = [0.8, 0.8, 0.7, 0.7, 1.0]
        mix.drive = s.random.uniformFloat(3, 5)
        mix.lowPassHz[Bus.guitar.rawValue] = 3_500
        mix.reverb = 0.18
        mix.noise = s.random.uniformFloat(0.01, 0.03)
        return mix
    }

    // MARK: Classical: no percussion, strings and piano, slow functional harmony, reverb.

    static func classical(_ s: inout Studio) -> MixSettings {
        s.humanize = 0.012
        let minor = s.random.chance(0.4)
        let scale = minor ? Scale.harmonicMinor : Scale.major
        let tonic = register(s.random.belowByModulo(12), from: 48)
        let progression = s.random.pick([[0, 5, 3, 4], [0, 3, 4, 0], [0, 4, 5, 3], [0, 5, 1, 4], [0, 3, 6, 4]])
        let offset = s.random.belowByModulo(4)
        let ensemble = s.random.belowByModulo(3)  // 0 strings, 1 piano with a soft string pad, 2 both
        let barBeats = Double(s.beatsPerBar)

        let strings = ToneInstrument(
            body: Wavetable(harmonics: Wavetable.sawtooth(harmonics: 40, rolloff: s.random.uniform(1.3, 1.7))),
            attack: s.random.uniform(0.25, 0.45), decay: 0.6, sustain: 0.85, release: 0.35,
            detuneCents: s.random.uniform(5, 10), vibratoHz: s.random.uniform(5, 6), vibratoDepth: 0.004, vibratoDelay: 0.3)
        let violin = ToneInstrument(
            body: Wavetable(harmonics: Wavetable.sawtooth(harmonics: 40, rolloff: s.random.uniform(1.1, 1.4))),
            attack: 0.12, decay: 0.5, sustain: 0.85, release: 0.3, vibratoHz: s.random.uniform(5.2, 6.2),
            vibratoDepth: s.random.uniform(0.005, 0.009), vibratoDelay: 0.2)
        let pianoBrightness = s.random.uniform(0.1, 0.4)
        let piano = makePiano(&s.random, brightness: pianoBrightness)
        var melody = MelodyWalk(degree: 9 + s.random.belowByModulo(3), range: 7...15)
        let rhythms: [[Double]] = s.beatsPerBar == 3
            ? [[2, 1], [3], [1, 1, 1], [1.5, 0.5, 1]]
            : [[2, 2], [1, 1, 2], [3, 1], [4], [2, 1, 1], [1.5, 0.5, 2]]

        for bar in 0..<s.barCount {
            let degree = progression[(bar + offset) % progression.count]
            let chord = Scale.triad(scale, degree: degree, tonic: tonic)
            let swell = Float(0.8 + 0.2 * s.random.unit())
            let stringLevel: Float = ensemble == 1 ? 0.4 : 1
            s.play(strings, midi: Double(chord[0] - 12), beat: s.beat(bar: bar, 0), beats: barBeats, velocity: 0.55 * swell * stringLevel, bus: .bass)
            for note in [chord[1], chord[2], chord[0] + 12] {
                s.play(strings, midi: Double(note), beat: s.beat(bar: bar, 0), beats: barBeats, velocity: 0.28 * swell * stringLevel, bus: .harmony)
            }
            if ensemble != 0 {
                // Broken-chord (Alberti) left hand in eighths.
                let figure = [chord[0] - 12, chord[2] - 12, chord[1] - 12, chord[2] - 12]
                for eighth in 0..<(2 * s.beatsPerBar) {
                    s.play(piano, midi: Double(figure[eighth % 4]), beat: s.beat(bar: bar, Double(eighth) * 0.5), beats: 0.9,
                           velocity: 0.32 + 0.08 * Float(eighth == 0 ? 1 : 0), bus: .harmony)
                }
            }
            // Melody: violin when strings play, right-hand piano otherwise.
            var position = 0.0
            for length in s.random.pick(rhythms) {
                var step = melody.step(&s.random)
                if position == 0, let nearest = [degree, degree + 2, degree + 4, degree + 7, degree + 9, degree + 11]
                    .min(by: { abs($0 - step) < abs($1 - step) }) {
                    step = nearest
                    melody.degree = nearest
                }
                let note = Double(Scale.note(scale, degree: step, tonic: tonic))
                if ensemble == 1 {
                    s.play(piano, midi: note, beat: s.beat(bar: bar, position), beats: length, velocity: 0.5, bus: .lead)
                } else {
                    s.play(violin, midi: note, beat: s.beat(bar: bar, position), beats: length * 0.97, velocity: 0.42, bus: .lead)
                }
                position += length
            }
        }
        var mix = MixSettings()
        mix.gain = [0, 0.8, 0.8, 0.8, 0]
        mix.reverb = s.random.uniformFloat(0.3, 0.45)
        mix.reverbSend = [0, 0.8, 1, 1, 0]
        mix.noise = s.random.uniformFloat(0.002, 0.008)
        mix.noiseLowPassHz = 6_000
        return mix
    }

    // MARK: Country: boom-chick bass, Karplus-Strong strummed and twangy lead guitar, brushed snare.

    static func country(_ s: inout Studio) -> MixSettings {
        s.humanize = 0.004
        s.swing = s.random.uniform(0.5, 0.56)
        let key = s.random.pick([7, 2, 9, 0, 4])
        let progression = s.random.pick([[0, 0, 5, 5, 7, 7, 0, 0], [0, 5, 0, 7], [0, 0, 5, 0, 7, 5, 0, 0]])
        let offset = s.random.belowByModulo(progression.count)
        let guitarRoot = register(key, from: 40)
        let leadTonic = register(key, from: 62)

        s.load(.kick, .kick(startHz: 110, endHz: 60, decay: 0.12, click: 0.1))
        s.load(.brush, .brush(decay: s.random.uniform(0.08, 0.13), swell: 0.012))
        s.load(.shaker, .brush(decay: 0.05, swell: 0.02))
        let rhythm = PluckInstrument(brightness: s.random.uniform(0.55, 0.75), ringSeconds: 1.6, muteRelease: 0.05)
        let twang = PluckInstrument(brightness: s.random.uniform(0.9, 1.0), ringSeconds: 1.0, muteRelease: 0.04)
        let bass = makeUprightBass(&s.random)
        let fiddle = ToneInstrument(
            body: Wavetable(harmonics: Wavetable.sawtooth(harmonics: 32, rolloff: 1.2)), attack: 0.06, decay: 0.4, sustain: 0.8,
            release: 0.15, vibratoHz: 6, vibratoDepth: 0.008, vibratoDelay: 0.15)
        let useFiddle = s.random.chance(0.4)
        var walk = MelodyWalk(degree: 5, range: 0...10)

        for bar in 0..<s.barCount {
            let chordRoot = progression[(bar + offset) % progression.count]
            let root = guitarRoot + chordRoot
            let voicing = [root + 7, root + 12, root + 16, root + 19]
            // Drums: soft kick on 1 and 3, brush on 2 and 4, brush "train" in eighths.
            s.hit(.kick, beat: s.beat(bar: bar, 0), velocity: 0.5)
            s.hit(.kick, beat: s.beat(bar: bar, 2), velocity: 0.45)
            s.hit(.brush, beat: s.beat(bar: bar, 1), velocity: 0.8)
            s.hit(.brush, beat: s.beat(bar: bar, 3), velocity: 0.85)
            for eighth in 0..<8 { s.hit(.shaker, beat: s.eighth(bar: bar, eighth), velocity: eighth % 2 == 0 ? 0.25 : 0.35) }
            // Boom-chick: bass root and fifth, guitar bass string then strum.
            let bassRoot = Double(register(key + chordRoot, from: 31))
            s.play(bass, midi: bassRoot, beat: s.beat(bar: bar, 0), beats: 0.9, velocity: 0.9, bus: .bass)
            s.play(bass, midi: bassRoot + (s.random.chance(0.7) ? -5 : 7), beat: s.beat(bar: bar, 2), beats: 0.9, velocity: 0.85, bus: .bass)
            s.pluck(rhythm, midi: Double(root), beat: s.beat(bar: bar, 0), beats: 0.9, velocity: 0.5, bus: .harmony)
            s.pluck(rhythm, midi: Double(root + 7), beat: s.beat(bar: bar, 2), beats: 0.9, velocity: 0.45, bus: .harmony)
            for beat in [1.0, 3.0] {
                for (string, note) in voicing.enumerated() {
                    s.pluck(rhythm, midi: Double(note), beat: s.beat(bar: bar, beat), beats: 0.45, velocity: 0.35, bus: .harmony,
                            delaySeconds: Double(string) * 0.009)
                }
                if s.random.chance(0.5) {
                    for (string, note) in voicing.reversed().enumerated() {
                        s.pluck(rhythm, midi: Double(note), beat: s.beat(bar: bar, beat + s.swing), beats: 0.3, velocity: 0.22,
                                bus: .harmony, delaySeconds: Double(string) * 0.007)
                    }
                }
            }
            // Twangy lead licks in eighths from the major pentatonic, or fiddle lines.
            if s.random.chance(0.7) {
                for eighth in 0..<8 where s.random.chance(0.6) {
                    let note = Double(Scale.note(Scale.majorPentatonic, degree: walk.step(&s.random), tonic: leadTonic))
                    if useFiddle && eighth % 2 == 0 {
                        s.play(fiddle, midi: note, beat: s.eighth(bar: bar, eighth), beats: 0.9, velocity: 0.35, bus: .lead)
                    } else {
                        s.pluck(twang, midi: note, beat: s.eighth(bar: bar, eighth), beats: 0.45, velocity: 0.6, bus: .lead)
                        if s.random.chance(0.2) {
                            s.pluck(twang, midi: note + 4, beat: s.eighth(bar: bar, eighth), beats: 0.45, velocity: 0.4, bus: .lead)
                        }
                    }
                }
            }
        }
        var mix = MixSettings()
        mix.gain = [0.75, 0.9, 0.9, 0.8, 0]
        mix.reverb = 0.12
        mix.noise = s.random.uniformFloat(0.005, 0.02)
        return mix
    }

    // MARK: Jazz: swing ride, hi-hat on 2 and 4, walking bass, comping seventh chords, optional sax.

    static func jazz(_ s: inout Studio) -> MixSettings {
        s.swing = s.random.uniform(0.62, 0.68)
        s.humanize = 0.008
        let key = s.random.pick([5, 10, 3, 0, 7])
        let progression: [(Int, [Int], [Int])] = s.random.pick([
            [(2, ChordShape.minor7, ChordShape.rootlessMinor9), (7, ChordShape.dominant7, ChordShape.rootlessDominant9),
             (0, ChordShape.major7, ChordShape.rootlessMajor9), (9, ChordShape.dominant7, ChordShape.rootlessDominant9)],
            [(0, ChordShape.major7, ChordShape.rootlessMajor9), (9, ChordShape.minor7, ChordShape.rootlessMinor9),
             (2, ChordShape.minor7, ChordShape.rootlessMinor9), (7, ChordShape.dominant7, ChordShape.rootlessDominant9)],
            [(2, ChordShape.minor7, ChordShape.rootlessMinor9), (7, ChordShape.dominant7, ChordShape.rootlessDominant9),
             (0, ChordShape.major7, ChordShape.rootlessMajor9), (0, ChordShape.major7, ChordShape.rootlessMajor9)],
        ])
        let offset = s.random.belowByModulo(4)

        s.load(.ride, .cymbal(decay: s.random.uniform(0.35, 0.55), highPassHz: 5_000, bell: 0.35, bellHz: s.random.uniform(650, 820)))
        s.load(.closedHat, .hat(decay: 0.02, highPassHz: 6_000))
        s.load(.kick, .kick(startHz: 100, endHz: 60, decay: 0.15, click: 0))
        s.load(.snare, .snare(toneHz: 220, noiseDecay: 0.09, tone: 0.2, highPassHz: 1_200))
        let bass = makeUprightBass(&s.random)
        let pianoBrightness = s.random.uniform(0.4, 0.8)
        let piano = makePiano(&s.random, brightness: pianoBrightness)
        let sax = ToneInstrument(
            body: Wavetable(harmonics: Wavetable.square(harmonics: 24, rolloff: 1.1, evenLevel: 0.5)), attack: 0.03, decay: 0.3,
            sustain: 0.8, release: 0.06, vibratoHz: 5, vibratoDepth: 0.005, vibratoDelay: 0.15)
        let useSax = s.random.chance(0.5)
        var walkingNote = register(key + progression[offset % 4].0, from: 33)
        var saxWalk = MelodyWalk(degree: 7, range: 3...12)
        let saxTonic = register(key, from: 55)

        for bar in 0..<s.barCount {
            let (chordRoot, shape, voicing) = progression[(bar + offset) % 4]
            let nextRoot = progression[(bar + offset + 1) % 4].0
            // Ride: ding, ding-a, ding, ding-a; hi-hat pedal on 2 and 4; feathered kick; sparse snare comping.
            for beat in 0..<4 {
                let b = Double(beat)
                s.hit(.ride, beat: s.beat(bar: bar, b), velocity: beat % 2 == 1 ? 0.6 : 0.5)
                if beat % 2 == 1 { s.hit(.ride, beat: s.beat(bar: bar, b + s.swing), velocity: 0.35) }
                if beat % 2 == 1 { s.hit(.closedHat, beat: s.beat(bar: bar, b), velocity: 0.4) }
                s.hit(.kick, beat: s.beat(bar: bar, b), velocity: 0.12)
                if s.random.chance(0.2) { s.hit(.snare, beat: s.beat(bar: bar, b + s.swing), velocity: s.random.uniformFloat(0.1, 0.3)) }
            }
            // Walking bass: root, chord tones, chromatic approach to the next root.
            let root = register(key + chordRoot, from: 33)
            let target = register(key + nextRoot, from: 33)
            let tones = [root, root + shape[1], root + shape[2], root + shape[3] - 12, root + 12]
            for beat in 0..<4 {
                var note: Int
                switch beat {
                case 0: note = root
                case 3: note = target + (s.random.chance(0.5) ? 1 : -1)
                default: note = s.random.pick(tones)
                }
                if abs(note - walkingNote) > 9 { note += note > walkingNote ? -12 : 12 }
                note = min(max(note, 28), 50)
                walkingNote = note
                s.play(bass, midi: Double(note), beat: s.beat(bar: bar, Double(beat)), beats: 0.9, velocity: 0.85, bus: .bass)
            }
            // Comping: rootless voicings, Charleston or random swung eighths.
            let chord = voicing.map { Double(register(key + chordRoot, from: 50) + $0) }
            let hits: [(Int, Double)] = s.random.chance(0.5) ? [(0, 0.4), (3, 1.2)] : [(s.random.belowByModulo(8), 0.6), (s.random.belowByModulo(8), 0.8)]
            for (eighth, length) in hits {
                for note in chord { s.play(piano, midi: note, beat: s.eighth(bar: bar, eighth), beats: length, velocity: 0.22, bus: .harmony) }
            }
            if useSax {
                let scale = shape == ChordShape.dominant7 ? Scale.mixolydian : (shape == ChordShape.minor7 ? Scale.dorian : Scale.major)
                for eighth in 0..<8 where s.random.chance(0.65) {
                    let note = Double(Scale.note(scale, degree: saxWalk.step(&s.random), tonic: register(key + chordRoot, from: saxTonic - 6)))
                    s.play(sax, midi: note, beat: s.eighth(bar: bar, eighth), beats: 0.45, velocity: eighth % 2 == 1 ? 0.45 : 0.35, bus: .lead)
                }
            }
        }
        var mix = MixSettings()
        mix.gain = [0.7, 1.0, 0.8, 0.6, 0]
        mix.pan = [0.1, 0, -0.35, 0.35, 0]
        mix.reverb = s.random.uniformFloat(0.15, 0.25)
        mix.noise = s.random.uniformFloat(0.005, 0.02)
        return mix
    }
}
