import Foundation

/// What `genre predict` prints: one line per file (its likeliest classes), or one JSON document for all files.
public struct PredictionReport: Sendable, Encodable {
    /// The checkpoint's class names; `probabilities` of every prediction follow this order.
    public var classes: [String]
    /// The files predicted, in input order.
    public var predictions: [Predictor.Prediction]
    /// The inputs that could not be predicted, in input order: the path and the one-line reason.
    public var failures: [Failure]

    /// An input that could not be predicted (JSON `{"path", "error"}`).
    public struct Failure: Sendable, Codable, Equatable {
        public var path: String
        public var error: String
        public init(path: String, error: String) {
            self.path = path
            self.error = error
        }
    }

    public init(classes: [String], predictions: [Predictor.Prediction], failures: [Failure] = []) {
        self.classes = classes
        self.predictions = predictions
        self.failures = failures
    }

    /// Adds one outcome of a run (after those already added).
    public mutating func append(_ outcome: PredictionOutcome) {
        switch outcome {
        case .predicted(let prediction): predictions.append(prediction)
        case .failed(let path, let reason): failures.append(Failure(path: path, error: reason))
        }
    }

    /// `path: class p%, class p%, class p%`: the `count` likeliest classes of one file, most likely first.
    public static func line(for prediction: Predictor.Prediction, classes: [String], count: Int = 3) -> String {
        let top = prediction.top(count, classes: classes).map { String(format: "%@ %.1f%%", $0.0, $0.1 * 100) }
        return "\(prediction.path): " + top.joined(separator: ", ")
    }

    /// `path: tag 0.71, tag 0.52, ...`: the `count` likeliest tags of one file from a tagging network (independent
    /// probabilities, each the mean over the file's windows, so they do not add up to 1).
    public static func tagLine(for prediction: Predictor.Prediction, tags: [String], count: Int = 5) -> String {
        let top = prediction.top(count, classes: tags).map { String(format: "%@ %.2f", $0.0, $0.1) }
        return "\(prediction.path): " + top.joined(separator: ", ")
    }

    /// `{"classes": [...], "failures": [{"error", "path"}], "predictions": [{"path", "seconds", "probabilities",
    /// "windows": [{"start", "probabilities"}]}]}`, pretty-printed with sorted keys. Throws when a probability is
    /// not finite.
    public func jsonText() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}
