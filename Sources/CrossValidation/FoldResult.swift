public import Pipeline
public import Training

/// The outcome of one fold: the test-split evaluation of the fold's `best.h5` (clip level, as `genre evaluate`
/// gives it), the epoch it came from, and the fold's wall time.
public struct FoldResult: Sendable, Codable, Equatable {
    /// The fold number (`0..<K`): the fold that was the test split.
    public var fold: Int
    /// Class names in label order.
    public var classes: [String]
    /// Clip-level accuracy on the test fold (fraction).
    public var accuracy: Double
    /// Window-level accuracy on the test fold (fraction).
    public var windowAccuracy: Double
    /// Macro-F1 on the test fold (over the classes present in its truth or predictions).
    public var macroF1: Double
    /// Precision, recall, F1 and support (test clips) of every class, in label order.
    public var perClass: [ClassMetrics]
    /// Clip-level confusion counts `[true][predicted]` on the test fold.
    public var confusion: [[Int]]
    /// Test clips.
    public var clips: Int
    /// The epoch of `best.h5` (best validation accuracy).
    public var bestEpoch: Int
    /// Wall time of the fold's stages (seconds).
    public var seconds: FoldSeconds

    public init(
        fold: Int, classes: [String], accuracy: Double, windowAccuracy: Double, macroF1: Double,
        perClass: [ClassMetrics], confusion: [[Int]], clips: Int, bestEpoch: Int, seconds: FoldSeconds
    ) {
        self.fold = fold
        self.classes = classes
        self.accuracy = accuracy
        self.windowAccuracy = windowAccuracy
        self.macroF1 = macroF1
        self.perClass = perClass
        self.confusion = confusion
        self.clips = clips
        self.bestEpoch = bestEpoch
        self.seconds = seconds
    }

    /// The result of fold `fold` from its evaluation.
    public init(fold: Int, evaluation: EvaluationResult, bestEpoch: Int, seconds: FoldSeconds) {
        self.init(
            fold: fold, classes: evaluation.classes, accuracy: evaluation.accuracy,
            windowAccuracy: evaluation.windowAccuracy, macroF1: evaluation.macroF1, perClass: evaluation.perClass,
            confusion: evaluation.confusion, clips: evaluation.clips, bestEpoch: bestEpoch, seconds: seconds)
    }

    enum CodingKeys: String, CodingKey {
        case fold, classes, accuracy, windowAccuracy = "window_accuracy", macroF1 = "macro_f1", perClass = "per_class"
        case confusion, clips, bestEpoch = "best_epoch", seconds
    }
}

/// Wall time of a fold's stages, in seconds (of the session that did each stage; 0 for a stage a rerun found done).
public struct FoldSeconds: Sendable, Codable, Equatable {
    public var preprocess: Double
    public var train: Double
    public var evaluate: Double

    public init(preprocess: Double = 0, train: Double = 0, evaluate: Double = 0) {
        self.preprocess = preprocess
        self.train = train
        self.evaluate = evaluate
    }

    /// The three stages together.
    public var total: Double { preprocess + train + evaluate }

    enum CodingKeys: String, CodingKey { case preprocess, train, evaluate, total }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        preprocess = try c.decode(Double.self, forKey: .preprocess)
        train = try c.decode(Double.self, forKey: .train)
        evaluate = try c.decode(Double.self, forKey: .evaluate)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(preprocess, forKey: .preprocess)
        try c.encode(train, forKey: .train)
        try c.encode(evaluate, forKey: .evaluate)
        try c.encode(total, forKey: .total)
    }
}

/// `fold-K/fold.json`: a completed fold, written last (atomically), so its presence marks the fold complete. Holds
/// the result and what made it: corpus, the fold's pipeline configuration (`split.fold` = the fold) and the training
/// configuration.
public struct FoldRecord: Sendable, Codable, Equatable {
    public var result: FoldResult
    /// The corpus root as given.
    public var corpus: String
    public var pipeline: PipelineConfiguration
    public var training: TrainingConfiguration
    /// When the fold was finished (ISO 8601).
    public var finished: String
    public var genrekitVersion: String

    public init(
        result: FoldResult, corpus: String, pipeline: PipelineConfiguration, training: TrainingConfiguration,
        finished: String, genrekitVersion: String = GenreKitVersion.current
    ) {
        self.result = result
        self.corpus = corpus
        self.pipeline = pipeline
        self.training = training
        self.finished = finished
        self.genrekitVersion = genrekitVersion
    }

    enum CodingKeys: String, CodingKey {
        case result, corpus, pipeline, training, finished, genrekitVersion = "genrekit_version"
    }
}
