import Foundation
import Testing
@testable import Net

/// Bounds on how far two float32 evaluations of the same network (the fused and the plain execution paths, or
/// one CPU's OpenBLAS kernels and another's) may differ, from a running error analysis of the plain layers.
///
/// The layers are evaluated here in Double, forward and backward (the values: also the ReLU masks, the pooling
/// winners and the batch statistics), and with each layer's output goes its *magnitude*: the layer's own formula
/// evaluated on the absolute values of its operands, every subtraction made an addition (a running error
/// analysis, one layer deep). Each float32 result of a layer is off by at most `γ(n)·(its magnitude)`, `n`
/// counting the roundings of its sums (see ``ErrorBound``), and the errors of its operands, each relative to their
/// own magnitudes, add to that (first order): so every result is bounded by `γ(n + depth)·magnitude`, `depth`
/// the total length of the sums before it. The difference of two paths is at most twice that. Magnitudes, not
/// values, are what matter: the conv bias gradient ahead of a batch norm is `Σ` of the batch norm's input
/// gradient, which is exactly 0 in real arithmetic (the normalisation removes the mean), so both paths return
/// rounding noise whose size is set by `Σ|terms|`, and a bound relative to the value itself could never hold.
/// (Propagating absolute values through every layer instead would be rigorous without the first-order step, but
/// it compounds the cancellation of every layer above and gives bounds larger than the gradients themselves.)
///
/// `n` for a parameter gradient entry is the number of terms of its own sum plus `depth`, the sum of the lengths
/// of all sums of the forward and backward pass (generous: a chain of sums of lengths k1, k2, ... has relative
/// error at most γ(k1 + k2 + ...)). Dropout is bounded over all masks (each kept element scaled by 1/(1 - p)).
/// A test's own stage that computes what these plain layers compute (forward), for ``RoundingBounds``. The list may
/// hold ``BranchMarker``s for stages with a second path (a residual block's shortcut).
protocol ModelledByPlainLayers {
    var plainLayers: [any Stage] { get }
}

/// A pseudo-stage of ``RoundingBounds`` (never run): stack operations that let a sequential error analysis follow
/// a block with two paths. `push` saves the current values (and, backward, adds the saved gradient back in);
/// `swap` exchanges the current values with the saved ones (the main path's output is parked, the block input
/// comes back for the shortcut); `addPop` adds the saved values to the current ones (backward: the gradient goes
/// to both).
final class BranchMarker: Stage {
    enum Operation { case push, swap, addPop }
    let operation: Operation
    let inputShape: [Int]
    let outputShape: [Int]

    init(_ operation: Operation, inputShape: [Int], outputShape: [Int]) {
        self.operation = operation
        self.inputShape = inputShape
        self.outputShape = outputShape
    }

    func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int, training: Bool, workers: Workers) {
        preconditionFailure("BranchMarker is an error-analysis marker, not a layer")
    }

    func backward(
        input: UnsafePointer<Float>, output: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
        gradInput: UnsafeMutablePointer<Float>?, batch: Int, workers: Workers
    ) {
        preconditionFailure("BranchMarker is an error-analysis marker, not a layer")
    }
}

/// A residual block is, by definition: save x; conv1, bn1, ReLU, conv2, bn2; park that and take x back; the
/// shortcut's conv and batch norm (if any); add the parked branch; ReLU.
extension ResidualBlock: ModelledByPlainLayers {
    var plainLayers: [any Stage] {
        [BranchMarker(.push, inputShape: inputShape, outputShape: inputShape), conv1, norm1, ReLU(inputShape: outputShape),
         conv2, norm2, BranchMarker(.swap, inputShape: outputShape, outputShape: inputShape)]
            + (shortcut.map { [$0.conv, $0.norm] } ?? [])
            + [BranchMarker(.addPop, inputShape: outputShape, outputShape: outputShape), ReLU(inputShape: outputShape)]
    }
}

