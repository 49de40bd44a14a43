import Foundation

/// One part of a partitioned preprocessing run: part `index` of `count` (1-based, `--part 3/4`). A file belongs to
/// the part picked by a stable hash of its path relative to the corpus root (``ContentHash`` of the UTF-8 bytes,
/// modulo `count`), so every node of a cluster agrees on the split of the work without talking to the others, and
/// the same file stays in the same part from run to run.
public struct Partition: Sendable, Codable, Equatable, Hashable, CustomStringConvertible {
    /// 1...count.
    public let index: Int
    public let count: Int

    public init(index: Int, count: Int) throws(PipelineError) {
        guard count >= 1, (1...count).contains(index) else {
            throw PipelineError(path: nil, reason: "part \(index)/\(count): expected K/N with 1 <= K <= N")
        }
        self.index = index
        self.count = count
    }

    /// Parses `K/N` (`3/4`).
    public init(parsing text: String) throws(PipelineError) {
        let fields = text.split(separator: "/", omittingEmptySubsequences: false)
        guard fields.count == 2, let k = Int(fields[0]), let n = Int(fields[1]) else {
            throw PipelineError(path: nil, reason: "--part '\(text)': expected K/N, e.g. 3/4")
        }
        try self.init(index: k, count: n)
    }

    public var description: String { "\(index)/\(count)" }

    /// The part's own folder under the output folder: `parts/part-K-of-N`.
    public var folderName: String { "part-\(index)-of-\(count)" }

    /// The part (1...count) that the file at `relativePath` belongs to.
    public static func part(of relativePath: String, count: Int) -> Int {
        Int(ContentHash(bytes: relativePath.utf8).value % UInt64(count)) + 1
    }

    /// Whether the file (or folder) at `relativePath` belongs to this part.
    public func contains(_ relativePath: String) -> Bool { Self.part(of: relativePath, count: count) == index }

    /// The part a run is for, from `--part`: `K/N`; `none` (a whole run, whatever the environment says); or, when
    /// not given, what the scheduler's environment says (``fromEnvironment(_:)``), nil for a whole run.
    public static func resolve(option: String?, environment: [String: String]) throws(PipelineError) -> Partition? {
        switch option {
        case "none": return nil
        case let text?: return try Partition(parsing: text)
        case nil: return try fromEnvironment(environment)
        }
    }

    /// The part a scheduler assigned to this process, from its environment, or nil when none did:
    /// - Slurm array jobs: `SLURM_ARRAY_TASK_ID`, `SLURM_ARRAY_TASK_COUNT` and `SLURM_ARRAY_TASK_MIN`
    ///   (`--array=0-3` and `--array=1-4` both give parts 1/4…4/4; the array must be whole, with step 1: an array
    ///   that starts elsewhere is refused, since `--array=3-4` would otherwise be read as parts 1/2 and 2/2);
    /// - Kubernetes Indexed Jobs: `JOB_COMPLETION_INDEX` (0-based) with `JOB_COMPLETIONS`, the Job's
    ///   `completions`, which the manifest sets (Kubernetes does not).
    public static func fromEnvironment(_ environment: [String: String]) throws(PipelineError) -> Partition? {
        func number(_ name: String) throws(PipelineError) -> Int? {
            guard let text = environment[name] else { return nil }
            guard let n = Int(text.trimmingCharacters(in: .whitespaces)) else {
                throw PipelineError(path: nil, reason: "environment variable \(name)='\(text)' is not a whole number")
            }
            return n
        }
        if let id = try number("SLURM_ARRAY_TASK_ID") {
            guard let count = try number("SLURM_ARRAY_TASK_COUNT") else {
                throw PipelineError(path: nil, reason: "SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not")
            }
            if let step = try number("SLURM_ARRAY_TASK_STEP"), step != 1 {
                throw PipelineError(
                    path: nil, reason: "Slurm array step \(step): submit the array as --array=1-N (step 1), or pass --part K/N")
            }
            let first = try number("SLURM_ARRAY_TASK_MIN") ?? 0
            // An array of some parts only (`--array=3-4`, a rerun) would silently be parts 1/2 and 2/2 of
            // another split: only whole arrays name their parts.
            guard first == 0 || first == 1 else {
                throw PipelineError(
                    path: nil,
                    reason: "Slurm array starts at task \(first): only a whole array (--array=1-N or 0-(N-1)) names "
                        + "its parts; to run part K of N again, pass --part K/N")
            }
            do {
                return try Partition(index: id - first + 1, count: count)
            } catch {
                throw PipelineError(
                    path: nil,
                    reason: "Slurm array task \(id) of \(count) starting at \(first) is not a part 1…\(count): submit --array=1-N")
            }
        }
        if let index = try number("JOB_COMPLETION_INDEX") {
            guard let count = try number("JOB_COMPLETIONS") else {
                throw PipelineError(
                    path: nil, reason: "JOB_COMPLETION_INDEX is set but JOB_COMPLETIONS is not: set it to the Job's completions")
            }
            do {
                return try Partition(index: index + 1, count: count)
            } catch {
                throw PipelineError(path: nil, reason: "JOB_COMPLETION_INDEX=\(index) is outside 0..<JOB_COMPLETIONS=\(count)")
            }
        }
        return nil
    }
}
