import Shards

/// One thing `ShardVerifier` found: a file and what is wrong with it, printed as one line `"<file>: <message>"`.
public struct ShardFinding: Sendable, Equatable, CustomStringConvertible {
    /// The shard (or temporary/missing file) concerned, as a path under the verified folder.
    public var file: String
    /// What is wrong, in one line.
    public var message: String

    public init(file: String, message: String) {
        self.file = file
        self.message = message
    }

    public var description: String { "\(file): \(message)" }
}

/// What `ShardVerifier.verify(directory:)` found in a shard folder: every problem (a shard training must not use)
/// and every warning (something to look at that does not make the folder unusable), in the order found.
public struct ShardVerification: Sendable {
    /// The folder verified.
    public var directory: String
    /// Committed shards found (`<split>-NNNNN.h5`).
    public var shards: Int
    /// Clips in the shards that could be read.
    public var clips: Int
    /// Everything that makes the folder unfit for training, one line each.
    public var problems: [ShardFinding]
    /// Things worth knowing that do not make the folder unusable (left-over temporary files, shards without a
    /// checksum).
    public var warnings: [ShardFinding]

    /// Whether no problem was found (warnings allowed).
    public var isClean: Bool { problems.isEmpty }

    /// `"verified 12 shards, 3000 clips: OK"`, or with the numbers of problems and warnings.
    public var summary: String {
        var text = "verified \(shards) shard\(shards == 1 ? "" : "s"), \(clips) clip\(clips == 1 ? "" : "s"): "
        if problems.isEmpty {
            text += "OK"
        } else {
            text += "\(problems.count) problem\(problems.count == 1 ? "" : "s")"
        }
        if !warnings.isEmpty { text += " (\(warnings.count) warning\(warnings.count == 1 ? "" : "s"))" }
        return text
    }

    /// Every problem (`"error: <file>: ..."`), every warning (`"warning: <file>: ..."`) and the summary, one per line.
    public var text: String {
        (problems.map { "error: \($0)" } + warnings.map { "warning: \($0)" } + [summary]).joined(separator: "\n")
    }
}

/// What a verification has collected so far, and what every shard is compared with.
struct VerificationState {
    var shards = 0
    var clips = 0
    var problems: [ShardFinding] = []
    var warnings: [ShardFinding] = []
    /// The first shard read: its path and what every other shard must equal.
    var reference: (path: String, description: SharedDescription)?
    /// Every clip path seen: the shard, split and clip index where it was first stored.
    var clipPaths: [String: (file: String, split: String, clip: Int)] = [:]

    mutating func problem(_ file: String, _ message: String) {
        problems.append(ShardFinding(file: file, message: message))
    }

    mutating func warn(_ file: String, _ message: String) {
        warnings.append(ShardFinding(file: file, message: message))
    }
}

/// The part of a shard that every shard of a folder must share.
struct SharedDescription {
    var classes: [String]?
    var nMels: Int?
    var frames: Int?
    var normMean: [Float]?
    var normStd: [Float]?
    var configuration: String?
    var parameters: [String: ShardParameter]
}
