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
}
