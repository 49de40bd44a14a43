import Foundation

extension Evaluator {
    /// Where an evaluation's files go when no folder is given: `evaluation-<split>` beside the checkpoint, in the
    /// run folder (`RUN/best.h5` -> `RUN/evaluation-test`).
    public static func defaultOutput(checkpointPath: String, split: String) -> String {
        URL(fileURLWithPath: checkpointPath).deletingLastPathComponent().path + "/evaluation-\(split)"
    }
}
