import Foundation

/// Finding the committed shards in a folder.
public enum ShardDirectory {
    /// The committed shards directly inside `directory`, by split, each list sorted by shard index:
    /// `["train": ["<dir>/train-00000.h5", "<dir>/train-00001.h5"], "test": [...]]`. Only names of the form
    /// `<split>-<NNNNN>.h5` count: temporary files of unfinished writers (`.…partial-…`), other files and
    /// sub-directories are ignored. Paths are `directory + "/" + name`.
    public static func list(_ directory: String) throws(ShardError) -> [String: [String]] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) else {
            throw .io(path: directory, reason: "no such directory")
        }
        guard isDirectory.boolValue else { throw .io(path: directory, reason: "not a directory") }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw .io(path: directory, reason: "cannot list the directory: \(error.localizedDescription)")
        }
        let prefix = directory.hasSuffix("/") ? directory : directory + "/"
        var found: [String: [(index: Int, path: String)]] = [:]
        for name in names {
            guard let (split, index) = ShardSchema.parseFileName(name) else { continue }
            var isSubdirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: prefix + name, isDirectory: &isSubdirectory),
                  !isSubdirectory.boolValue
            else { continue }
            found[split, default: []].append((index, prefix + name))
        }
        return found.mapValues { shards in
            shards.sorted { ($0.index, $0.path) < ($1.index, $1.path) }.map(\.path)
        }
    }
}
