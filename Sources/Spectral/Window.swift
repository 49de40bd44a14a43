import Foundation

/// Analysis windows.
public enum Window {
    /// The Hann window of `length` samples, computed in Double and stored as Float.
    ///
    /// `periodic == true` (the default, what librosa's STFT uses: scipy `get_window('hann', n, fftbins=True)`):
    /// `w[k] = 0.5 - 0.5 * cos(2 pi k / length)`. `periodic == false` is the symmetric window:
    /// `w[k] = 0.5 - 0.5 * cos(2 pi k / (length - 1))`. A length of 1 gives `[1]`, 0 gives `[]`.
    public static func hann(length: Int, periodic: Bool = true) -> [Float] {
        precondition(length >= 0, "Window.hann: negative length \(length)")
        if length <= 1 { return Array(repeating: 1, count: length) }
        let denominator = Double(periodic ? length : length - 1)
        return (0..<length).map { k in Float(0.5 - 0.5 * cos(2.0 * Double.pi * Double(k) / denominator)) }
    }
}
