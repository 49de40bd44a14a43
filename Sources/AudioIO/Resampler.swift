/// Sample-rate conversion of a mono signal.
///
/// Every conformer returns exactly ``ResampledLength/count(inputCount:from:to:)`` samples, the length
/// `librosa.resample` fixes its output to (`ceil(n * outputRate / inputRate)`, trimming or zero-padding
/// the converter's output), and returns the input unchanged when the two rates are equal.
/// Resamplers are plain values: safe to share between tasks, each call owns its C state.
public protocol Resampler: Sendable {
    /// Resamples `input` (one channel, at `inputRate` Hz) to `outputRate` Hz.
    /// - Throws: ``AudioError`` when a rate is not positive or the library rejects the conversion.
    func resample(_ input: [Float], from inputRate: Int, to outputRate: Int) throws(AudioError) -> [Float]
}

/// Which resampler to use. Raw values are the names configuration files use.
public enum ResamplerKind: String, Sendable, Codable, CaseIterable {
    /// libsoxr "HQ" (20-bit) — what librosa 0.11 uses by default (`res_type='soxr_hq'`); bit-compatible with it.
    case soxrHQ = "soxr-hq"
    /// libsoxr "VHQ" (28-bit) — librosa's `res_type='soxr_vhq'`.
    case soxrVHQ = "soxr-vhq"
    /// libsamplerate `SRC_SINC_BEST_QUALITY` — librosa's `res_type='sinc_best'`.
    case sincBest = "sinc-best"
    /// libsamplerate `SRC_SINC_MEDIUM_QUALITY` — librosa's `res_type='sinc_medium'`.
    case sincMedium = "sinc-medium"
    /// libsamplerate `SRC_SINC_FASTEST` — librosa's `res_type='sinc_fastest'`.
    case sincFastest = "sinc-fastest"

    /// A resampler of this kind.
    public func makeResampler() -> any Resampler {
        switch self {
        case .soxrHQ: SoxrResampler(quality: .hq)
        case .soxrVHQ: SoxrResampler(quality: .vhq)
        case .sincBest: SampleRateConverter(converter: .sincBest)
        case .sincMedium: SampleRateConverter(converter: .sincMedium)
        case .sincFastest: SampleRateConverter(converter: .sincFastest)
        }
    }
}

/// The output length contract shared by all resamplers.
public enum ResampledLength {
    /// `ceil(inputCount * outputRate / inputRate)`, computed as librosa does
    /// (`int(np.ceil(n * (float(target_sr) / orig_sr)))` in double precision), so lengths agree with
    /// librosa even where the double product rounds just above an integer.
    public static func count(inputCount: Int, from inputRate: Int, to outputRate: Int) -> Int {
        let ratio = Double(outputRate) / Double(inputRate)
        return Int((Double(inputCount) * ratio).rounded(.up))
    }

    /// Throws unless both rates are positive.
    static func validate(_ inputRate: Int, _ outputRate: Int, function: String) throws(AudioError) {
        guard inputRate > 0, outputRate > 0 else {
            throw AudioError(path: nil, function: function,
                             message: "sample rates must be positive, got \(inputRate) Hz -> \(outputRate) Hz")
        }
    }
}
