/// Maximum over each channel's plane: `[C, H, W]` -> `[C]` (PyTorch `AdaptiveMaxPool2d(1)` + flatten). The
/// forward records the position of each plane's maximum (the first one in row-major order on ties; a NaN wins, as
/// in ``MaxPool2D``); backward puts the output gradient there and zero elsewhere.
final class GlobalMaxPool: Layer {
    let inputShape: [Int]
    let outputShape: [Int]
    private let channels: Int, plane: Int
    /// Index of each (sample, channel) maximum inside its plane, `[N, C]`.
    private let argmax = Buffer<Int32>()

    init(inputShape: [Int]) {
        self.inputShape = inputShape
        channels = inputShape[0]
        plane = inputShape.dropFirst().reduce(1, *)
        outputShape = [channels]
    }

    func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int, training: Bool, workers: Workers) {
        let indices = argmax.reserve(batch * channels)
        for i in 0..<(batch * channels) {
            let (best, value) = GlobalPooling.maximum(input + i * plane, count: plane)
            output[i] = value
            indices[i] = best
        }
    }

    func backward(
        input: UnsafePointer<Float>, output: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
        gradInput: UnsafeMutablePointer<Float>?, batch: Int, workers: Workers
    ) {
        guard let gradInput else { return }
        let indices = argmax.pointer
        for i in 0..<(batch * channels) {
            let dx = gradInput + i * plane
            dx.update(repeating: 0, count: plane)
            dx[Int(indices[i])] = gradOutput[i]
        }
    }
}

/// Mean and maximum over each channel's plane, concatenated per sample: `[C, H, W]` -> `[2C]`, the C means
/// (as ``GlobalAveragePool``) then the C maxima (as ``GlobalMaxPool``). Backward adds both parts: `dy_mean / (H·W)`
/// everywhere in the plane, plus `dy_max` at the plane's maximum.
final class GlobalAverageMaxPool: Layer {
    let inputShape: [Int]
    let outputShape: [Int]
    private let channels: Int, plane: Int
    /// Index of each (sample, channel) maximum inside its plane, `[N, C]`.
    private let argmax = Buffer<Int32>()

    init(inputShape: [Int]) {
        self.inputShape = inputShape
        channels = inputShape[0]
        plane = inputShape.dropFirst().reduce(1, *)
        outputShape = [2 * channels]
    }

    func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int, training: Bool, workers: Workers) {
        let indices = argmax.reserve(batch * channels)
        let scale = 1 / Double(plane)
        for n in 0..<batch {
            for c in 0..<channels {
                let x = input + (n * channels + c) * plane
                output[n * 2 * channels + c] = Float(Vector.sum(x, count: plane) * scale)
                let (best, value) = GlobalPooling.maximum(x, count: plane)
                output[n * 2 * channels + channels + c] = value
                indices[n * channels + c] = best
            }
        }
    }

    func backward(
        input: UnsafePointer<Float>, output: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
        gradInput: UnsafeMutablePointer<Float>?, batch: Int, workers: Workers
    ) {
        guard let gradInput else { return }
        let indices = argmax.pointer
        let scale = 1 / Float(plane)
        for n in 0..<batch {
            for c in 0..<channels {
                let dx = gradInput + (n * channels + c) * plane
                dx.update(repeating: gradOutput[n * 2 * channels + c] * scale, count: plane)
                dx[Int(indices[n * channels + c])] += gradOutput[n * 2 * channels + channels + c]
            }
        }
    }
}

enum GlobalPooling {
    /// The position and value of the first maximum of `count >= 1` floats (a NaN wins, the last one if several, as in
    /// ``MaxPool2D``).
    @inline(__always)
    static func maximum(_ x: UnsafePointer<Float>, count: Int) -> (Int32, Float) {
        var best = 0
        var value = x[0]
        for i in 1..<max(1, count) where x[i] > value || x[i].isNaN {
            best = i
            value = x[i]
        }
        return (Int32(truncatingIfNeeded: best), value)
    }
}
