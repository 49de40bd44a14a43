import Foundation

/// One epoch of a run's `log.jsonl`: one JSON object per line with `epoch` and, when known, `train_loss`,
/// `train_accuracy`, `valid_accuracy` (fractions), `seconds` (the epoch's wall time) and `samples_per_second`.
public struct EpochRecord: Sendable, Equatable, Codable {
    /// The epoch number.
    public var epoch: Int
    /// Mean training loss over the epoch.
    public var trainLoss: Double?
    /// Training accuracy over the epoch (fraction).
    public var trainAccuracy: Double?
    /// Validation accuracy after the epoch (fraction, clip level).
    public var validAccuracy: Double?
    /// Wall time of the epoch in seconds.
    public var seconds: Double?
    /// Training throughput in clips per second.
    public var samplesPerSecond: Double?

    public init(
        epoch: Int, trainLoss: Double? = nil, trainAccuracy: Double? = nil, validAccuracy: Double? = nil,
        seconds: Double? = nil, samplesPerSecond: Double? = nil
    ) {
        self.epoch = epoch
        self.trainLoss = trainLoss
        self.trainAccuracy = trainAccuracy
        self.validAccuracy = validAccuracy
        self.seconds = seconds
        self.samplesPerSecond = samplesPerSecond
    }

    enum CodingKeys: String, CodingKey {
        case epoch, trainLoss = "train_loss", trainAccuracy = "train_accuracy", validAccuracy = "valid_accuracy"
        case seconds, samplesPerSecond = "samples_per_second"
    }
}

/// Reading a run's `log.jsonl`.
public enum TrainingLog {
    /// The epochs of the log text `text` (from file `path`, for messages), sorted by epoch; when an epoch appears
    /// more than once (a resumed run), its last line wins. Blank lines and objects without `epoch` (other events)
    /// are skipped; unknown keys are ignored. A last line without its newline that is not valid JSON (a write cut
    /// short) is ignored; any other line that is not a JSON object is an error naming the line.
    public static func parse(_ text: String, path: String = "log.jsonl") throws(TrainingError) -> [EpochRecord] {
        var byEpoch: [Int: EpochRecord] = [:]
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for (index, line) in lines.enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty { continue }
            let isUnterminatedLast = index == lines.count - 1 && !text.hasSuffix("\n")
            let object: [String: Any]
            do {
                guard let parsed = try JSONSerialization.jsonObject(with: Data(trimmed.utf8)) as? [String: Any] else {
                    throw TrainingError.invalidLog(path: path, line: index + 1, reason: "not a JSON object")
                }
                object = parsed
            } catch {
                if isUnterminatedLast { continue }
                if let error = error as? TrainingError { throw error }
                throw .invalidLog(path: path, line: index + 1, reason: "not valid JSON")
            }
            guard let epoch = number(object["epoch"]).flatMap({ $0.isFinite ? Int(exactly: $0.rounded()) : nil })
            else { continue }
            byEpoch[epoch] = EpochRecord(
                epoch: epoch, trainLoss: number(object["train_loss"]), trainAccuracy: number(object["train_accuracy"]),
                validAccuracy: number(object["valid_accuracy"]), seconds: number(object["seconds"]),
                samplesPerSecond: number(object["samples_per_second"]))
        }
        return byEpoch.keys.sorted().map { byEpoch[$0]! }
    }

    /// The epochs of the log file at `path`; see `parse(_:path:)`.
    public static func read(path: String) throws(TrainingError) -> [EpochRecord] {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw .io(path: path, reason: "cannot read the training log: \(error.localizedDescription)")
        }
        return try parse(text, path: path)
    }

    /// A JSON number as a Double (nil for anything else).
    private static func number(_ value: Any?) -> Double? {
        switch value {
        case let number as Double: number
        case let number as Int: Double(number)
        case let number as NSNumber: number.doubleValue
        default: nil
        }
    }
}
