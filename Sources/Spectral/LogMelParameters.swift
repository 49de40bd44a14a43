/// The mel scale used to place the filterbank's band edges.
public enum MelScale: String, Sendable, Hashable, Codable, CaseIterable {
    /// Slaney's Auditory Toolbox scale (librosa `htk=False`, the default): linear below 1 kHz, logarithmic above.
    case slaney
    /// The HTK formula `2595 * log10(1 + f / 700)` (librosa `htk=True`).
    case htk
}

/// How each mel filter's weights are normalised.
public enum MelNorm: String, Sendable, Hashable, Codable, CaseIterable {
    /// Slaney-style area normalisation (librosa `norm='slaney'`, the default): each triangle is scaled by
    /// `2 / (f_upper - f_lower)` (Hz) so that the filters have roughly constant energy per band.
    case slaney
    /// No normalisation (librosa `norm=None`): triangles peak at 1.
    case none
}

/// STFT, mel filterbank and compression parameters in one value, with librosa 0.11's defaults.
///
/// Units: `sampleRate`, `fMin`, `fMax` in Hz; `nFFT`, `hopLength` in samples; the compression's parameters as
/// ``SpectrogramCompression`` says. The window is always a periodic Hann of length `nFFT`, the spectrum is the
/// power spectrum `|X|^2`, and with `center == true` the signal is padded with `nFFT / 2` zeros on both sides
/// (librosa's `pad_mode='constant'`).
public struct LogMelParameters: Sendable, Hashable, Codable {
    /// Sample rate of the input signal, Hz.
    public var sampleRate: Int = 22050
    /// FFT length and window length, samples.
    public var nFFT: Int = 2048
    /// Distance between frame starts, samples.
    public var hopLength: Int = 512
    /// Number of mel bands.
    public var nMels: Int = 128
    /// Lowest filter edge, Hz.
    public var fMin: Double = 0
    /// Highest filter edge, Hz; `nil` means `sampleRate / 2`.
    public var fMax: Double? = nil
    /// Centre frames on `t * hopLength` by zero-padding `nFFT / 2` samples on both sides.
    public var center: Bool = true
    /// Mel scale of the filter edges.
    public var melScale: MelScale = .slaney
    /// Normalisation of the filters.
    public var melNorm: MelNorm = .slaney
    /// How mel powers become features: decibels (librosa's `power_to_db`, the default) or `log10(1 + scale S)`.
    public var compression: SpectrogramCompression = .librosaDecibels

    /// Makes parameters; every argument defaults to librosa 0.11's value (`compression`: `power_to_db` with
    /// `ref = 1`, `amin = 1e-10`, `top_db = 80`).
    public init(
        sampleRate: Int = 22050, nFFT: Int = 2048, hopLength: Int = 512, nMels: Int = 128,
        fMin: Double = 0, fMax: Double? = nil, center: Bool = true,
        melScale: MelScale = .slaney, melNorm: MelNorm = .slaney,
        compression: SpectrogramCompression = .librosaDecibels
    ) {
        self.sampleRate = sampleRate
        self.nFFT = nFFT
        self.hopLength = hopLength
        self.nMels = nMels
        self.fMin = fMin
        self.fMax = fMax
        self.center = center
        self.melScale = melScale
        self.melNorm = melNorm
        self.compression = compression
    }

    /// Number of frequency bins of the one-sided spectrum, `nFFT / 2 + 1`.
    public var nBins: Int { nFFT / 2 + 1 }

    /// The highest filter edge actually used, Hz (`fMax`, or `sampleRate / 2` when `fMax` is `nil`).
    public var effectiveFMax: Double { fMax ?? Double(sampleRate) / 2 }

    /// Number of STFT frames for a signal of `n` samples, librosa's rule:
    /// - `center == true`: the signal is padded to `n + 2 * (nFFT / 2)` samples, giving
    ///   `1 + (n + 2 * (nFFT / 2) - nFFT) / hopLength` frames (`1 + n / hopLength` for even `nFFT`). A zero-length
    ///   signal therefore still gives one (silent) frame, as librosa does.
    /// - `center == false`: `1 + (n - nFFT) / hopLength` frames, and 0 when `n < nFFT` (librosa raises there).
    public func frameCount(forSamples n: Int) -> Int {
        precondition(n >= 0, "frameCount: negative sample count \(n)")
        let padded = center ? n + 2 * (nFFT / 2) : n
        guard padded >= nFFT, hopLength > 0 else { return 0 }
        return 1 + (padded - nFFT) / hopLength
    }

    /// Checks that the parameters describe a computable log-mel spectrogram; throws a ``SpectralError`` naming the
    /// first offending field otherwise. Extractors and filterbanks stop with the same message on invalid
    /// parameters, so call this first on configuration that comes from users.
    public func validate() throws(SpectralError) {
        func fail(_ message: String) -> SpectralError {
            SpectralError(function: "LogMelParameters", message: message)
        }
        guard sampleRate > 0 else { throw fail("sampleRate must be positive (got \(sampleRate) Hz)") }
        guard nFFT >= 2 else { throw fail("nFFT must be at least 2 (got \(nFFT))") }
        guard hopLength > 0 else { throw fail("hopLength must be positive (got \(hopLength))") }
        guard nMels > 0 else { throw fail("nMels must be positive (got \(nMels))") }
        guard fMin.isFinite, fMin >= 0 else { throw fail("fMin must be finite and >= 0 Hz (got \(fMin))") }
        let top = effectiveFMax
        guard top.isFinite, top > fMin else {
            throw fail("fMax must be finite and above fMin (got fMax \(top) Hz, fMin \(fMin) Hz)")
        }
        try compression.validate()
    }

    /// `validate()` for the non-throwing initialisers.
    func requireValid() {
        do { try validate() } catch { preconditionFailure("Spectral: \(error)") }
    }
}
