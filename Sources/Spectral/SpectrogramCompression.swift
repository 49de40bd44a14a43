/// How a log-mel spectrogram turns mel powers (squared amplitude, summed by the filterbank) into features: the last
/// step of ``LogMelSpectrogram/compute(_:into:)``.
///
/// - ``decibels(refPower:amin:topDB:)``: librosa's `power_to_db` (the default, GenreKit's historical features).
/// - ``log1p(scale:)``: `log10(1 + scale * S)` per cell, the compression of musicnn (Pons & Serra 2019,
///   `np.log10(10000 * S + 1)`). No floor and no per-clip clamp: silence is exactly 0, every cell is >= 0.
public enum SpectrogramCompression: Sendable, Hashable, Codable {
    /// `10 * log10(max(S, amin)) - 10 * log10(max(amin, |refPower|))` dB, then (when `topDB` is given) every cell
    /// raised to at least the clip's maximum minus `topDB` (see ``Decibels/powerToDB(_:amin:refPower:topDB:)``).
    /// `refPower` and `amin` in power units (`amin` a positive normal float), `topDB` in dB (>= 0, `nil` = no clamp).
    case decibels(refPower: Float = 1.0, amin: Float = 1e-10, topDB: Float? = 80)
    /// `log10(1 + scale * S)` per cell (dimensionless, >= 0); `scale` is finite and > 0 (musicnn: 10000).
    case log1p(scale: Float = 10000)

    /// librosa 0.11's `power_to_db` defaults: `ref = 1`, `amin = 1e-10`, `top_db = 80`.
    public static let librosaDecibels = SpectrogramCompression.decibels()

    /// Checks the parameters; throws a ``SpectralError`` (function `"LogMelParameters"`) naming the first bad one.
    public func validate() throws(SpectralError) {
        func fail(_ message: String) -> SpectralError {
            SpectralError(function: "LogMelParameters", message: message)
        }
        switch self {
        case .decibels(let refPower, let amin, let topDB):
            guard amin.isFinite, amin >= Float.leastNormalMagnitude else {
                throw fail("amin must be a positive normal float (got \(amin))")
            }
            guard refPower.isFinite else { throw fail("refPower must be finite (got \(refPower))") }
            if let topDB, !(topDB.isFinite && topDB >= 0) {
                throw fail("topDB must be finite and >= 0 dB, or nil (got \(topDB))")
            }
        case .log1p(let scale):
            guard scale.isFinite, scale > 0 else { throw fail("log1p scale must be finite and > 0 (got \(scale))") }
        }
    }

    /// Compresses `count` mel powers in place (any layout: the top-dB clamp of `decibels` is taken over all of them).
    @inline(__always)
    func apply(_ values: UnsafeMutablePointer<Float>, count: Int) {
        let maximum = compressUnclamped(values, count: count)
        clamp(values, count: count, maximum: maximum)
    }

    /// Whether the compression of a cell depends on the whole spectrogram (`decibels` with a `topDB` clamp, whose
    /// floor is the maximum over all cells): a streaming extractor must then know the maximum before it clamps.
    public var needsWholeSpectrogramMaximum: Bool {
        if case .decibels(_, _, .some) = self { true } else { false }
    }

    /// The per-cell part of the compression, in place (dB without the top-dB clamp, or `log10(1 + scale * S)`);
    /// returns, for `decibels`, the largest result: the `maximum` that ``clamp(_:maximum:)`` takes (`-infinity` for
    /// `log1p`, which has no clamp). Splitting ``apply`` in two lets
    /// a long signal be compressed block by block with the same result as all at once (the maximum of the blocks'
    /// maxima is the whole spectrogram's; every operation is per cell).
    public func compressUnclamped(_ values: UnsafeMutableBufferPointer<Float>) -> Float {
        guard let base = values.baseAddress, values.count > 0 else { return -.infinity }
        return compressUnclamped(base, count: values.count)
    }

