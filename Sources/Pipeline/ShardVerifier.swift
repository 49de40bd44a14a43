import Foundation
import HDF5Store
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

/// Checks a shard folder before a long training job (`genre verify DIR`), reporting every problem rather than the
/// first:
///
/// - per shard: schema version; every attribute and dataset present with the right type; shapes (`/mel`
///   `[clips, n_mels, frames]` against `/label`, `/path`, `/padded`, `/seconds` and the `clips`, `n_mels`,
///   `frames` attributes; `/norm/*` `[n_mels]`); the `split` attribute against the file name; labels inside the
///   classes; no NaN or infinity in `/mel`, `/norm/*` or `/seconds`; norm std > 0; the stored checksum against the
///   one recomputed over the data (`ShardChecksum`); a file smaller than its uncompressed features;
/// - across shards: classes, `n_mels`, `frames`, normalisation, every pipeline parameter and the configuration
///   equal in all shards (the first shard that differs and the key are named); a clip path stored twice (in two
///   splits: leakage between training and evaluation); shard indices of each split contiguous from `00000`;
/// - warnings: temporary files of unfinished writers (`.<name>.partial-…`), shards without a checksum.
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
        // Contiguous indices from 00000, no index twice.
        for split in bySplit.keys.sorted() {
            let shards = bySplit[split]!.sorted { ($0.index, $0.name) < ($1.index, $1.name) }
            bySplit[split] = shards
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
        // Shards in a fixed order: train first (the reference the others are compared with), then the others.
        let order = ["train", "valid", "test"].filter { bySplit[$0] != nil }
            + bySplit.keys.sorted().filter { !["train", "valid", "test"].contains($0) }
        for split in order {
            for shard in bySplit[split]! {
                state.shards += 1
                verifyShard(path: prefix + shard.name, fileSplit: split, checksums: checksums, state: &state)
            }
        }
        return ShardVerification(directory: directory, shards: state.shards, clips: state.clips,
                                 problems: state.problems, warnings: state.warnings)
    }

    /// What the verification has collected so far, and the first shard's description for comparisons.
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
        var parameters: [String: AttributeValue]
    }

    /// Values per `/mel` batch read while scanning (about 8 MB).
    static let scanBatchBytes = 8 << 20

    static func verifyShard(path: String, fileSplit: String, checksums: Bool, state: inout VerificationState) {
        do throws(HDF5Error) {
            try HDF5Integrity.checkGlobalHeaps(path: path)
        } catch {
            // HDF5 1.10 would crash on this file (see `HDF5Integrity`): do not open it.
            state.problem(path, "damaged HDF5 structure: \(error.message)")
            return
        }
        do throws(HDF5Error) {
            let file = try HDF5File(openingForReading: path)
            verifyOpenShard(file, path: path, fileSplit: fileSplit, checksums: checksums, state: &state)
        } catch {
            state.problem(path, "cannot open as HDF5 (truncated or not a shard?): \(reason(error))")
        }
    }

    static func verifyOpenShard(
        _ file: borrowing HDF5File, path: String, fileSplit: String, checksums: Bool, state: inout VerificationState
    ) {
        let attributes: [String: AttributeValue]
        do {
            attributes = try file.attributes()
        } catch {
            state.problem(path, "cannot read the attributes: \(reason(error))")
            return
        }
        switch attributes[ShardSchema.schemaAttribute] {
        case .string(ShardSchema.version)?: break
        case let found?:
            state.problem(path, "schema is \(found), expected \"\(ShardSchema.version)\"")
            return
        case nil:
            state.problem(path, "not a GenreKit shard (no \"\(ShardSchema.schemaAttribute)\" attribute)")
            return
        }
        func required<T>(_ name: String, _ kind: String, _ extract: (AttributeValue) -> T?) -> T? {
            guard let value = attributes[name] else {
                state.problem(path, "attribute \"\(name)\" is missing")
                return nil
            }
            guard let extracted = extract(value) else {
                state.problem(path, "attribute \"\(name)\" should be \(kind), found \(abbreviated(value.description))")
                return nil
            }
            return extracted
        }
        let classes = required(ShardSchema.classesAttribute, "strings", \.stringsValue)
        let split = required(ShardSchema.splitAttribute, "a string", \.stringValue)
        var nMels = required(ShardSchema.nMelsAttribute, "an integer", \.intValue)
        var frames = required(ShardSchema.framesAttribute, "an integer", \.intValue)
        var clips = required(ShardSchema.clipsAttribute, "an integer", \.intValue)
        let configuration = required(ShardSchema.configurationAttribute, "a string", \.stringValue)
        if let split, split != fileSplit {
            state.problem(path, "split attribute is \"\(split)\" but the file name says \"\(fileSplit)\"")
        }
        if let classes {
            if classes.isEmpty { state.problem(path, "no classes") }
            if Set(classes).count != classes.count { state.problem(path, "duplicate class names in \(classes)") }
        }
        if let value = nMels, value <= 0 { state.problem(path, "n_mels is \(value)"); nMels = nil }
        if let value = frames, value <= 0 { state.problem(path, "frames is \(value)"); frames = nil }
        if let value = clips, value < 0 { state.problem(path, "clips is \(value)"); clips = nil }
        if let nMels, let frames, nMels.multipliedReportingOverflow(by: frames).overflow {
            state.problem(path, "clip shape [\(nMels), \(frames)] is too large")
            return
        }

        // Checksum attributes.
        let storedChecksum = attributes[ShardSchema.checksumAttribute]
        let storedAlgorithm = attributes[ShardSchema.checksumAlgorithmAttribute]
        var expectedChecksum: String?
        switch (storedChecksum, storedAlgorithm) {
        case (nil, nil):
            state.warn(path, "no checksum (written before checksums existed): its data cannot be checked")
        case (.string(let checksum)?, .string(ShardChecksum.algorithm)?):
            expectedChecksum = checksum
        case (.string?, .string(let algorithm)?):
            state.warn(path, "checksum algorithm \"\(algorithm)\" is unknown to this version: not checked")
        case (nil, _?):
            state.problem(path, "attribute \"\(ShardSchema.checksumAlgorithmAttribute)\" without \"\(ShardSchema.checksumAttribute)\"")
        case (_?, nil):
            state.problem(path, "attribute \"\(ShardSchema.checksumAttribute)\" without \"\(ShardSchema.checksumAlgorithmAttribute)\"")
        default:
            state.problem(path, "checksum attributes should be strings")
        }

        // Datasets: presence, type, shape.
        func dataset(
            _ file: borrowing HDF5File, _ name: String, _ type: HDF5ElementType, _ shape: [Int?]
        ) -> HDF5DatasetInfo? {
            let info: HDF5DatasetInfo
            do {
                guard try file.contains(name) else {
                    state.problem(path, "dataset \"\(name)\" is missing")
                    return nil
                }
                info = try file.datasetInfo(name)
            } catch {
                state.problem(path, "cannot open dataset \"\(name)\": \(reason(error))")
                return nil
            }
            guard info.elementType == type else {
                state.problem(path, "dataset \"\(name)\" holds \(info.elementType?.description ?? "an unsupported type"), not \(type)")
                return nil
            }
            let matches = info.shape.count == shape.count
                && zip(info.shape, shape).allSatisfy { found, expected in expected.map { $0 == found } ?? true }
            guard matches else {
                let expected = "[" + shape.map { $0.map(String.init) ?? "?" }.joined(separator: ", ") + "]"
                state.problem(path, "dataset \"\(name)\" has shape \(info.shape), expected \(expected) "
                              + "(clips \(clips.map(String.init) ?? "?"), n_mels \(nMels.map(String.init) ?? "?"), "
                              + "frames \(frames.map(String.init) ?? "?"))")
                return nil
            }
            return info
        }
        let melInfo = dataset(file, ShardSchema.melDataset, .float32, [clips, nMels, frames])
        let hasLabels = dataset(file, ShardSchema.labelDataset, .int32, [clips]) != nil
        let hasPaths = dataset(file, ShardSchema.pathDataset, .string, [clips]) != nil
        let hasPadded = dataset(file, ShardSchema.paddedDataset, .uint8, [clips]) != nil
        let hasSeconds = dataset(file, ShardSchema.secondsDataset, .float32, [clips]) != nil
        let hasMean = dataset(file, ShardSchema.normMeanDataset, .float32, [nMels]) != nil
        let hasStd = dataset(file, ShardSchema.normStdDataset, .float32, [nMels]) != nil

        // Per-clip arrays and the normalisation.
        func read<T>(
            _ file: borrowing HDF5File, _ name: String, _ present: Bool,
            _ body: (borrowing HDF5File) throws(HDF5Error) -> T
        ) -> T? {
            guard present else { return nil }
            do {
                return try body(file)
            } catch {
                state.problem(path, "cannot read dataset \"\(name)\": \(reason(error))")
                return nil
            }
        }
        let labels = read(file, ShardSchema.labelDataset, hasLabels) { (file: borrowing HDF5File) throws(HDF5Error) in
            try file.readInt32s(ShardSchema.labelDataset).values
        }
        let paths = read(file, ShardSchema.pathDataset, hasPaths) { (file: borrowing HDF5File) throws(HDF5Error) in
            try file.readStrings(ShardSchema.pathDataset)
        }
        let padded = read(file, ShardSchema.paddedDataset, hasPadded) { (file: borrowing HDF5File) throws(HDF5Error) in
            try file.readUInt8s(ShardSchema.paddedDataset).values
        }
        let seconds = read(file, ShardSchema.secondsDataset, hasSeconds) { (file: borrowing HDF5File) throws(HDF5Error) in
            try file.readFloats(ShardSchema.secondsDataset).values
        }
        let mean = read(file, ShardSchema.normMeanDataset, hasMean) { (file: borrowing HDF5File) throws(HDF5Error) in
            try file.readFloats(ShardSchema.normMeanDataset).values
        }
        let std = read(file, ShardSchema.normStdDataset, hasStd) { (file: borrowing HDF5File) throws(HDF5Error) in
            try file.readFloats(ShardSchema.normStdDataset).values
        }
        if let labels, let classes {
            let outside = labels.indices.filter { labels[$0] < 0 || Int(labels[$0]) >= classes.count }
            if let first = outside.first {
                state.problem(path, "\(outside.count) label(s) outside the \(classes.count) classes (clip \(first) "
                              + "has label \(labels[first]))")
            }
        }
        if let padded, let bad = padded.firstIndex(where: { $0 > 1 }) {
            state.problem(path, "padded flag of clip \(bad) is \(padded[bad]) (must be 0 or 1)")
        }
        if let seconds, let bad = seconds.firstIndex(where: { !$0.isFinite || $0 < 0 }) {
            state.problem(path, "duration of clip \(bad) is \(seconds[bad]) s")
        }
        if let mean, let bad = mean.firstIndex(where: { !$0.isFinite }) {
            state.problem(path, "norm/mean of band \(bad) is \(mean[bad])")
        }
        if let std, let bad = std.firstIndex(where: { !($0.isFinite && $0 > 0) }) {
            state.problem(path, "norm/std of band \(bad) is \(std[bad]) (must be finite and > 0)")
        }
        if let paths {
            for (clip, clipPath) in paths.enumerated() {
                if let first = state.clipPaths[clipPath] {
                    let what = first.split == fileSplit
                        ? "duplicate clip" : "leakage: the clip is in splits \"\(first.split)\" and \"\(fileSplit)\""
                    state.problem(path, "\(what): clip \(clip) \(clipPath.debugDescription) is also clip "
                                  + "\(first.clip) of \(first.file)")
                } else {
                    state.clipPaths[clipPath] = (path, fileSplit, clip)
                }
            }
        }

        // The features: finite values and the checksum, read in batches.
        if let melInfo, let clips, let nMels, let frames {
            state.clips += clips
            let elements = nMels * frames
            let (bytes, overflow) = clips.multipliedReportingOverflow(by: elements * MemoryLayout<Float>.stride)
            let fileSize = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
            if melInfo.compression == .none, let fileSize, overflow || bytes > fileSize {
                state.problem(path, "the file (\(fileSize) bytes) is smaller than its features (\(clips) clips of "
                              + "[\(nMels), \(frames)] float32): truncated")
            } else if checksums {
                scanFeatures(file: file, path: path, clips: clips, elements: elements,
                             tail: (labels, paths, padded, seconds), expectedChecksum: expectedChecksum,
                             state: &state)
            }
        }

        // Consistency with the first shard.
        let description = SharedDescription(
            classes: classes, nMels: nMels, frames: frames, normMean: mean, normStd: std, configuration: configuration,
            parameters: attributes.filter { !ShardSchema.reservedAttributes.contains($0.key) })
        guard let (referencePath, reference) = state.reference else {
            state.reference = (path, description)
            return
        }
        func compare<T: Equatable>(_ key: String, _ mine: T?, _ theirs: T?, show: (T) -> String) {
            guard let mine, let theirs, mine != theirs else { return }
            state.problem(path, "\(key) differs from \(referencePath): \(abbreviated(show(mine))) here, "
                          + "\(abbreviated(show(theirs))) there")
        }
        compare("classes", classes, reference.classes) { "\($0)" }
        compare("n_mels", nMels, reference.nMels) { "\($0)" }
        compare("frames", frames, reference.frames) { "\($0)" }
        compare("norm/mean", mean, reference.normMean) { firstDifference($0, reference.normMean!) }
        compare("norm/std", std, reference.normStd) { firstDifference($0, reference.normStd!) }
        compare("configuration", configuration, reference.configuration) { $0 }
        for key in Set(description.parameters.keys).union(reference.parameters.keys).sorted() {
            switch (description.parameters[key], reference.parameters[key]) {
            case (let mine?, let theirs?) where mine != theirs:
                state.problem(path, "parameter \"\(key)\" differs from \(referencePath): "
                              + "\(abbreviated(mine.description)) here, \(abbreviated(theirs.description)) there")
            case (nil, _?):
                state.problem(path, "parameter \"\(key)\" is missing (\(referencePath) has it)")
            case (_?, nil):
                state.problem(path, "parameter \"\(key)\" is not in \(referencePath)")
            default: break
            }
        }
    }

    /// Reads `/mel` in batches: counts the values that are not finite and recomputes the checksum.
    static func scanFeatures(
        file: borrowing HDF5File, path: String, clips: Int, elements: Int,
        tail: (labels: [Int32]?, paths: [String]?, padded: [UInt8]?, seconds: [Float]?), expectedChecksum: String?,
        state: inout VerificationState
    ) {
        var hasher = ShardChecksum()
        var nonFinite = 0, firstNonFinite: (clip: Int, value: Float)?
        let batch = max(1, min(clips, scanBatchBytes / max(1, elements * MemoryLayout<Float>.stride)))
        let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(1, batch * elements))
        defer { buffer.deallocate() }
        do throws(HDF5Error) {
            let dataset = try file.openDataset(ShardSchema.melDataset)
            var first = 0
            while first < clips {
                let count = min(batch, clips - first)
                let part = UnsafeMutableBufferPointer(rebasing: buffer[0..<(count * elements)])
                do throws(HDF5Error) {
                    try dataset.readRows(at: first, into: part)
                } catch {
                    state.problem(path, "cannot read clips \(first)..<\(first + count) of \"mel\": \(reason(error))")
                    return
                }
                hasher.update(UnsafeBufferPointer(part))
                for index in part.indices where !part[index].isFinite {
                    nonFinite += 1
                    if firstNonFinite == nil { firstNonFinite = (first + index / elements, part[index]) }
                }
                first += count
            }
        } catch {
            state.problem(path, "cannot open dataset \"mel\": \(reason(error))")
            return
        }
        if let firstNonFinite {
            state.problem(path, "\(nonFinite) value(s) of \"mel\" are not finite (clip \(firstNonFinite.clip) "
                          + "holds \(firstNonFinite.value))")
        }
        guard let expectedChecksum, let labels = tail.labels, let paths = tail.paths, let padded = tail.padded,
              let seconds = tail.seconds
        else { return }
        hasher.update(labels)
        hasher.update(strings: paths)
        hasher.update(padded)
        hasher.update(seconds)
        let computed = hasher.hexDigest
        if computed != expectedChecksum {
            state.problem(path, "checksum mismatch: stored \(abbreviated(expectedChecksum)), computed \(computed) "
                          + "(the data changed after the shard was written)")
        }
    }

    /// The first index where two arrays differ, for one-line messages.
    static func firstDifference(_ values: [Float], _ other: [Float]) -> String {
        guard values.count == other.count else { return "\(values.count) values" }
        guard let index = values.indices.first(where: { values[$0] != other[$0] && !(values[$0].isNaN && other[$0].isNaN) })
        else { return "equal" }
        return "[\(index)] = \(values[index])"
    }

    /// An HDF5 failure without the file name (the finding names it already).
    static func reason(_ error: HDF5Error) -> String {
        "\(error.function)\(error.object.map { " '\($0)'" } ?? ""): \(error.message)"
    }

    /// `text` on one line, cut to 120 characters.
    static func abbreviated(_ text: String) -> String {
        let line = text.replacingOccurrences(of: "\n", with: " ")
        return line.count <= 120 ? line : String(line.prefix(117)) + "..."
    }
}
