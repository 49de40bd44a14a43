internal import Foundation

/// The mono mixing buses a clip is built on; each is processed and panned on its own at mixdown.
enum Bus: Int, CaseIterable {
    case drums, bass, harmony, lead, guitar
}

/// A wavetable instrument: a sustained body waveform, an optional brighter transient layer that fades out
/// (piano hammer, pick attack), an attack/decay/sustain/release amplitude envelope, optional detuned second
/// oscillator (chorus/ensemble) and delayed vibrato. Times in seconds, levels linear.
struct ToneInstrument {
    var body: Wavetable
    var transient: Wavetable? = nil
    /// Level of the transient layer at the note start, relative to the body.
    var transientLevel: Float = 0
    /// Time constant of the transient layer's exponential fade (s).
    var transientDecay: Double = 0.05
    var attack: Double = 0.005
    /// Time constant of the exponential fall from peak to `sustain` (s).
    var decay: Double = 0.3
    var sustain: Float = 0.5
    /// Time constant of the exponential release after the note ends (s).
    var release: Double = 0.1
    /// Detune of a second oscillator in cents (0: a single oscillator).
    var detuneCents: Double = 0
    var vibratoHz: Double = 5.5
    /// Vibrato depth as a fraction of the frequency (0.005 is about 9 cents).
    var vibratoDepth: Double = 0
    /// Time before the vibrato reaches full depth (s).
    var vibratoDelay: Double = 0.2
}

/// A two-operator FM instrument (electric piano, FM bass, bells): carrier at the note frequency, modulator at
/// `ratio` times it, modulation index (radians, at most 3) falling from `index` to `sustainIndex` with time
/// constant `indexDecay` (s).
struct FMInstrument {
    var ratio: Double = 1
    var index: Double = 2
    var sustainIndex: Double = 0.3
    var indexDecay: Double = 0.2
    var attack: Double = 0.002
    var decay: Double = 0.8
    var sustain: Float = 0
    var release: Double = 0.1
}

/// A Karplus-Strong plucked string. `brightness` in 0...1 sets the excitation's and the loop filter's
/// brightness (1 = twangy), `ringSeconds` the time to fall by 60 dB, `muteRelease` the fade time constant (s)
/// once the note is released (palm mute, chord change).
struct PluckInstrument {
    var brightness: Double = 0.6
    var ringSeconds: Double = 2
    var muteRelease: Double = 0.03
}

/// How one percussion sound is synthesised: a pitched tone with a downward sweep (drum body), band-limited noise
/// (snares, cymbals, brushes) and inharmonic metallic partials (ride and crash bells). Frequencies in Hz, times
/// in seconds (decays are exponential time constants).
struct DrumRecipe {
    var length: Double = 0.5
    var toneLevel: Float = 0
    var toneStartHz: Double = 150
    var toneEndHz: Double = 50
    var sweepTime: Double = 0.03
    var toneDecay: Double = 0.15
    var clickLevel: Float = 0
    var noiseLevel: Float = 0
    var noiseHighPassHz: Double = 20
    var noiseLowPassHz: Double = 18_000
    var noiseAttack: Double = 0.0005
    var noiseDecay: Double = 0.1
    /// Number of noise bursts (hand claps), `burstSpacing` apart.
    var bursts: Int = 1
    var burstSpacing: Double = 0.011
    var metalLevel: Float = 0
    var metalBaseHz: Double = 0
    var metalDecay: Double = 0.5

