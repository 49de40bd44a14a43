internal import CSampleRate

/// The one place where libsamplerate's error numbers become ``AudioError``s (message from `src_strerror`).
enum SampleRateStatus {
    static func check(_ code: Int32, _ function: String) throws(AudioError) {
        guard code != 0 else { return }
        let message = src_strerror(code).map { String(cString: $0) } ?? "libsamplerate error \(code)"
        throw AudioError(path: nil, function: function, message: message)
    }
}

/// libsamplerate (Secret Rabbit Code) band-limited sinc resampling, driven as python-samplerate's
/// `samplerate.resample` does for librosa's `res_type='sinc_*'`: one `src_simple` call with
/// `src_ratio = outputRate / inputRate` and room for `ceil(n * ratio)` output frames, then the result
/// trimmed or zero-padded to ``ResampledLength/count(inputCount:from:to:)``.
public struct SampleRateConverter: Resampler {
    /// libsamplerate's sinc converters.
    public enum Converter: Sendable {
        /// `SRC_SINC_BEST_QUALITY`: highest quality, slowest.
        case sincBest
        /// `SRC_SINC_MEDIUM_QUALITY`.
        case sincMedium
        /// `SRC_SINC_FASTEST`: the fastest band-limited converter.
        case sincFastest
    }

    /// The converter used.
    public let converter: Converter

    public init(converter: Converter) {
        self.converter = converter
    }

    public func resample(_ input: [Float], from inputRate: Int, to outputRate: Int) throws(AudioError) -> [Float] {
        try ResampledLength.validate(inputRate, outputRate, function: "src_simple")
        if inputRate == outputRate { return input }
        let target = ResampledLength.count(inputCount: input.count, from: inputRate, to: outputRate)
        if input.isEmpty { return [] }
        let ratio = Double(outputRate) / Double(inputRate)
        guard src_is_valid_ratio(ratio) != 0 else {
            throw AudioError(path: nil, function: "src_simple",
                             message: "conversion ratio \(ratio) (\(inputRate) Hz -> \(outputRate) Hz) is outside libsamplerate's 1/256...256")
        }
        var output = [Float](repeating: 0, count: target)
        var generated = 0
        try input.withUnsafeBufferPointer { (source) throws(AudioError) in
            try output.withUnsafeMutableBufferPointer { (sink) throws(AudioError) in
                var data = SRC_DATA()
                data.data_in = source.baseAddress
                data.input_frames = source.count
                data.data_out = sink.baseAddress
                data.output_frames = sink.count
                data.src_ratio = ratio
                data.end_of_input = 1
                try SampleRateStatus.check(src_simple(&data, converter.type, 1), "src_simple")
                generated = data.output_frames_gen
            }
        }
        // fix_length: zero-pad whatever the converter did not produce.
        for i in generated..<target { output[i] = 0 }
        return output
    }
}

extension SampleRateConverter.Converter {
    var type: Int32 {
        switch self {
        case .sincBest: CSampleRate_sinc_best()
        case .sincMedium: CSampleRate_sinc_medium()
        case .sincFastest: CSampleRate_sinc_fastest()
        }
    }
}