    /// The top-dB clamp (`decibels` with a `topDB`): raises every value to at least `maximum - topDB`, where
    /// `maximum` is the largest ``compressUnclamped(_:)`` result over the whole spectrogram. Nothing otherwise.
    public func clamp(_ values: UnsafeMutableBufferPointer<Float>, maximum: Float) {
        guard let base = values.baseAddress, values.count > 0 else { return }
        clamp(base, count: values.count, maximum: maximum)
    }

    @inline(__always)
    func compressUnclamped(_ values: UnsafeMutablePointer<Float>, count: Int) -> Float {
        switch self {
        case .decibels(let refPower, let amin, _):
            return Decibels.convertInPlace(
                values, count: count, amin: amin, offsetDB: Decibels.referenceDB(amin: amin, refPower: refPower))
        case .log1p(let scale):
            LogCompression.log10OnePlusInPlace(values, count: count, scale: scale)
            return -.infinity  // not needed: no clamp
        }
    }

    @inline(__always)
    func clamp(_ values: UnsafeMutablePointer<Float>, count: Int, maximum: Float) {
        if case .decibels(_, _, .some(let topDB)) = self {
            Decibels.clampBelow(values, count: count, floor: maximum - topDB)
        }
    }
}

/// `log10(1 + scale * S)`, musicnn's compression of mel powers.
public enum LogCompression {
    /// Converts powers to `log10(1 + scale * S)` in place, as `np.log10(1 + scale * S)`. Powers are >= 0 (the
    /// result is then >= 0, and exactly 0 for silence); an infinite power (or one whose product with `scale`
    /// overflows) gives infinity, a NaN or negative power NaN, so that callers that check for non-finite features
    /// still see it. Accuracy: float rounding of `1 + scale * S` and of the logarithm, a few 1e-7 absolute.
    ///
    /// - Parameters:
    ///   - values: powers in, compressed values out (any layout).
    ///   - scale: the gain applied before the logarithm, finite and > 0 (musicnn: 10000).
    public static func log10OnePlus(_ values: UnsafeMutableBufferPointer<Float>, scale: Float) {
        precondition(scale.isFinite && scale > 0, "log10OnePlus: scale must be finite and > 0 (got \(scale))")
        guard let base = values.baseAddress, values.count > 0 else { return }
        log10OnePlusInPlace(base, count: values.count, scale: scale)
    }

    /// `x = log10(1 + scale * x)` over `count` floats, 4 at a time.
    @inline(__always)
    static func log10OnePlusInPlace(_ x: UnsafeMutablePointer<Float>, count: Int, scale: Float) {
        let gain = SIMD4<Float>(repeating: scale), one = SIMD4<Float>(repeating: 1)
        var cursor = UnsafeMutableRawPointer(x)
        var i = 0
        while i + 4 <= count {
            let v = cursor.loadUnaligned(as: SIMD4<Float>.self)
            cursor.storeBytes(of: log10OnePlusScaled(v, gain: gain, one: one), as: SIMD4<Float>.self)
            cursor += 16
            i &+= 4
        }
        if i < count {
            var tail = SIMD4<Float>(repeating: 0)
            for lane in 0..<(count - i) { tail[lane] = x[i + lane] }
            let out = log10OnePlusScaled(tail, gain: gain, one: one)
            for lane in 0..<(count - i) { x[i + lane] = out[lane] }
        }
    }

    /// `log10(1 + gain * v)` for 4 powers. `1 + gain * v` is a float in `[1, infinity)` for finite powers >= 0;
    /// outside that range (a NaN or negative power) the result is NaN, and an infinite argument gives infinity.
    @inline(__always)
    static func log10OnePlusScaled(_ v: SIMD4<Float>, gain: SIMD4<Float>, one: SIMD4<Float>) -> SIMD4<Float> {
        let infinity = SIMD4<Float>(repeating: .infinity)
        var argument = one + gain * v
        let usable = (argument .>= one) .& (argument .< infinity)
        let overflow = argument .== infinity
        argument.replace(with: one, where: .!usable)
        var out = Decibels.log10(argument)
        out.replace(with: SIMD4<Float>(repeating: .nan), where: .!usable)
        out.replace(with: infinity, where: overflow)
        return out
    }
}
