import Foundation
import Shards

/// Checks a shard folder before a long training job (`genre verify DIR`), reporting every problem rather than the
/// first:
///
/// - per shard (``ShardChecks``, one function per check): schema version; every attribute and dataset present
///   with the right type; shapes (`/mel` `[clips, n_mels, frames]` against `/label`, `/path`, `/padded`,
///   `/seconds` and the `clips`, `n_mels`, `frames` attributes; `/norm/*` `[n_mels]`); the `split` attribute
///   against the file name; labels inside the classes; no NaN or infinity in `/mel`, `/norm/*` or `/seconds`; norm
///   std > 0; the stored checksum against the one recomputed over the data (`ShardChecksum`); a file smaller
///   than its uncompressed features;
/// - across shards: classes, `n_mels`, `frames`, normalisation, every pipeline parameter and the configuration
///   equal in all shards (the first shard that differs and the key are named); a clip path stored twice (in two
///   splits: leakage between training and evaluation); shard indices of each split contiguous from `00000`;
/// - warnings: temporary files of unfinished writers (`.<name>.partial-…`), shards without a checksum.
///
/// Shards are read through ``RawShard`` (Shards), which knows the schema.
public enum ShardVerifier {
    /// Verifies every shard in `directory`. Throws only when the folder cannot be listed; everything wrong with
    /// its contents is in the result.
    /// - Parameter checksums: recompute the checksums and scan every value of `/mel` (reads every byte: about the
    ///   time of reading the shards once). `false` checks only the structure and the per-clip arrays.
    public static func verify(directory: String, checksums: Bool = true) throws(PipelineError) -> ShardVerification {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) else {
            throw PipelineError(path: directory, reason: "no such directory")
        }
        guard isDirectory.boolValue else { throw PipelineError(path: directory, reason: "not a directory") }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        } catch {
            throw PipelineError(path: directory, reason: "cannot list the folder: \(error.localizedDescription)")
        }
        let prefix = directory.hasSuffix("/") ? directory : directory + "/"
        var state = VerificationState()
        let bySplit = listShards(names, prefix: prefix, directory: directory, state: &state)
        // Shards in a fixed order: train first (the reference the others are compared with), then the others.
        let order = ["train", "valid", "test"].filter { bySplit[$0] != nil }
            + bySplit.keys.sorted().filter { !["train", "valid", "test"].contains($0) }
        for split in order {
            for shard in bySplit[split]! {
                state.shards += 1
                ShardChecks(path: prefix + shard.name, fileSplit: split, checksums: checksums).run(state: &state)
            }
        }
        return ShardVerification(directory: directory, shards: state.shards, clips: state.clips,
                                 problems: state.problems, warnings: state.warnings)
    }

    /// The committed shards of the folder per split, sorted by index; warns about temporary files and reports
    /// indices that are missing or used twice.
    static func listShards(
        _ names: [String], prefix: String, directory: String, state: inout VerificationState
    ) -> [String: [(index: Int, name: String)]] {
        var bySplit: [String: [(index: Int, name: String)]] = [:]
        for name in names {
            if name.hasPrefix("."), name.contains(".partial-") {
                state.warn(prefix + name, "temporary file left behind by an unfinished writer (safe to delete "
                           + "when no preprocessing is running)")
                continue
            }
            guard let (split, index) = ShardSchema.parseFileName(name) else { continue }
            var isSubdirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: prefix + name, isDirectory: &isSubdirectory),
                  !isSubdirectory.boolValue
            else { continue }
            bySplit[split, default: []].append((index, name))
        }
        if bySplit.isEmpty {
            state.problem(directory, "no shards (<split>-NNNNN.h5) in this folder")
        }
        for split in bySplit.keys.sorted() {
            bySplit[split]!.sort { ($0.index, $0.name) < ($1.index, $1.name) }
            checkIndices(of: split, bySplit[split]!, prefix: prefix, state: &state)
        }
        return bySplit
    }

    /// Contiguous indices from 00000, no index twice.
    static func checkIndices(
        of split: String, _ shards: [(index: Int, name: String)], prefix: String, state: inout VerificationState
    ) {
        var seen: [Int: String] = [:]
        for shard in shards {
            if let other = seen[shard.index] {
                state.problem(prefix + shard.name, "same shard index as \(other)")
            }
            seen[shard.index] = shard.name
        }
        let last = shards.last!.index
        let missing = (0...last).filter { seen[$0] == nil }
        for index in missing.prefix(20) {
            state.problem(prefix + ShardSchema.fileName(split: split, index: index),
                          "missing: split \"\(split)\" has shards up to "
                          + "\(ShardSchema.fileName(split: split, index: last)) but not this one")
        }
        if missing.count > 20 {
            state.problem(prefix + split, "\(missing.count - 20) more missing shards of split \"\(split)\"")
        }
    }
}