struct RoundingBounds {
    /// Per-element bounds on |path A - path B| of each parameter's gradient, by parameter name.
    var gradients: [String: [Double]] = [:]
    /// Per-element bounds on |path A - path B| of the logits (the last stage's output).
    var logits: [Double] = []
    /// The last stage's output computed in Double (for finite differences free of float32 rounding).
    var output: [Double] = []
    /// Per-element bounds on |path A - path B| of the running statistics' change in this forward, by state name.
    var state: [String: [Double]] = [:]
    /// Per-element bounds on |path A - path B| of the gradient with respect to the logits (cross-entropy only).
    var logitGradient: [Double] = []
    /// Bound on |path A - path B| of the mean cross-entropy (cross-entropy only).
    var loss = 0.0
    /// Per-element bounds on |path A - path B| of the input gradient (the first stage's, computed even where the
    /// model skips it).
    var inputGradient: [Double] = []
    /// The input gradient itself, evaluated in Double (the reference a float32 backward is within half of
    /// ``inputGradient`` of).
    var inputGradientValue: [Double] = []
    /// Each parameter's gradient evaluated in Double, by name (within half of ``gradients`` of a float32 backward).
    var gradientValues: [String: [Double]] = [:]

    /// What the backward pass starts from.
    enum Objective {
        /// Mean cross-entropy of softmax(logits) against these class indices, one per sample.
        case crossEntropy(labels: [Int])
        /// `L = Σ r ⊙ output` for this `r` (a given output gradient).
        case linear(gradOutput: [Float])
        /// No backward pass (forward bounds only).
        case none
    }