    static func kick(startHz: Double = 150, endHz: Double = 50, decay: Double = 0.18, click: Float = 0.3) -> DrumRecipe {
        DrumRecipe(length: max(0.3, decay * 5), toneLevel: 1, toneStartHz: startHz, toneEndHz: endHz, sweepTime: 0.035,
                   toneDecay: decay, clickLevel: click)
    }
    static func snare(toneHz: Double = 190, noiseDecay: Double = 0.12, tone: Float = 0.5, highPassHz: Double = 900,
                      lowPassHz: Double = 9_000) -> DrumRecipe {
        DrumRecipe(length: max(0.25, noiseDecay * 5), toneLevel: tone, toneStartHz: toneHz * 1.3, toneEndHz: toneHz,
                   sweepTime: 0.01, toneDecay: 0.06, noiseLevel: 1, noiseHighPassHz: highPassHz, noiseLowPassHz: lowPassHz,
                   noiseDecay: noiseDecay)
    }
    static func hat(decay: Double = 0.03, highPassHz: Double = 7_000) -> DrumRecipe {
        DrumRecipe(length: max(0.06, decay * 6), noiseLevel: 1, noiseHighPassHz: highPassHz, noiseDecay: decay)
    }
    static func cymbal(decay: Double, highPassHz: Double = 4_000, bell: Float = 0.3, bellHz: Double = 620) -> DrumRecipe {
        DrumRecipe(length: decay * 4, noiseLevel: 1, noiseHighPassHz: highPassHz, noiseDecay: decay,
                   metalLevel: bell, metalBaseHz: bellHz, metalDecay: decay * 1.3)
    }
    static func brush(decay: Double = 0.09, swell: Double = 0.02) -> DrumRecipe {
        DrumRecipe(length: 0.35, noiseLevel: 1, noiseHighPassHz: 1_800, noiseLowPassHz: 7_000, noiseAttack: swell,
                   noiseDecay: decay)
    }
    static func clap(decay: Double = 0.09) -> DrumRecipe {
        DrumRecipe(length: 0.35, noiseLevel: 1, noiseHighPassHz: 900, noiseLowPassHz: 3_500, noiseDecay: decay, bursts: 4)
    }
    static func rim(toneHz: Double = 1_700) -> DrumRecipe {
        DrumRecipe(length: 0.08, toneLevel: 1, toneStartHz: toneHz, toneEndHz: toneHz, toneDecay: 0.012, noiseLevel: 0.5,
                   noiseHighPassHz: 2_000, noiseDecay: 0.01)
    }
}

/// The percussion sounds a clip may use.
enum DrumSound: Int, CaseIterable {
    case kick, snare, clap, rim, closedHat, openHat, ride, crash, brush, shaker
}

/// Scales as semitone offsets from the tonic.
enum Scale {
    static let major = [0, 2, 4, 5, 7, 9, 11]
    static let harmonicMinor = [0, 2, 3, 5, 7, 8, 11]
    static let dorian = [0, 2, 3, 5, 7, 9, 10]
    static let mixolydian = [0, 2, 4, 5, 7, 9, 10]
    static let majorPentatonic = [0, 2, 4, 7, 9]
    static let minorPentatonic = [0, 3, 5, 7, 10]
    static let blues = [0, 3, 5, 6, 7, 10]

    /// The MIDI note of scale degree `degree` (any integer; 0 is `tonic`, negative degrees go down).
    static func note(_ scale: [Int], degree: Int, tonic: Int) -> Int {
        let count = scale.count
        let octave = degree >= 0 ? degree / count : -((-degree + count - 1) / count)
        return tonic + 12 * octave + scale[degree - octave * count]
    }

    /// The triad built in thirds on scale degree `degree`, as MIDI notes.
    static func triad(_ scale: [Int], degree: Int, tonic: Int) -> [Int] {
        [0, 2, 4].map { note(scale, degree: degree + $0, tonic: tonic) }
    }
}

/// Chord qualities as semitone offsets from the root.
enum ChordShape {
    static let major = [0, 4, 7]
    static let minor = [0, 3, 7]
    static let dominant7 = [0, 4, 7, 10]
    static let major7 = [0, 4, 7, 11]
    static let minor7 = [0, 3, 7, 10]
    static let power = [0, 7, 12]
    /// Rootless jazz voicings (3rd, 5th/13th, 7th, 9th).
    static let rootlessMinor9 = [3, 7, 10, 14]
    static let rootlessDominant9 = [4, 9, 10, 14]
    static let rootlessMajor9 = [4, 7, 11, 14]
}

/// Frequency in Hz of a (fractional) MIDI note number (A4 = 69 = 440 Hz).
@inline(__always)
func frequency(midi: Double) -> Double { 440 * pow(2, (midi - 69) / 12) }
