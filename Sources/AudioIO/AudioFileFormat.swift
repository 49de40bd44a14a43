internal import CSndFile

/// A container + sample encoding to write a sound file in (tests, the synthetic corpus).
public enum AudioFileFormat: Sendable, CaseIterable {
    /// RIFF WAV, 16-bit signed PCM.
    case wavPCM16
    /// RIFF WAV, 24-bit signed PCM.
    case wavPCM24
    /// RIFF WAV, 32-bit IEEE float.
    case wavFloat
    /// Sun/NeXT AU, 16-bit big-endian PCM (the GTZAN clip format).
    case auPCM16
    /// AIFF, 16-bit big-endian PCM.
    case aiffPCM16
    /// FLAC (lossless), 16-bit.
    case flacPCM16
    /// Ogg container, Vorbis (lossy) encoding at libsndfile's default quality.
    case oggVorbis

    /// The usual file name extension, without the dot ("wav", "au", "aiff", "flac", "ogg").
    public var fileExtension: String {
        switch self {
        case .wavPCM16, .wavPCM24, .wavFloat: "wav"
        case .auPCM16: "au"
        case .aiffPCM16: "aiff"
        case .flacPCM16: "flac"
        case .oggVorbis: "ogg"
        }
    }

    /// The ``AudioInfo/container`` name a file written in this format reads back with.
    public var container: String { SndFileFormatNames.container(sndfileFormat) }

    /// The ``AudioInfo/encoding`` name a file written in this format reads back with.
    public var encoding: String { SndFileFormatNames.encoding(sndfileFormat) }

    /// Whether decoding returns the written samples up to quantisation (false for lossy Vorbis).
    public var isLossless: Bool { self != .oggVorbis }

    /// The libsndfile `SF_FORMAT_*` major | subtype code.
    var sndfileFormat: Int32 {
        switch self {
        case .wavPCM16: Int32(SF_FORMAT_WAV | SF_FORMAT_PCM_16)
        case .wavPCM24: Int32(SF_FORMAT_WAV | SF_FORMAT_PCM_24)
        case .wavFloat: Int32(SF_FORMAT_WAV | SF_FORMAT_FLOAT)
        case .auPCM16: Int32(SF_FORMAT_AU | SF_FORMAT_PCM_16)
        case .aiffPCM16: Int32(SF_FORMAT_AIFF | SF_FORMAT_PCM_16)
        case .flacPCM16: Int32(SF_FORMAT_FLAC | SF_FORMAT_PCM_16)
        case .oggVorbis: Int32(SF_FORMAT_OGG | SF_FORMAT_VORBIS)
        }
    }
}

/// Short names for libsndfile's major formats and subtypes (the names python-soundfile uses,
/// except "MPEG" for the MPEG-1/2 audio container).
enum SndFileFormatNames {
    static func container(_ format: Int32) -> String {
        let major = Int(format) & SF_FORMAT_TYPEMASK
        return majorNames[major] ?? String(format: major)
    }

    static func encoding(_ format: Int32) -> String {
        let subtype = Int(format) & SF_FORMAT_SUBMASK
        return subtypeNames[subtype] ?? String(format: subtype)
    }

    private static let majorNames: [Int: String] = [
        SF_FORMAT_WAV: "WAV", SF_FORMAT_AIFF: "AIFF", SF_FORMAT_AU: "AU", SF_FORMAT_RAW: "RAW",
        SF_FORMAT_PAF: "PAF", SF_FORMAT_SVX: "SVX", SF_FORMAT_NIST: "NIST", SF_FORMAT_VOC: "VOC",
        SF_FORMAT_IRCAM: "IRCAM", SF_FORMAT_W64: "W64", SF_FORMAT_MAT4: "MAT4", SF_FORMAT_MAT5: "MAT5",
        SF_FORMAT_PVF: "PVF", SF_FORMAT_XI: "XI", SF_FORMAT_HTK: "HTK", SF_FORMAT_SDS: "SDS",
        SF_FORMAT_AVR: "AVR", SF_FORMAT_WAVEX: "WAVEX", SF_FORMAT_SD2: "SD2", SF_FORMAT_FLAC: "FLAC",
        SF_FORMAT_CAF: "CAF", SF_FORMAT_WVE: "WVE", SF_FORMAT_OGG: "OGG", SF_FORMAT_MPC2K: "MPC2K",
        SF_FORMAT_RF64: "RF64", SF_FORMAT_MPEG: "MPEG",
    ]

    private static let subtypeNames: [Int: String] = [
        SF_FORMAT_PCM_S8: "PCM_S8", SF_FORMAT_PCM_16: "PCM_16", SF_FORMAT_PCM_24: "PCM_24",
        SF_FORMAT_PCM_32: "PCM_32", SF_FORMAT_PCM_U8: "PCM_U8", SF_FORMAT_FLOAT: "FLOAT",
        SF_FORMAT_DOUBLE: "DOUBLE", SF_FORMAT_ULAW: "ULAW", SF_FORMAT_ALAW: "ALAW",
        SF_FORMAT_IMA_ADPCM: "IMA_ADPCM", SF_FORMAT_MS_ADPCM: "MS_ADPCM", SF_FORMAT_GSM610: "GSM610",
        SF_FORMAT_VOX_ADPCM: "VOX_ADPCM", SF_FORMAT_NMS_ADPCM_16: "NMS_ADPCM_16",
        SF_FORMAT_NMS_ADPCM_24: "NMS_ADPCM_24", SF_FORMAT_NMS_ADPCM_32: "NMS_ADPCM_32",
        SF_FORMAT_G721_32: "G721_32", SF_FORMAT_G723_24: "G723_24", SF_FORMAT_G723_40: "G723_40",
        SF_FORMAT_DWVW_12: "DWVW_12", SF_FORMAT_DWVW_16: "DWVW_16", SF_FORMAT_DWVW_24: "DWVW_24",
        SF_FORMAT_DWVW_N: "DWVW_N", SF_FORMAT_DPCM_8: "DPCM_8", SF_FORMAT_DPCM_16: "DPCM_16",
        SF_FORMAT_VORBIS: "VORBIS", SF_FORMAT_OPUS: "OPUS", SF_FORMAT_ALAC_16: "ALAC_16",
        SF_FORMAT_ALAC_20: "ALAC_20", SF_FORMAT_ALAC_24: "ALAC_24", SF_FORMAT_ALAC_32: "ALAC_32",
        SF_FORMAT_MPEG_LAYER_I: "MPEG_LAYER_I", SF_FORMAT_MPEG_LAYER_II: "MPEG_LAYER_II",
        SF_FORMAT_MPEG_LAYER_III: "MPEG_LAYER_III",
    ]
}

extension String {
    /// "0x…" for a format code libsndfile knows and this table does not.
    fileprivate init(format code: Int) {
        self = "0x" + String(code, radix: 16, uppercase: true)
    }
}
