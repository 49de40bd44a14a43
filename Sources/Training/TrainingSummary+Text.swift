import Foundation

extension TrainingSummary {
    /// One line for the end of a run: the best validation accuracy, at which epoch of how many, whether training
    /// stopped early, the class balance and validation window hop, and the path of `best.h5`.
    public var text: String {
        String(format: "best valid accuracy %.3f at epoch %d of %d%@; balance %@, window hop %d; best model: %@",
               bestValidAccuracy, bestEpoch, epochs.count, stoppedEarly ? " (stopped early)" : "",
               balance.rawValue, windowHop, bestCheckpoint)
    }
}
