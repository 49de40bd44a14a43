internal import GenreCore

/// The ten genre arrangers. Each one loads its drum kit, builds its instruments (with per-clip variation drawn
/// from the studio's random generator), writes every bar of the clip into the studio's buses and returns how the
/// buses are mixed. Positions are in beats; MIDI note numbers for pitch.
enum GenreArrangements {
    /// Base tempo (BPM) per genre, in ``SyntheticCorpus/genres`` order; each clip varies it by up to ±8 %.
    static let baseTempo: [Double] = [84, 66, 118, 120, 90, 140, 172, 112, 75, 126]

    static func arrange(genre: Int, in studio: inout Studio) -> MixSettings {
        switch genre {
        case 0: blues(&studio)
        case 1: classical(&studio)
        case 2: country(&studio)
        case 3: disco(&studio)
        case 4: hiphop(&studio)
        case 5: jazz(&studio)
        case 6: metal(&studio)
        case 7: pop(&studio)
        case 8: reggae(&studio)
        default: rock(&studio)
        }
    }

    /// A random walk over scale degrees kept inside `range`.
    struct MelodyWalk {
        var degree: Int
        let range: ClosedRange<Int>

        mutating func step(_ random: inout SplitMix64, largest: Int = 2) -> Int {
            var next = degree + random.belowByModulo(2 * largest + 1) - largest
            if next < range.lowerBound { next = range.lowerBound + (range.lowerBound - next) }
            if next > range.upperBound { next = range.upperBound - (next - range.upperBound) }
            degree = min(max(next, range.lowerBound), range.upperBound)
            return degree
        }
    }

    /// Pitch class (0 = C) mapped into the octave starting at MIDI `floor`.
    static func register(_ pitchClass: Int, from floor: Int) -> Int {
        floor + ((pitchClass - floor) % 12 + 12) % 12
    }

    /// A piano-like voice: mellow partials with a bright hammer transient and a long free decay.
    static func makePiano(_ random: inout SplitMix64, brightness: Double) -> ToneInstrument {
        var partials = Wavetable.sawtooth(harmonics: 24, rolloff: 1.9 - brightness * 0.4)
        partials[1] *= 1.2
        partials[2] *= 0.8
        return ToneInstrument(
            body: Wavetable(harmonics: partials), transient: Wavetable(harmonics: Wavetable.sawtooth(harmonics: 40, rolloff: 1.0)),
            transientLevel: Float(0.6 + brightness * 0.4), transientDecay: 0.04 + random.uniform(0, 0.03),
            attack: 0.002, decay: 0.9 + random.uniform(0, 0.5), sustain: 0.05, release: 0.15)
    }

    /// An upright (acoustic) bass: few partials, plucked transient, short decay.
    static func makeUprightBass(_ random: inout SplitMix64) -> ToneInstrument {
        ToneInstrument(
            body: Wavetable(harmonics: [1, 0.5, 0.25, 0.12, 0.06]),
            transient: Wavetable(harmonics: Wavetable.sawtooth(harmonics: 12, rolloff: 1.3)), transientLevel: 0.5, transientDecay: 0.02,
            attack: 0.004, decay: 0.3 + random.uniform(0, 0.15), sustain: 0.2, release: 0.06)
    }

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