    /// Bounds for one forward (and, unless `objective` is `.none`, backward) of `stages` (a plain, unfused model:
    /// Conv2D, BatchNorm2D, ReLU, MaxPool2D, GlobalAveragePool, GlobalMaxPool, GlobalAverageMaxPool, Dropout,
    /// Linear, Flatten; ResidualBlock as its ``ModelledByPlainLayers/plainLayers``) on `batch` samples
    /// `input`. With `training: false` batch norm uses its running statistics and there is no backward pass.
    /// Reads the layers' parameters and running statistics; changes nothing.
    init(stages fusedOrPlain: [any Stage], input: [Float], batch: Int, training: Bool = true, objective: Objective) {
        // A fused block is, by definition, its four layers.
        let stages: [any Stage] = fusedOrPlain.flatMap { stage -> [any Stage] in
            if let modelled = stage as? any ModelledByPlainLayers { return modelled.plainLayers }
            if let block = stage as? ConvReLUBatchNormPool {
                return [block.conv, ReLU(inputShape: block.conv.outputShape), block.norm, block.pool]
            }
            guard let block = stage as? ConvBatchNormReLUPool else { return [stage] }
            return [block.conv, block.norm, ReLU(inputShape: block.conv.outputShape),
                    MaxPool2D(inputShape: block.conv.outputShape, kernel: 2, stride: 2)]
        }
        var value = input.map(Double.init)
        var magnitude = value.map(abs)
        var forwardDepth = 0, backwardDepth = 0
        // What the backward pass needs from the forward one, per stage.
        var inputs: [(value: [Double], magnitude: [Double])] = []
        var winners: [Int: [Int]] = [:]
        var normalised: [Int: (xhat: [Double], inverseStd: [Double])] = [:]
        // The sigmoid outputs of LinearSigmoidAppended stages and their forward magnitudes, `[N, O]`.
        var sigmoids: [Int: (value: [Double], magnitude: [Double])] = [:]
        // The saved values of BranchMarker.push (forward) and the parked gradients (backward).
        var stack: [(value: [Double], magnitude: [Double])] = []
        var gradientStack: [(magnitude: [Double], value: [Double])] = []

        for (index, stage) in stages.enumerated() {
            inputs.append((value, magnitude))
            let inCount = stage.inputShape.reduce(1, *), outCount = stage.outputShape.reduce(1, *)
            var outValue = [Double](repeating: 0, count: batch * outCount)
            var outMagnitude = outValue
            switch stage {
            case let conv as Conv2D:
                let (cin, h, w, k, oh, ow) = (conv.inChannels, conv.height, conv.width, conv.kernel, conv.outHeight, conv.outWidth)
                forwardDepth += cin * k * k + 1
                backwardDepth += conv.outChannels * k * k
                for n in 0..<batch {
                    for o in 0..<conv.outChannels {
                        for i in 0..<oh {
                            for j in 0..<ow {
                                var v = Double(conv.bias.values[o]), a = abs(v)
                                for c in 0..<cin {
                                    for ky in 0..<k {
                                        for kx in 0..<k {
                                            let iy = i * conv.stride - conv.padding + ky, ix = j * conv.stride - conv.padding + kx
                                            guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                                            let weight = Double(conv.weight.values[((o * cin + c) * k + ky) * k + kx])
                                            let at = ((n * cin + c) * h + iy) * w + ix
                                            v += weight * value[at]
                                            a += abs(weight * value[at])
                                        }
                                    }
                                }
                                outValue[((n * conv.outChannels + o) * oh + i) * ow + j] = v
                                outMagnitude[((n * conv.outChannels + o) * oh + i) * ow + j] = a
                            }
                        }
                    }
                }
            case let norm as BatchNorm2D:
                let (channels, plane) = (norm.channels, norm.plane)
                let count = Double(batch * plane)
                forwardDepth += 2 * batch * plane + 4
                backwardDepth += 2 * batch * plane + 4
                var xhat = [Double](repeating: 0, count: batch * inCount), inverseStds = [Double](repeating: 0, count: channels)
                var runningMeanBound = [Double](repeating: 0, count: channels), runningVarianceBound = runningMeanBound
                for c in 0..<channels {
                    var sum = 0.0, magnitudeSum = 0.0, squareMagnitudeSum = 0.0
                    for n in 0..<batch {
                        for p in 0..<plane {
                            sum += value[(n * channels + c) * plane + p]
                            magnitudeSum += abs(value[(n * channels + c) * plane + p])
                        }
                    }
                    let batchMean = sum / count
                    var squares = 0.0
                    for n in 0..<batch {
                        for p in 0..<plane {
                            let at = (n * channels + c) * plane + p
                            squares += (value[at] - batchMean) * (value[at] - batchMean)
                            squareMagnitudeSum += (abs(value[at]) + abs(batchMean)) * (abs(value[at]) + abs(batchMean))
                        }
                    }
                    // Batch statistics in training unless the layer is set to use its running ones.
                    let batchStatistics = training && !norm.fixedStatistics
                    let mean = batchStatistics ? batchMean : Double(norm.runningMean.values[c])
                    let variance = batchStatistics ? squares / count : Double(norm.runningVariance.values[c])
                    let inverseStd = 1 / (variance + norm.epsilon).squareRoot()
                    inverseStds[c] = inverseStd
                    let gamma = Double(norm.gamma.values[c]), beta = Double(norm.beta.values[c])
                    for n in 0..<batch {
                        for p in 0..<plane {
                            let at = (n * channels + c) * plane + p
                            xhat[at] = (value[at] - mean) * inverseStd
                            outValue[at] = gamma * xhat[at] + beta
                            // The error of `1/sqrt(var + eps)` is relative (γ(depth)·it) when var is computed
                            // from magnitudes; the centred value's error is absolute, from both operands.
                            outMagnitude[at] = abs(gamma) * inverseStd * (abs(value[at]) + abs(mean)) + abs(beta)
                        }
                    }
                    // running = 0.9·running + 0.1·batch statistic (unbiased variance).
                    runningMeanBound[c] = 0.1 * magnitudeSum / count
                    runningVarianceBound[c] = 0.1 * squareMagnitudeSum / (count - 1)
                }
                normalised[index] = (xhat, inverseStds)
                if training && !norm.fixedStatistics {
                    state[norm.runningMean.name] = runningMeanBound
                    state[norm.runningVariance.name] = runningVarianceBound
                }
            case is ReLU:
                for i in value.indices where value[i] > 0 {
                    outValue[i] = value[i]
                    outMagnitude[i] = magnitude[i]
                }
            case let pool as MaxPool2D:
                var winner = [Int](repeating: 0, count: batch * outCount)
                for n in 0..<batch {
                    for c in 0..<pool.channels {
                        let planeStart = (n * pool.channels + c) * pool.height * pool.width
                        for i in 0..<pool.outHeight {
                            for j in 0..<pool.outWidth {
                                var best = -1
                                for ky in 0..<pool.kernelHeight {
                                    for kx in 0..<pool.kernelWidth {
                                        let at = planeStart + (i * pool.strideHeight + ky) * pool.width + j * pool.strideWidth + kx
                                        if best < 0 || value[at] > value[best] { best = at }  // first maximum wins
                                    }
                                }
                                let out = ((n * pool.channels + c) * pool.outHeight + i) * pool.outWidth + j
                                winner[out] = best
                                outValue[out] = value[best]
                                outMagnitude[out] = magnitude[best]
                            }
                        }
                    }
                }
                winners[index] = winner
            case is GlobalAveragePool:
                let plane = inCount / outCount
                forwardDepth += plane + 1
                backwardDepth += 1
                for out in 0..<(batch * outCount) {
                    for p in 0..<plane {
                        outValue[out] += value[out * plane + p] / Double(plane)
                        outMagnitude[out] += abs(value[out * plane + p]) / Double(plane)
                    }
                }
            case is GlobalMaxPool, is GlobalAverageMaxPool:
                // Maxima are exact (a chosen input); means as GlobalAveragePool. Output layout per sample:
                // [means (average+max only), maxima].
                let withMeans = stage is GlobalAverageMaxPool
                let channels = stage.inputShape[0], plane = inCount / channels
                if withMeans {
                    forwardDepth += plane + 1
                    backwardDepth += 2
                }
                var winner = [Int](repeating: 0, count: batch * channels)
                for n in 0..<batch {
                    for c in 0..<channels {
                        let start = (n * channels + c) * plane
                        var best = start
                        for p in 0..<plane where value[start + p] > value[best] { best = start + p }  // first maximum wins
                        winner[n * channels + c] = best
                        let maximumAt = n * outCount + (withMeans ? channels : 0) + c
                        outValue[maximumAt] = value[best]
                        outMagnitude[maximumAt] = magnitude[best]
                        guard withMeans else { continue }
                        for p in 0..<plane {
                            outValue[n * outCount + c] += value[start + p] / Double(plane)
                            outMagnitude[n * outCount + c] += abs(value[start + p]) / Double(plane)
                        }
                    }
                }
                winners[index] = winner
            case let marker as BranchMarker:
                switch marker.operation {
                case .push:
                    stack.append((value, magnitude))
                    (outValue, outMagnitude) = (value, magnitude)
                    backwardDepth += 1  // the two input gradients are added
                case .swap:
                    let saved = stack.removeLast()
                    stack.append((value, magnitude))
                    (outValue, outMagnitude) = saved
                case .addPop:
                    let saved = stack.removeLast()
                    forwardDepth += 1
                    outValue = zip(value, saved.value).map(+)
                    outMagnitude = zip(magnitude, saved.magnitude).map(+)
                }
            case let dropout as Dropout:
                forwardDepth += 1
                backwardDepth += 1
                let scale = training ? 1 / (1 - dropout.probability) : 1
                outValue = value
                outMagnitude = magnitude.map { $0 * scale }
            case let appended as LinearSigmoidAppended:
                // z = W x + b as Linear; s = sigmoid(z): an error δz moves s by at most s(1 - s)·δz, and exp, the
                // sum and the quotient round relative to s (4 roundings, counted in the depth).
                let (f, o) = (appended.inFeatures, appended.outFeatures)
                forwardDepth += f + 1 + 4
                backwardDepth += o + 4
                var tail = [Double](repeating: 0, count: batch * o), tailMagnitude = tail
                for n in 0..<batch {
                    for i in 0..<f {
                        outValue[n * (f + o) + i] = value[n * f + i]
                        outMagnitude[n * (f + o) + i] = magnitude[n * f + i]
                    }
                    for j in 0..<o {
                        var z = Double(appended.bias.values[j]), a = abs(z)
                        for i in 0..<f {
                            let weight = Double(appended.weight.values[j * f + i])
                            z += weight * value[n * f + i]
                            a += abs(weight * value[n * f + i])
                        }
                        let sigmoid = 1 / (1 + exp(-z))
                        tail[n * o + j] = sigmoid
                        tailMagnitude[n * o + j] = sigmoid * (1 - sigmoid) * a + sigmoid
                        outValue[n * (f + o) + f + j] = sigmoid
                        outMagnitude[n * (f + o) + f + j] = tailMagnitude[n * o + j]
                    }
                }
                sigmoids[index] = (tail, tailMagnitude)
            case let linear as Linear:
                forwardDepth += linear.inFeatures + 1
                backwardDepth += linear.outFeatures
                for n in 0..<batch {
                    for o in 0..<linear.outFeatures {
                        var v = Double(linear.bias.values[o]), a = abs(v)
                        for f in 0..<linear.inFeatures {
                            let weight = Double(linear.weight.values[o * linear.inFeatures + f])
                            v += weight * value[n * linear.inFeatures + f]
                            a += abs(weight * value[n * linear.inFeatures + f])
                        }
                        outValue[n * linear.outFeatures + o] = v
                        outMagnitude[n * linear.outFeatures + o] = a
                    }
                }
            case is Flatten:
                outValue = value
                outMagnitude = magnitude
            default:
                preconditionFailure("RoundingBounds: no error model for \(type(of: stage))")
            }
            value = outValue
            magnitude = outMagnitude
        }
        output = value
        logits = magnitude.map { 2 * ErrorBound.gamma(forwardDepth) * $0 }
        for name in state.keys { state[name] = state[name]!.map { 2 * ErrorBound.gamma(forwardDepth) * $0 } }
        guard training else { return }

        var gradient: [Double]  // magnitudes (the producing layer's local absolute evaluation)
        var gradientValue: [Double]  // the gradient itself, in Double
        switch objective {
        case .none:
            return
        case .linear(let r):
            gradientValue = r.map { Double($0) }
            gradient = gradientValue.map(abs)
        case .crossEntropy(let labels):
            // dL/dz = (softmax(z) - onehot) / N. Its magnitude: (p + onehot) / N, plus what the logits' own error
            // δz does to softmax, |δp_k| <= p_k·(|δz_k| + Σ_j p_j·|δz_j|) <= 2·p_k·max|δz| (as a magnitude:
            // 2·p_k·max_j(logit magnitude), the γ factor applied below).
            let classes = value.count / batch
            backwardDepth += 2 * classes + 4
            gradient = [Double](repeating: 0, count: value.count)
            gradientValue = gradient
            logitGradient = gradient
            for n in 0..<batch {
                let row = value[(n * classes)..<((n + 1) * classes)]
                let rowMagnitude = magnitude[(n * classes)..<((n + 1) * classes)].max()!
                let top = row.max()!
                let total = row.reduce(0) { $0 + exp($1 - top) }
                var rowLoss = 0.0
                for k in 0..<classes {
                    let p = exp(value[n * classes + k] - top) / total
                    let hot = k == labels[n] ? 1.0 : 0
                    gradient[n * classes + k] = (p + hot + 2 * p * rowMagnitude) / Double(batch)
                    gradientValue[n * classes + k] = (p - hot) / Double(batch)
                    // -log p_label = logsumexp(z) - z_label: error from δz at most 2·max|δz|, plus the roundings
                    // of exp, the sum and the log relative to |top| + log(total) + |z_label|.
                    if hot == 1 { rowLoss = 2 * rowMagnitude + abs(top) + log(total) + abs(value[n * classes + k]) }
                }
                loss += rowLoss / Double(batch)
            }
            logitGradient = gradient.map { 2 * ErrorBound.gamma(forwardDepth + 2 * classes + 4) * $0 }
            loss *= 2 * ErrorBound.gamma(forwardDepth + 2 * classes + 4)
        }
        let depth = forwardDepth + backwardDepth

        // Backward, in magnitudes only: every subtraction of the real backward becomes an addition.
        for index in stages.indices.reversed() {
            let stage = stages[index]
            let (inValue, inMagnitude) = inputs[index]
            var inGradient = [Double](repeating: 0, count: inValue.count), inGradientValue = inGradient
            func record(_ parameter: Parameter, _ terms: [Double], count: Int, values: [Double]) {
                gradients[parameter.name] = terms.map { 2 * ErrorBound.gamma(count + depth) * $0 }
                gradientValues[parameter.name] = values
            }
            switch stage {
            case let conv as Conv2D:
                let (cin, cout, h, w, k, oh, ow) = (conv.inChannels, conv.outChannels, conv.height, conv.width, conv.kernel, conv.outHeight, conv.outWidth)
                var weightTerms = [Double](repeating: 0, count: conv.weight.count), biasTerms = [Double](repeating: 0, count: cout)
                var weightValues = weightTerms, biasValues = biasTerms
                for n in 0..<batch {
                    for o in 0..<cout {
                        for i in 0..<oh {
                            for j in 0..<ow {
                                let g = gradient[((n * cout + o) * oh + i) * ow + j]
                                let gv = gradientValue[((n * cout + o) * oh + i) * ow + j]
                                biasTerms[o] += g
                                biasValues[o] += gv
                                for c in 0..<cin {
                                    for ky in 0..<k {
                                        for kx in 0..<k {
                                            let iy = i * conv.stride - conv.padding + ky, ix = j * conv.stride - conv.padding + kx
                                            guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                                            let wAt = ((o * cin + c) * k + ky) * k + kx, xAt = ((n * cin + c) * h + iy) * w + ix
                                            weightTerms[wAt] += g * inMagnitude[xAt]
                                            weightValues[wAt] += gv * inValue[xAt]
                                            inGradient[xAt] += abs(gv * Double(conv.weight.values[wAt]))
                                            inGradientValue[xAt] += gv * Double(conv.weight.values[wAt])
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                record(conv.weight, weightTerms, count: batch * oh * ow, values: weightValues)
                record(conv.bias, biasTerms, count: batch * oh * ow, values: biasValues)
            case let norm as BatchNorm2D:
                // dx = γ/σ · (dy - mean(dy) - x̂ · mean(dy · x̂)); dγ = Σ dy · x̂; dβ = Σ dy.
                let (channels, plane) = (norm.channels, norm.plane)
                let (xhat, inverseStd) = normalised[index]!
                let count = Double(batch * plane)
                var gammaTerms = [Double](repeating: 0, count: channels), betaTerms = gammaTerms
                var gammaValues = gammaTerms, betaValues = gammaTerms
                var meanAbs = gammaTerms, meanAbsX = gammaTerms, meanValue = gammaTerms, meanValueX = gammaTerms
                for c in 0..<channels {
                    for n in 0..<batch {
                        for p in 0..<plane {
                            let at = (n * channels + c) * plane + p
                            betaTerms[c] += gradient[at]
                            gammaTerms[c] += gradient[at] * abs(xhat[at])
                            betaValues[c] += gradientValue[at]
                            gammaValues[c] += gradientValue[at] * xhat[at]
                            meanAbs[c] += abs(gradientValue[at]) / count
                            meanAbsX[c] += abs(gradientValue[at] * xhat[at]) / count
                            meanValue[c] += gradientValue[at] / count
                            meanValueX[c] += gradientValue[at] * xhat[at] / count
                        }
                    }
                    let scale = abs(Double(norm.gamma.values[c])) * inverseStd[c]
                    let signedScale = Double(norm.gamma.values[c]) * inverseStd[c]
                    for n in 0..<batch {
                        for p in 0..<plane {
                            let at = (n * channels + c) * plane + p
                            if norm.fixedStatistics {
                                // Fixed statistics: the affine map's gradient, dx = γ/σ · dy.
                                inGradient[at] = scale * abs(gradientValue[at])
                                inGradientValue[at] = signedScale * gradientValue[at]
                            } else {
                                inGradient[at] = scale * (abs(gradientValue[at]) + meanAbs[c] + abs(xhat[at]) * meanAbsX[c])
                                inGradientValue[at] = signedScale * (gradientValue[at] - meanValue[c] - xhat[at] * meanValueX[c])
                            }
                        }
                    }
                }
                record(norm.gamma, gammaTerms, count: batch * plane, values: gammaValues)
                record(norm.beta, betaTerms, count: batch * plane, values: betaValues)
            case is ReLU:
                for i in inValue.indices where inValue[i] > 0 { (inGradient[i], inGradientValue[i]) = (gradient[i], gradientValue[i]) }
            case is MaxPool2D:
                for (out, winner) in winners[index]!.enumerated() {
                    inGradient[winner] += gradient[out]
                    inGradientValue[winner] += gradientValue[out]
                }
            case is GlobalAveragePool:
                let plane = inValue.count / gradient.count
                for i in inGradient.indices {
                    inGradient[i] = gradient[i / plane] / Double(plane)
                    inGradientValue[i] = gradientValue[i / plane] / Double(plane)
                }
            case is GlobalMaxPool, is GlobalAverageMaxPool:
                let withMeans = stage is GlobalAverageMaxPool
                let channels = stage.inputShape[0], plane = inValue.count / (batch * channels), outCount = stage.outputShape[0]
                for n in 0..<batch {
                    for c in 0..<channels {
                        if withMeans {
                            for p in 0..<plane {
                                inGradient[(n * channels + c) * plane + p] = gradient[n * outCount + c] / Double(plane)
                                inGradientValue[(n * channels + c) * plane + p] = gradientValue[n * outCount + c] / Double(plane)
                            }
                        }
                        let winner = winners[index]![n * channels + c], maximumAt = n * outCount + (withMeans ? channels : 0) + c
                        inGradient[winner] += gradient[maximumAt]
                        inGradientValue[winner] += gradientValue[maximumAt]
                    }
                }
            case let marker as BranchMarker:
                switch marker.operation {
                case .addPop:
                    gradientStack.append((gradient, gradientValue))
                    (inGradient, inGradientValue) = (gradient, gradientValue)
                case .swap:
                    let parked = gradientStack.removeLast()
                    gradientStack.append((gradient, gradientValue))
                    (inGradient, inGradientValue) = parked
                case .push:
                    let parked = gradientStack.removeLast()
                    inGradient = zip(gradient, parked.magnitude).map(+)
                    inGradientValue = zip(gradientValue, parked.value).map(+)
                }
            case let dropout as Dropout:
                inGradient = gradient.map { $0 / (1 - dropout.probability) }
                inGradientValue = gradientValue.map { $0 / (1 - dropout.probability) }
            case let appended as LinearSigmoidAppended:
                // dz = ds · s(1 - s): from the incoming gradient's error, and from s's error (|d(s(1 - s))/ds| <= 1);
                // then Linear's sums, and dx = dy_head + dz · W.
                let (f, o) = (appended.inFeatures, appended.outFeatures)
                let (s, sMagnitude) = sigmoids[index]!
                var weightTerms = [Double](repeating: 0, count: appended.weight.count)
                var biasTerms = [Double](repeating: 0, count: o)
                var weightValues = weightTerms, biasValues = biasTerms
                for n in 0..<batch {
                    for i in 0..<f {
                        inGradient[n * f + i] = gradient[n * (f + o) + i]
                        inGradientValue[n * f + i] = gradientValue[n * (f + o) + i]
                    }
                    for j in 0..<o {
                        let at = n * (f + o) + f + j, sj = s[n * o + j]
                        let dzValue = gradientValue[at] * sj * (1 - sj)
                        let dz = gradient[at] * sj * (1 - sj) + abs(gradientValue[at]) * sMagnitude[n * o + j]
                        biasTerms[j] += dz
                        biasValues[j] += dzValue
                        for i in 0..<f {
                            let weight = Double(appended.weight.values[j * f + i])
                            weightTerms[j * f + i] += dz * inMagnitude[n * f + i]
                            weightValues[j * f + i] += dzValue * inValue[n * f + i]
                            inGradient[n * f + i] += abs(dzValue * weight) + dz * abs(weight)
                            inGradientValue[n * f + i] += dzValue * weight
                        }
                    }
                }
                record(appended.weight, weightTerms, count: batch, values: weightValues)
                record(appended.bias, biasTerms, count: batch, values: biasValues)
            case let linear as Linear:
                var weightTerms = [Double](repeating: 0, count: linear.weight.count)
                var biasTerms = [Double](repeating: 0, count: linear.outFeatures)
                var weightValues = weightTerms, biasValues = biasTerms
                for n in 0..<batch {
                    for o in 0..<linear.outFeatures {
                        let g = gradient[n * linear.outFeatures + o]
                        let gv = gradientValue[n * linear.outFeatures + o]
                        biasTerms[o] += g
                        biasValues[o] += gv
                        for f in 0..<linear.inFeatures {
                            weightTerms[o * linear.inFeatures + f] += g * inMagnitude[n * linear.inFeatures + f]
                            weightValues[o * linear.inFeatures + f] += gv * inValue[n * linear.inFeatures + f]
                            inGradient[n * linear.inFeatures + f] += abs(gv * Double(linear.weight.values[o * linear.inFeatures + f]))
                            inGradientValue[n * linear.inFeatures + f] += gv * Double(linear.weight.values[o * linear.inFeatures + f])
                        }
                    }
                }
                record(linear.weight, weightTerms, count: batch, values: weightValues)
                record(linear.bias, biasTerms, count: batch, values: biasValues)
            case is Flatten:
                inGradient = gradient
                inGradientValue = gradientValue
            default:
                preconditionFailure("RoundingBounds: no error model for \(type(of: stage))")
            }
            gradient = inGradient
            gradientValue = inGradientValue
        }
        inputGradient = gradient.map { 2 * ErrorBound.gamma(depth) * $0 }
        inputGradientValue = gradientValue
    }
}
