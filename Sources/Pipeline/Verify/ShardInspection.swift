import Foundation
import Shards

/// `genre inspect`: what a shard folder holds — schema, parameters, classes, clips per class and split — read
/// through the shard reader, so every file is also validated.
public struct ShardInspection: Sendable {
    public var directory: String
    public var schema: String
    public var classes: [String]
    public var parameters: [String: ShardParameter]
    public var nMels: Int
    public var frames: Int
    /// Clips per split and class index.
    public var counts: [String: [Int]]
    public var files: [String: Int]
    public var padded: Int

    public static func inspect(directory: String) throws(PipelineError) -> ShardInspection {
        let listing: [String: [String]]
        do {
            listing = try ShardDirectory.list(directory)
        } catch {
            throw PipelineError(error, path: directory)
        }
        guard !listing.isEmpty else { throw PipelineError(path: directory, reason: "no shards (<split>-NNNNN.h5) in this folder") }
        var result: ShardInspection? = nil
        for split in listing.keys.sorted() {
            for path in listing[split]! {
                let reader: ShardReader
                do {
                    reader = try ShardReader(path: path)
                } catch {
                    throw PipelineError(error, path: path)
                }
                let m = reader.metadata
                if result == nil {
                    result = ShardInspection(
                        directory: directory, schema: ShardSchema.version, classes: m.classes, parameters: m.parameters,
                        nMels: m.nMels, frames: m.frames, counts: [:], files: [:], padded: 0)
                }
                guard m.classes == result!.classes, m.nMels == result!.nMels, m.frames == result!.frames,
                      m.parameters == result!.parameters else {
                    throw PipelineError(path: path, reason: "classes or parameters differ from the other shards in the folder")
                }
                var c = result!.counts[split] ?? [Int](repeating: 0, count: m.classes.count)
                for label in reader.labels where Int(label) >= 0 && Int(label) < c.count { c[Int(label)] += 1 }
                result!.counts[split] = c
                result!.files[split, default: 0] += 1
                result!.padded += reader.padded.filter { $0 }.count
            }
        }
        return result!
    }

    public var text: String {
        var lines: [String] = []
        lines.append("shards in \(directory): schema \(schema); mel [clips, \(nMels), \(frames)] float32")
        let p = parameters.keys.sorted().map { "\($0)=\(Self.show(parameters[$0]!))" }
        lines.append("parameters: " + p.joined(separator: " "))
        let splits = ["train", "valid", "test"].filter { counts[$0] != nil } + counts.keys.sorted().filter { !["train", "valid", "test"].contains($0) }
        let width = max(8, classes.map(\.count).max() ?? 0)
        lines.append("  " + "class".padding(toLength: width, withPad: " ", startingAt: 0)
                     + splits.map { $0.padding(toLength: 7, withPad: " ", startingAt: 0) }.map { "  " + $0 }.joined())
        for (k, name) in classes.enumerated() {
            lines.append("  " + name.padding(toLength: width, withPad: " ", startingAt: 0)
                         + splits.map { "  " + String(counts[$0]![k]).padding(toLength: 7, withPad: " ", startingAt: 0) }.joined())
        }
        lines.append("  " + "total".padding(toLength: width, withPad: " ", startingAt: 0)
                     + splits.map { "  " + String(counts[$0]!.reduce(0, +)).padding(toLength: 7, withPad: " ", startingAt: 0) }.joined())
        lines.append("files: " + splits.map { "\($0) \(files[$0]!)" }.joined(separator: ", ") + "; padded clips: \(padded)")
        return lines.joined(separator: "\n")
    }

    /// A parameter value as `genre inspect` prints it.
    public static func show(_ v: ShardParameter) -> String {
        switch v {
        case .string(let s): return s.contains(" ") ? "'\(s)'" : s
        case .int(let i): return "\(i)"
        case .double(let d): return d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : "\(d)"
        case .bool(let b): return "\(b)"
        default: return "\(v)"
        }
    }
}
