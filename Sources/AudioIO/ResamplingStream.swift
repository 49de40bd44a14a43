internal import CSampleRate
internal import CSoxr

/// Sample-rate conversion of one channel that arrives in blocks, for files of any length in bounded memory: the
/// concatenated output of ``process(_:appendingTo:)`` and ``finish(appendingTo:)`` is what the kind's
/// ``Resampler/resample(_:from:to:)`` returns for the whole signal — the same library state machine, fed in other
/// block sizes (bit for bit: the tests compare them), and the same final length (``ResampledLength``: trimmed or
/// zero-padded at the end).
///
/// Single owner of its libsoxr or libsamplerate state (deleted when the stream is destroyed).
public struct ResamplingStream: ~Copyable {
    private enum Engine {
        case passThrough
        case soxr(soxr_t)
        case sampleRate(OpaquePointer, ratio: Double)
    }

    private let engine: Engine
    public let inputRate: Int
    public let outputRate: Int
    /// Input samples consumed so far.
    public private(set) var inputCount = 0
    /// Output samples delivered so far.
    public private(set) var outputCount = 0
    private var scratch: [Float] = []

    /// A stream converting `inputRate` Hz to `outputRate` Hz with `kind`'s library and settings.
    /// - Throws: ``AudioError`` when a rate is not positive or the library rejects the conversion.
    public init(kind: ResamplerKind, from inputRate: Int, to outputRate: Int) throws(AudioError) {
        try ResampledLength.validate(inputRate, outputRate, function: "ResamplingStream")
        let engine = try Self.makeEngine(kind: kind, from: inputRate, to: outputRate)
        self.engine = engine
        self.inputRate = inputRate
        self.outputRate = outputRate
    }

    private static func makeEngine(kind: ResamplerKind, from inputRate: Int, to outputRate: Int) throws(AudioError) -> Engine {
        if inputRate == outputRate { return .passThrough }
        switch kind {
        case .soxrHQ, .soxrVHQ:
            let quality: SoxrResampler.Quality = kind == .soxrHQ ? .hq : .vhq
            var error: soxr_error_t?
            var io = soxr_io_spec(CSoxr_float32_interleaved(), CSoxr_float32_interleaved())
            var recipe = soxr_quality_spec(quality.recipe, 0)
            var runtime = soxr_runtime_spec(1)
            let soxr = soxr_create(Double(inputRate), Double(outputRate), 1, &error, &io, &recipe, &runtime)
            if error != nil, let soxr { soxr_delete(soxr) }
            try SoxrStatus.check(error, "soxr_create")
            guard let soxr else { throw AudioError(path: nil, function: "soxr_create", message: "no resampler returned") }
            return .soxr(soxr)
        case .sincBest, .sincMedium, .sincFastest:
            let converter: SampleRateConverter.Converter =
                kind == .sincBest ? .sincBest : kind == .sincMedium ? .sincMedium : .sincFastest
            let ratio = Double(outputRate) / Double(inputRate)
            guard src_is_valid_ratio(ratio) != 0 else {
                throw AudioError(path: nil, function: "src_new", message:
                    "conversion ratio \(ratio) (\(inputRate) Hz -> \(outputRate) Hz) is outside libsamplerate's 1/256...256")
            }
            var code: Int32 = 0
            let state = src_new(converter.type, 1, &code)
            if code != 0, let state { _ = src_delete(state) }
            try SampleRateStatus.check(code, "src_new")
            guard let state else { throw AudioError(path: nil, function: "src_new", message: "no converter returned") }
            return .sampleRate(state, ratio: ratio)
        }
    }

    deinit {
        switch engine {
        case .passThrough: break
        case .soxr(let soxr): soxr_delete(soxr)
        case .sampleRate(let state, _): _ = src_delete(state)
        }
    }

    /// Converts the next input block and appends what the converter produced (the filter's delay holds some back
    /// until ``finish(appendingTo:)``).
    public mutating func process(_ input: UnsafeBufferPointer<Float>, appendingTo output: inout [Float]) throws(AudioError) {
        inputCount += input.count
        try run(input, endOfInput: false, appendingTo: &output)
    }

    /// Ends the input: appends the converter's remaining output, cut or zero-padded so that the whole output holds
    /// ``ResampledLength/count(inputCount:from:to:)`` samples.
    public mutating func finish(appendingTo output: inout [Float]) throws(AudioError) {
        let target = ResampledLength.count(inputCount: inputCount, from: inputRate, to: outputRate)
        let start = output.count
        if inputCount > 0 { try run(UnsafeBufferPointer(start: nil, count: 0), endOfInput: true, appendingTo: &output) }
        outputCount -= output.count - start
        guard outputCount <= target else {
            // Before the end of the input the filter's delay keeps the output below the final length.
            throw AudioError(path: nil, function: "ResamplingStream", message:
                "produced \(outputCount) samples before the end of the input, more than the \(target) of the whole signal")
        }
        let keep = min(output.count - start, target - outputCount)
        output.removeSubrange((start + keep)...)
        output.append(contentsOf: repeatElement(0, count: target - outputCount - keep))
        outputCount = target
    }

    private mutating func run(_ input: UnsafeBufferPointer<Float>, endOfInput: Bool, appendingTo output: inout [Float]) throws(AudioError) {
        let before = output.count
        defer { outputCount += output.count - before }
        switch engine {
        case .passThrough:
            output.append(contentsOf: input)
        case .soxr(let soxr):
            // Room for the block's share of output plus the filter's flush; loop while the output fills.
            let room = Int(Double(input.count) * Double(outputRate) / Double(inputRate)) + 4096
            if scratch.count < room { scratch = [Float](repeating: 0, count: room) }
            var consumed = 0
            while true {
                var used = 0, done = 0
                let step: soxr_error_t? = scratch.withUnsafeMutableBufferPointer { sink in
                    if endOfInput {
                        return soxr_process(soxr, nil, 0, nil, sink.baseAddress, sink.count, &done)
                    }
                    return soxr_process(soxr, input.baseAddress.map { $0 + consumed }, input.count - consumed, &used,
                                        sink.baseAddress, sink.count, &done)
                }
                try SoxrStatus.check(step, "soxr_process")
                output.append(contentsOf: scratch[0..<done])
                consumed += used
                if endOfInput ? done == 0 : (consumed >= input.count && done < scratch.count) { break }
            }
        case .sampleRate(let state, let ratio):
            let room = Int(Double(input.count) * ratio) + 4096
            if scratch.count < room { scratch = [Float](repeating: 0, count: room) }
            // libsamplerate produces nothing from a NULL input, even at the end of the input: give it an empty one.
            let empty = UnsafeMutablePointer<Float>.allocate(capacity: 1)
            defer { empty.deallocate() }
            var consumed = 0
            while true {
                var data = SRC_DATA()
                let code: Int32 = scratch.withUnsafeMutableBufferPointer { sink in
                    data.data_in = input.baseAddress.map { UnsafePointer($0 + consumed) } ?? UnsafePointer(empty)
                    data.input_frames = input.count - consumed
                    data.data_out = sink.baseAddress
                    data.output_frames = sink.count
                    data.src_ratio = ratio
                    data.end_of_input = endOfInput ? 1 : 0
                    return src_process(state, &data)
                }
                try SampleRateStatus.check(code, "src_process")
                output.append(contentsOf: scratch[0..<data.output_frames_gen])
                consumed += data.input_frames_used
                if consumed >= input.count && (endOfInput ? data.output_frames_gen == 0 : data.output_frames_gen < scratch.count) {
                    break
                }
            }
        }
    }
}
