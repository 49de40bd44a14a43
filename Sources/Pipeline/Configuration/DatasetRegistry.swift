import ConfigurationDecoding
import Foundation

/// Where a user's corpora live: a `datasets` file of `name = /path/to/corpus` lines (`#` starts a comment), so
/// that `make preprocess DATASET=gtzan` needs no path. See `datasets.example`.
public struct DatasetRegistry: Sendable {
    public var corpora: [String: String]

    public init(corpora: [String: String]) { self.corpora = corpora }

    /// Parses a registry file; a malformed line is an error naming the line.
    public static func load(path: String) throws(ConfigurationError) -> DatasetRegistry {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ConfigurationError(
                file: path, key: nil, reason: "cannot read the datasets file (copy datasets.example to datasets and edit it)")
        }
        var corpora: [String: String] = [:]
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty else { continue }
            let parts = trimmed.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw ConfigurationError(file: path, key: "line \(n + 1)", reason: "expected 'name = /path/to/corpus'")
            }
            corpora[parts[0]] = NSString(string: parts[1]).expandingTildeInPath
        }
        return DatasetRegistry(corpora: corpora)
    }

    /// The corpus path of `name`, or an error listing the known names.
    public func path(of name: String, file: String) throws(ConfigurationError) -> String {
        guard let p = corpora[name] else {
            let known = corpora.keys.sorted().joined(separator: ", ")
            throw ConfigurationError(file: file, key: name, reason: "no such dataset (known: \(known.isEmpty ? "none" : known))")
        }
        return p
    }
}
