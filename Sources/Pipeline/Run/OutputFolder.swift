import Foundation

/// The folder a run writes into.
enum OutputFolder {
    /// `path` as an absolute path, created (with its parents) when missing.
    static func create(_ path: String, what: String = "the output folder") throws(PipelineError) -> String {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        do {
            try FileManager.default.createDirectory(atPath: absolute, withIntermediateDirectories: true)
        } catch {
            throw PipelineError(path: absolute, reason: "cannot create \(what): \(CorpusScanner.reason(error))")
        }
        return absolute
    }
}
