internal import CSoxr

/// The one place where libsoxr's results become ``AudioError``s: libsoxr reports failure as a non-NULL
/// message string (`soxr_error_t`).
enum SoxrStatus {
    static func check(_ error: soxr_error_t?, _ function: String) throws(AudioError) {
        guard let error else { return }
        throw AudioError(path: nil, function: function, message: String(cString: error))
    }
}

/// libsoxr resampling, driven exactly as python-soxr 1.x's `soxr.resample` drives it for a 1-D float32
/// array (and therefore as `librosa.resample(..., res_type='soxr_hq')` does): one `soxr_create` per call
/// with float32 I/O, `soxr_quality_spec(quality, 0)` and one thread; the input fed in blocks of
/// `max(1000, 48000 * inputRate / outputRate)` samples into an output buffer of
/// `n * outputRate / inputRate + 1` samples; one flush (`soxr_process` with NULL input); then the result
/// trimmed or zero-padded to ``ResampledLength/count(inputCount:from:to:)`` like librosa's `fix_length`.
public struct SoxrResampler: Resampler {
    /// libsoxr quality recipe.
    public enum Quality: Sendable {
        /// `SOXR_HQ`: 20-bit precision, float32 engine (librosa's default).
        case hq
        /// `SOXR_VHQ`: 28-bit precision, float64 engine.
        case vhq
    }

    /// The quality recipe used.
    public let quality: Quality

    public init(quality: Quality = .hq) {
        self.quality = quality
    }

    public func resample(_ input: [Float], from inputRate: Int, to outputRate: Int) throws(AudioError) -> [Float] {
        try ResampledLength.validate(inputRate, outputRate, function: "soxr_create")
        if inputRate == outputRate { return input }
        let target = ResampledLength.count(inputCount: input.count, from: inputRate, to: outputRate)
        if input.isEmpty { return [] }

        let inRate = Double(inputRate), outRate = Double(outputRate)
        // python-soxr: `olen = ilen * out_rate / in_rate + 1` and `div_len = max(1000., 48000 * in / out)`,
        // both truncated to size_t.
        let bufferLength = Int(Double(input.count) * outRate / inRate + 1)
        let blockLength = Int(max(1000.0, 48000 * inRate / outRate))

        var error: soxr_error_t?
        var io = soxr_io_spec(CSoxr_float32_interleaved(), CSoxr_float32_interleaved())
        var recipe = soxr_quality_spec(quality.recipe, 0)
        var runtime = soxr_runtime_spec(1)
        let soxr = soxr_create(inRate, outRate, 1, &error, &io, &recipe, &runtime)
        defer { if let soxr { soxr_delete(soxr) } }
        try SoxrStatus.check(error, "soxr_create")

        var output = [Float](repeating: 0, count: max(bufferLength, target))
        var produced = 0
        try input.withUnsafeBufferPointer { (source) throws(AudioError) in
            try output.withUnsafeMutableBufferPointer { (sink) throws(AudioError) in
                let inBase = source.baseAddress!, outBase = sink.baseAddress!
                var done = 0
                var start = 0
                while start < source.count {
                    let length = min(blockLength, source.count - start)
                    try SoxrStatus.check(
                        soxr_process(soxr, inBase + start, length, nil, outBase + produced, bufferLength - produced, &done),
                        "soxr_process")
                    produced += done
                    start += blockLength
                }
                // End of input: flush the filter's tail.
                try SoxrStatus.check(
                    soxr_process(soxr, nil, 0, nil, outBase + produced, bufferLength - produced, &done),
                    "soxr_process")
                produced += done
                // fix_length pads with zeros: clear anything past what soxr produced.
                for i in produced..<sink.count { sink[i] = 0 }
            }
        }
        output.removeSubrange(target...)
        return output
    }
}

extension SoxrResampler.Quality {
    var recipe: UInt {
        switch self {
        case .hq: UInt(CSoxr_quality_hq())
        case .vhq: UInt(CSoxr_quality_vhq())
        }
    }
}
