import Foundation
import Shards

/// Removes shards of an earlier run in the same folder that this run did not write again (a run with fewer clips
/// per split, or another shard size), so the folder holds exactly this run's shards.
enum StaleShardCleaner {
    /// Deletes every committed shard in `output` whose file name is not in `kept`.
    static func removeShards(in output: String, except kept: Set<String>) {
        guard let listing = try? ShardDirectory.list(output) else { return }
        for path in listing.values.flatMap({ $0 }) where !kept.contains((path as NSString).lastPathComponent) {
            try? FileManager.default.removeItem(atPath: path)
        }
    }
}
