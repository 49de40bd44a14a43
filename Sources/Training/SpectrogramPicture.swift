/// Colour maps for pictures of spectrograms: 256 colours from low to high values.
public enum ColorMap: String, Sendable, CaseIterable, Codable {
    /// Black → purple → orange → pale yellow (matplotlib's magma; librosa's default for dB spectrograms).
    case magma
    /// Dark blue → green → yellow (matplotlib's viridis).
    case viridis

    /// Colours at 0, 1/8, ..., 1 of the range (sampled from matplotlib); linearly interpolated in between.
    private var anchors: [RGB] {
        switch self {
        case .magma:
            [RGB(0, 0, 4), RGB(28, 16, 68), RGB(79, 18, 123), RGB(129, 37, 129), RGB(181, 54, 122),
             RGB(229, 80, 100), RGB(251, 135, 97), RGB(254, 194, 135), RGB(252, 253, 191)]
        case .viridis:
            [RGB(68, 1, 84), RGB(71, 44, 122), RGB(59, 81, 139), RGB(44, 113, 142), RGB(33, 144, 141),
             RGB(39, 173, 129), RGB(92, 200, 99), RGB(170, 220, 50), RGB(253, 231, 37)]
        }
    }

    /// 256 colours, index 0 for the lowest value.
    public var palette: [RGB] {
        let anchors = self.anchors
        let segments = Double(anchors.count - 1)
        return (0..<256).map { i in
            let position = Double(i) / 255 * segments
            let k = min(Int(position), anchors.count - 2)
            let t = position - Double(k)
            func mix(_ a: UInt8, _ b: UInt8) -> UInt8 { UInt8((Double(a) * (1 - t) + Double(b) * t).rounded()) }
            return RGB(mix(anchors[k].red, anchors[k + 1].red), mix(anchors[k].green, anchors[k + 1].green),
                       mix(anchors[k].blue, anchors[k + 1].blue))
        }
    }
}

/// Pictures of `[n_mels, frames]` spectrograms.
public enum SpectrogramPicture {
    /// A PNG of `values` (`[nMels, frames]` row-major, dB or normalised): time left to right, the lowest mel band at
    /// the bottom. Columns are averaged down to at most `maxWidth` pixels; values are mapped linearly from `range`
    /// (default: the values' own minimum and maximum) to the colour map, clamped. A palette PNG of
    /// `min(frames, maxWidth)` x `nMels` pixels.
    public static func png(
        values: [Float], nMels: Int, frames: Int, range: ClosedRange<Float>? = nil, maxWidth: Int = 512,
        colorMap: ColorMap = .magma
    ) -> [UInt8] {
        precondition(nMels > 0 && frames > 0 && values.count == nMels * frames,
                     "\(values.count) values for a [\(nMels), \(frames)] spectrogram")
        let width = min(frames, max(1, maxWidth))
        let finite = values.filter(\.isFinite)
        let low = range?.lowerBound ?? finite.min() ?? 0
        let high = range?.upperBound ?? finite.max() ?? 1
        let scale = high > low ? 255 / (high - low) : 0
        var indices = [UInt8](repeating: 0, count: width * nMels)
        for x in 0..<width {
            // Frames [first, last) fall on pixel column x.
            let first = x * frames / width, last = max(first + 1, (x + 1) * frames / width)
            for band in 0..<nMels {
                var sum: Float = 0
                var n = 0
                for t in first..<last where values[band * frames + t].isFinite {
                    sum += values[band * frames + t]
                    n += 1
                }
                let value = n > 0 ? sum / Float(n) : low
                let level = ((value - low) * scale).rounded()
                let y = nMels - 1 - band
                indices[y * width + x] = UInt8(min(255, max(0, level.isFinite ? level : 0)))
            }
        }
        return PNGEncoder.indexed(width: width, height: nMels, indices: indices, palette: colorMap.palette)
    }

    /// Normalised features back to dB: `value * std[band] + mean[band]`, `[nMels, frames]` row-major.
    public static func decibels(normalised values: [Float], mean: [Float], std: [Float], frames: Int) -> [Float] {
        precondition(mean.count == std.count && values.count == mean.count * frames)
        var db = values
        for band in 0..<mean.count {
            for t in 0..<frames { db[band * frames + t] = values[band * frames + t] * std[band] + mean[band] }
        }
        return db
    }
}
