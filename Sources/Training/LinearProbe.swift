public import Net

/// Per-clip feature vectors of one split: `values` `[clips, features]` row-major (float32), with the clips' labels.
public struct ClipEmbeddings: Sendable, Equatable {
    public var features: Int
    public var values: [Float]
    public var labels: [Int]

    public init(features: Int, values: [Float], labels: [Int]) {
        precondition(values.count == features * labels.count, "ClipEmbeddings: \(values.count) values for \(labels.count) clips of \(features)")
        self.features = features
        self.values = values
        self.labels = labels
    }

    public var clips: Int { labels.count }
}

/// The linear probe of `[train] mode = "probe"`: standardise the training clips' embeddings (mean and standard
/// deviation per feature, ddof 0, a zero deviation counted as 1), fit a ``LogisticRegression`` for every C of the
/// grid on the training clips, keep the one with the best validation accuracy (ties: lower validation log-loss,
/// then the smaller C). The result folds the standardisation into one linear layer, so that a probe is an ordinary
/// network: `logits = W' e + b'` with `W' = W / std` and `b' = b - W' mean`.
public enum LinearProbe {
    /// One C of the grid and how its fit scored.
    public struct GridPoint: Sendable, Codable, Equatable {
        public var c: Double
        public var trainAccuracy: Double
        public var validAccuracy: Double
        public var validLogLoss: Double
        public var iterations: Int
        public var converged: Bool

        enum CodingKeys: String, CodingKey {
            case c = "C", trainAccuracy = "train_accuracy", validAccuracy = "valid_accuracy"
            case validLogLoss = "valid_log_loss", iterations, converged
        }
    }

    /// The chosen fit.
    public struct Fit: Sendable {
        public var c: Double
        public var model: LogisticRegression
        /// Standardisation fitted on the training clips, `[features]`.
        public var mean: [Double]
        public var std: [Double]
        public var grid: [GridPoint]

        /// The fitted probe as a linear layer on unstandardised embeddings: weight `[classes, features]`, bias
        /// `[classes]` (float32, ``Sequential``'s layouts).
        public func foldedLinear() -> (weight: Tensor, bias: Tensor) {
            let k = model.classes, d = model.features
            var weight = [Float](repeating: 0, count: k * d)
            var bias = [Float](repeating: 0, count: k)
            for j in 0..<k {
                var b = model.bias[j]
                for f in 0..<d {
                    let w = model.weights[j * d + f] / std[f]
                    weight[j * d + f] = Float(w)
                    b -= w * mean[f]
                }
                bias[j] = Float(b)
            }
            return (Tensor(shape: [k, d], scalars: weight), Tensor(shape: [k], scalars: bias))
        }
    }

    /// Fits the probe; `classes` is the number of classes of the labels (`0..<classes`).
    public static func fit(
        train: ClipEmbeddings, valid: ClipEmbeddings, classes: Int, cGrid: [Double], maxIterations: Int
    ) -> Fit {
        precondition(!cGrid.isEmpty && train.features == valid.features && train.clips > 0 && valid.clips > 0)
        let d = train.features
        var mean = [Double](repeating: 0, count: d), std = [Double](repeating: 0, count: d)
        for i in 0..<train.clips {
            for f in 0..<d { mean[f] += Double(train.values[i * d + f]) }
        }
        for f in 0..<d { mean[f] /= Double(train.clips) }
        for i in 0..<train.clips {
            for f in 0..<d {
                let e = Double(train.values[i * d + f]) - mean[f]
                std[f] += e * e
            }
        }
        for f in 0..<d {
            let s = (std[f] / Double(train.clips)).squareRoot()
            std[f] = s > 0 ? s : 1
        }
        func standardised(_ e: ClipEmbeddings) -> [Double] {
            var x = [Double](repeating: 0, count: e.values.count)
            for i in 0..<e.clips {
                for f in 0..<d { x[i * d + f] = (Double(e.values[i * d + f]) - mean[f]) / std[f] }
            }
            return x
        }
        let xTrain = standardised(train), xValid = standardised(valid)
        var grid: [GridPoint] = []
        var best: (point: GridPoint, model: LogisticRegression)? = nil
        for c in cGrid.sorted() {
            let model = LogisticRegression.fit(x: xTrain, labels: train.labels, classes: classes, c: c,
                                               maxIterations: maxIterations)
            let trainScore = model.score(x: xTrain, labels: train.labels)
            let validScore = model.score(x: xValid, labels: valid.labels)
            let point = GridPoint(c: c, trainAccuracy: trainScore.accuracy, validAccuracy: validScore.accuracy,
                                  validLogLoss: validScore.logLoss, iterations: model.iterations,
                                  converged: model.converged)
            grid.append(point)
            if let current = best {
                let better = point.validAccuracy > current.point.validAccuracy
                    || (point.validAccuracy == current.point.validAccuracy && point.validLogLoss < current.point.validLogLoss)
                if better { best = (point, model) }
            } else {
                best = (point, model)
            }
        }
        return Fit(c: best!.point.c, model: best!.model, mean: mean, std: std, grid: grid)
    }
}
