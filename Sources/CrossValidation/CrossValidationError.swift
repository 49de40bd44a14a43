/// A cross-validation failure of its own (the pipeline's, trainer's and evaluator's errors pass through as they are):
/// names the file or folder and the reason, on one line.
public struct CrossValidationError: Error, CustomStringConvertible, Sendable, Equatable {
    public let path: String?
    public let reason: String

    public init(path: String?, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { path.map { "\($0): \(reason)" } ?? reason }
}
