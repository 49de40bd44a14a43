import Foundation

/// The files a prediction run reads: the `PATH…` arguments of `genre predict` (and `genre tags`) expanded.
///
/// - A file argument is kept as given, whatever its extension (it was named on purpose).
/// - A folder argument is searched recursively for files whose extension is one of `extensions` (compared in any
///   case; the list the pipeline's scanner uses, `[audio] extensions` of the checkpoint's pipeline configuration).
///   Its files are sorted by the UTF-8 bytes of their paths (what Python's `sorted` gives) and named
///   `<argument>/<relative path>`. Names starting with `.` are skipped (hidden files, macOS `._` companions) and
///   symbolic links to folders are not followed (no loops); symbolic links to files are.
/// - Arguments keep their order. A file reached twice (named twice, or named and inside a named folder, or
///   spelled `a/./b.wav` and `a/b.wav`) is kept once, where it first appears.
/// - A path that gives no file is an ``Entry/unusable(path:reason:)`` entry in its place, with the reason: it does
///   not exist, a folder cannot be listed, or a folder holds no audio file.
public struct PredictionInputs: Sendable, Equatable {
    /// One input of the run.
    public enum Entry: Sendable, Equatable {
        /// An audio file to predict.
        case file(String)
        /// A path that gives no file to predict, and why (one line).
        case unusable(path: String, reason: String)

        /// The path as the user will read it in the results.
        public var path: String {
            switch self {
            case .file(let path), .unusable(let path, _): path
            }
        }
    }

    /// The inputs in the order their results are reported.
    public var entries: [Entry]

    public init(entries: [Entry]) { self.entries = entries }

    /// Expands `arguments` (files or folders) as the type's documentation describes.
    public init(arguments: [String], extensions: [String]) {
        let wanted = Set(extensions.map { $0.lowercased() })
        var seen = Set<String>()
        var entries: [Entry] = []
        func add(_ entry: Entry) {
            let key: String
            switch entry {
            case .file(let path): key = "file:" + URL(fileURLWithPath: path).standardizedFileURL.path
            case .unusable(let path, _): key = "unusable:" + path
            }
            if seen.insert(key).inserted { entries.append(entry) }
        }
        let fm = FileManager.default
        for argument in arguments {
            var isFolder: ObjCBool = false
            guard fm.fileExists(atPath: argument, isDirectory: &isFolder) else {
                add(.unusable(path: argument, reason: Self.missingReason(argument)))
                continue
            }
            guard isFolder.boolValue else {
                add(.file(argument))
                continue
            }
            var root = argument
            while root.count > 1, root.hasSuffix("/") { root.removeLast() }
            var files: [String] = []
            var problems: [Entry] = []
            Self.walk(root, relative: "", depth: 0, extensions: wanted, files: &files, problems: &problems)
            files.sort { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            if files.isEmpty && problems.isEmpty {
                add(.unusable(path: argument, reason: "the folder holds no audio file (extensions "
                    + extensions.joined(separator: ", ") + ")"))
            }
            for problem in problems { add(problem) }
            for file in files { add(.file(root == "/" ? "/" + file : root + "/" + file)) }
        }
        self.entries = entries
    }

    /// Depth-first walk of a folder: collects the audio files' paths relative to the argument.
    private static func walk(
        _ folder: String, relative: String, depth: Int, extensions: Set<String>, files: inout [String],
        problems: inout [Entry]
    ) {
        let fm = FileManager.default
        guard depth < 64 else {
            problems.append(.unusable(path: folder, reason: "folders nested too deep: not read"))
            return
        }
        let names: [String]
        do {
            names = try fm.contentsOfDirectory(atPath: folder)
        } catch {
            problems.append(.unusable(path: folder, reason: "cannot list the folder (\(Self.reason(error)))"))
            return
        }
        for name in names.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) where !name.hasPrefix(".") {
            let full = folder + "/" + name, rel = relative.isEmpty ? name : relative + "/" + name
            let type = (try? fm.attributesOfItem(atPath: full)[.type] as? FileAttributeType) ?? nil
            if type == .typeDirectory {
                walk(full, relative: rel, depth: depth + 1, extensions: extensions, files: &files, problems: &problems)
                continue
            }
            guard let dot = name.lastIndex(of: "."), dot != name.startIndex,
                  extensions.contains(name[name.index(after: dot)...].lowercased())
            else { continue }
            if type == .typeSymbolicLink {
                var isFolder: ObjCBool = false
                // A link to a folder is not followed; a dangling link is kept (reading it gives the reason).
                if fm.fileExists(atPath: full, isDirectory: &isFolder), isFolder.boolValue { continue }
                files.append(rel)
            } else if type == .typeRegular {
                files.append(rel)
            } else {
                problems.append(.unusable(path: full, reason: "not a regular file"))
            }
        }
    }

    /// Why a path given on the command line cannot be read: missing, or a link that leads nowhere.
    private static func missingReason(_ path: String) -> String {
        if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: path) {
            return "dangling symbolic link: its target '\(target)' does not exist"
        }
        return "no such file or folder"
    }

    private static func reason(_ error: any Error) -> String {
        (error as NSError).localizedFailureReason ?? (error as NSError).localizedDescription
    }
}
