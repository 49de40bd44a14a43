import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `genre predict --csv OUT.csv`: one row per input, in input order, under the header
/// `path,top1,p1,top2,p2,top3,p3,seconds,error`.
///
/// A predicted file has its three likeliest classes (tags for a tagging network) with their probabilities (6
/// decimals), the cells of missing ranks empty when the checkpoint has fewer than 3 classes, its duration in
/// seconds (3 decimals) and an empty `error`. A file that could not be predicted (missing, undecodable) has empty
/// class, probability and duration cells and its one-line reason in `error`. Fields holding a comma, a double quote
/// or a line break are quoted as RFC 4180 says (`"` doubled); lines end with `\n`; UTF-8.
public enum PredictionCSV {
    public static let header = "path,top1,p1,top2,p2,top3,p3,seconds,error"
    /// Classes per row.
    public static let ranks = 3

    /// The row of one outcome (no line end). `classes`: the checkpoint's class names.
    public static func row(for outcome: PredictionOutcome, classes: [String]) -> String {
        var fields = [outcome.path]
        switch outcome {
        case .predicted(let prediction):
            let top = prediction.top(ranks, classes: classes)
            for rank in 0..<ranks {
                if rank < top.count {
                    fields += [top[rank].0, String(format: "%.6f", top[rank].1)]
                } else {
                    fields += ["", ""]
                }
            }
            fields += [String(format: "%.3f", prediction.seconds), ""]
        case .failed(_, let reason):
            fields += [String](repeating: "", count: 2 * ranks + 1) + [reason]
        }
        return fields.map(field).joined(separator: ",")
    }

    /// `text` as one CSV field: quoted (inner quotes doubled) when it holds a comma, a quote or a line break.
    public static func field(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) else {
            return text
        }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// A text file written line by line under a temporary name beside its destination (`.<name>.tmp-<pid>`) and
/// renamed over the destination by ``commit()``, so that a reader sees the previous file or the complete new
/// one, never a part. Dropped without a commit, the temporary file is removed.
final class AtomicTextFile {
    let path: String
    let temporaryPath: String
    private var stream: UnsafeMutablePointer<FILE>?

    /// Creates the temporary file. Throws `.io` naming `path` when it cannot be created (a missing folder,
    /// no permission).
    init(path: String) throws(TrainingError) {
        self.path = path
        let url = URL(fileURLWithPath: path)
        temporaryPath = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())").path
        guard let stream = fopen(temporaryPath, "w") else {
            throw .io(path: path, reason: "cannot create the file (\(String(cString: strerror(errno))))")
        }
        self.stream = stream
    }

    /// Appends `line` and a line end.
    func write(line: String) throws(TrainingError) {
        guard let stream else { return }
        let bytes = Array((line + "\n").utf8)
        if fwrite(bytes, 1, bytes.count, stream) != bytes.count {
            throw .io(path: path, reason: "cannot write (\(String(cString: strerror(errno))))")
        }
    }

    /// Flushes, closes and renames the temporary file over `path`.
    func commit() throws(TrainingError) {
        guard let stream else { return }
        self.stream = nil
        let flushed = fflush(stream) == 0 && fsync(fileno(stream)) == 0
        let failure = errno
        if fclose(stream) != 0 || !flushed {
            unlink(temporaryPath)
            throw .io(path: path, reason: "cannot write (\(String(cString: strerror(flushed ? errno : failure))))")
        }
        if rename(temporaryPath, path) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(temporaryPath)
            throw .io(path: path, reason: "cannot rename the finished file into place (\(reason))")
        }
    }

    deinit {
        if let stream {
            fclose(stream)
            unlink(temporaryPath)
        }
    }
}
