import Foundation
import Shards

/// The checks of one shard, one function each, run in order by ``run(state:)``; each records what it finds in the
/// verification state and hands on what later checks need.
struct ShardChecks {
    let path: String
    /// The split the file name says.
    let fileSplit: String
    /// Scan every value of `/mel` and recompute the checksum.
    let checksums: Bool

    /// Values per `/mel` batch read while scanning (about 8 MB).
    static let scanBatchBytes = 8 << 20

    /// The root attributes of the format, each nil when missing or of the wrong kind (reported).
    struct Header {
        var classes: [String]?
        var split: String?
        var nMels: Int?
        var frames: Int?
        var clips: Int?
        var configuration: String?
    }

    /// The per-clip arrays and the normalisation, each nil when missing or unreadable (reported).
    struct Arrays {
        var labels: [Int32]?
        var paths: [String]?
        var padded: [UInt8]?
        var seconds: [Float]?
        var mean: [Float]?
        var std: [Float]?
    }

    func run(state: inout VerificationState) {
        do {
            try RawShard.checkStructure(path: path)
        } catch {
            // HDF5 1.10 would crash on this file: do not open it.
            state.problem(path, "damaged HDF5 structure: \(Self.message(error))")
            return
        }
        let shard: RawShard
        do {
            shard = try RawShard(path: path)
        } catch {
            state.problem(path, "cannot open as HDF5 (truncated or not a shard?): \(Self.reason(error))")
            return
        }
        guard let attributes = schemaAttributes(shard, state: &state),
              let header = header(attributes, state: &state)
        else { return }
        let expectedChecksum = checksumAttributes(attributes, state: &state)
        let layouts = datasets(shard, header: header, state: &state)
        let arrays = readArrays(shard, present: layouts, state: &state)
        checkLabels(arrays.labels, classes: header.classes, state: &state)
        checkPerClipValues(arrays, state: &state)
        checkClipPaths(arrays.paths, state: &state)
        if let mel = layouts[ShardSchema.melDataset] {
            checkFeatures(shard, mel: mel, header: header, arrays: arrays, expectedChecksum: expectedChecksum, state: &state)
        }
        compareWithReference(header: header, arrays: arrays, attributes: attributes, state: &state)
    }

    /// Every root attribute, when the file is a shard of this schema.
    func schemaAttributes(_ shard: borrowing RawShard, state: inout VerificationState) -> [String: ShardParameter]? {
        let attributes: [String: ShardParameter]
        do {
            attributes = try shard.attributes()
        } catch {
            state.problem(path, "cannot read the attributes: \(Self.reason(error))")
            return nil
        }
        switch attributes[ShardSchema.schemaAttribute] {
        case .string(ShardSchema.version)?: return attributes
        case .string(let found)?:
            state.problem(path, ShardChecksum.describeUnsupported(schema: found) ?? "schema \"\(found)\"")
        case let found?:
            state.problem(path, "schema is \(found), expected \"\(ShardSchema.version)\"")
        case nil:
            state.problem(path, "not a GenreKit shard (no \"\(ShardSchema.schemaAttribute)\" attribute)")
        }
        return nil
    }

    /// The format's attributes: present, of their kind, plausible; the split against the file name. Nil when the
    /// clip shape is too large to read anything.
    func header(_ attributes: [String: ShardParameter], state: inout VerificationState) -> Header? {
        func required<T>(_ name: String, _ kind: String, _ extract: (ShardParameter) -> T?) -> T? {
            guard let value = attributes[name] else {
                state.problem(path, "attribute \"\(name)\" is missing")
                return nil
            }
            guard let extracted = extract(value) else {
                state.problem(path, "attribute \"\(name)\" should be \(kind), found \(Self.abbreviated(value.description))")
                return nil
            }
            return extracted
        }
        var header = Header(
            classes: required(ShardSchema.classesAttribute, "strings", \.stringsValue),
            split: required(ShardSchema.splitAttribute, "a string", \.stringValue),
            nMels: required(ShardSchema.nMelsAttribute, "an integer", \.intValue),
            frames: required(ShardSchema.framesAttribute, "an integer", \.intValue),
            clips: required(ShardSchema.clipsAttribute, "an integer", \.intValue),
            configuration: required(ShardSchema.configurationAttribute, "a string", \.stringValue))
        if let split = header.split, split != fileSplit {
            state.problem(path, "split attribute is \"\(split)\" but the file name says \"\(fileSplit)\"")
        }
        if let classes = header.classes {
            if classes.isEmpty { state.problem(path, "no classes") }
            if Set(classes).count != classes.count { state.problem(path, "duplicate class names in \(classes)") }
        }
        if let value = header.nMels, value <= 0 { state.problem(path, "n_mels is \(value)"); header.nMels = nil }
        if let value = header.frames, value <= 0 { state.problem(path, "frames is \(value)"); header.frames = nil }
        if let value = header.clips, value < 0 { state.problem(path, "clips is \(value)"); header.clips = nil }
        if let nMels = header.nMels, let frames = header.frames, nMels.multipliedReportingOverflow(by: frames).overflow {
            state.problem(path, "clip shape [\(nMels), \(frames)] is too large")
            return nil
        }
        return header
    }

    /// The stored checksum, when there is one of an algorithm this version knows.
    func checksumAttributes(_ attributes: [String: ShardParameter], state: inout VerificationState) -> String? {
        switch (attributes[ShardSchema.checksumAttribute], attributes[ShardSchema.checksumAlgorithmAttribute]) {
        case (nil, nil):
            state.warn(path, "no checksum (written before checksums existed): its data cannot be checked")
        case (.string(let checksum)?, .string(ShardChecksum.algorithm)?):
            return checksum
        case (.string?, .string(let algorithm)?):
            state.warn(path, "checksum algorithm \"\(algorithm)\" is unknown to this version: not checked")
        case (nil, _?):
            state.problem(path, "attribute \"\(ShardSchema.checksumAlgorithmAttribute)\" without \"\(ShardSchema.checksumAttribute)\"")
        case (_?, nil):
            state.problem(path, "attribute \"\(ShardSchema.checksumAttribute)\" without \"\(ShardSchema.checksumAlgorithmAttribute)\"")
        default:
            state.problem(path, "checksum attributes should be strings")
        }
        return nil
    }

    /// Every dataset of the format: present, of its element type and shape. The layouts of those that are.
    func datasets(_ shard: borrowing RawShard, header: Header, state: inout VerificationState) -> [String: ShardDatasetLayout] {
        var present: [String: ShardDatasetLayout] = [:]
        for dataset in ShardSchema.datasets(clips: header.clips, nMels: header.nMels, frames: header.frames) {
            let layout: ShardDatasetLayout
            do {
                guard let found = try shard.layout(of: dataset.name) else {
                    state.problem(path, "dataset \"\(dataset.name)\" is missing")
                    continue
                }
                layout = found
            } catch {
                state.problem(path, "cannot open dataset \"\(dataset.name)\": \(Self.reason(error))")
                continue
            }
            guard layout.elementType == dataset.elementType else {
                state.problem(path, "dataset \"\(dataset.name)\" holds \(layout.elementType?.description ?? "an unsupported type"), "
                              + "not \(dataset.elementType)")
                continue
            }
            let matches = layout.shape.count == dataset.shape.count
                && zip(layout.shape, dataset.shape).allSatisfy { found, expected in expected.map { $0 == found } ?? true }
            guard matches else {
                let expected = "[" + dataset.shape.map { $0.map(String.init) ?? "?" }.joined(separator: ", ") + "]"
                state.problem(path, "dataset \"\(dataset.name)\" has shape \(layout.shape), expected \(expected) "
                              + "(clips \(header.clips.map(String.init) ?? "?"), n_mels \(header.nMels.map(String.init) ?? "?"), "
                              + "frames \(header.frames.map(String.init) ?? "?"))")
                continue
            }
            present[dataset.name] = layout
        }
        return present
    }

    /// The per-clip arrays and the normalisation of the datasets that are `present`.
    func readArrays(_ shard: borrowing RawShard, present: [String: ShardDatasetLayout], state: inout VerificationState) -> Arrays {
        func read<T>(_ name: String, _ body: () throws(ShardError) -> T) -> T? {
            guard present[name] != nil else { return nil }
            do {
                return try body()
            } catch {
                state.problem(path, "cannot read dataset \"\(name)\": \(Self.reason(error))")
                return nil
            }
        }
        return Arrays(
            labels: read(ShardSchema.labelDataset) { () throws(ShardError) in try shard.labels() },
            paths: read(ShardSchema.pathDataset) { () throws(ShardError) in try shard.paths() },
            padded: read(ShardSchema.paddedDataset) { () throws(ShardError) in try shard.paddedBytes() },
            seconds: read(ShardSchema.secondsDataset) { () throws(ShardError) in try shard.floats(ShardSchema.secondsDataset) },
            mean: read(ShardSchema.normMeanDataset) { () throws(ShardError) in try shard.floats(ShardSchema.normMeanDataset) },
            std: read(ShardSchema.normStdDataset) { () throws(ShardError) in try shard.floats(ShardSchema.normStdDataset) })
    }

    /// Labels inside the classes.
    func checkLabels(_ labels: [Int32]?, classes: [String]?, state: inout VerificationState) {
        guard let labels, let classes else { return }
        let outside = labels.indices.filter { labels[$0] < 0 || Int(labels[$0]) >= classes.count }
        if let first = outside.first {
            state.problem(path, "\(outside.count) label(s) outside the \(classes.count) classes (clip \(first) "
                          + "has label \(labels[first]))")
        }
    }

    /// Padded flags 0 or 1; durations finite and >= 0; norm mean finite; norm std finite and > 0.
    func checkPerClipValues(_ arrays: Arrays, state: inout VerificationState) {
        if let padded = arrays.padded, let bad = padded.firstIndex(where: { $0 > 1 }) {
            state.problem(path, "padded flag of clip \(bad) is \(padded[bad]) (must be 0 or 1)")
        }
        if let seconds = arrays.seconds, let bad = seconds.firstIndex(where: { !$0.isFinite || $0 < 0 }) {
            state.problem(path, "duration of clip \(bad) is \(seconds[bad]) s")
        }
        if let mean = arrays.mean, let bad = mean.firstIndex(where: { !$0.isFinite }) {
            state.problem(path, "norm/mean of band \(bad) is \(mean[bad])")
        }
        if let std = arrays.std, let bad = std.firstIndex(where: { !($0.isFinite && $0 > 0) }) {
            state.problem(path, "norm/std of band \(bad) is \(std[bad]) (must be finite and > 0)")
        }
    }

    /// No clip path stored twice in the folder (in two splits: leakage).
    func checkClipPaths(_ paths: [String]?, state: inout VerificationState) {
        guard let paths else { return }
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

    /// The features: a file large enough for them; then (with `checksums`) finite values and the checksum.
    func checkFeatures(
        _ shard: borrowing RawShard, mel: ShardDatasetLayout, header: Header, arrays: Arrays, expectedChecksum: String?,
        state: inout VerificationState
    ) {
        guard let clips = header.clips, let nMels = header.nMels, let frames = header.frames else { return }
        state.clips += clips
        let elements = nMels * frames
        let (bytes, overflow) = clips.multipliedReportingOverflow(by: elements * MemoryLayout<Float>.stride)
        let fileSize = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
        if !mel.isCompressed, let fileSize, overflow || bytes > fileSize {
            state.problem(path, "the file (\(fileSize) bytes) is smaller than its features (\(clips) clips of "
                          + "[\(nMels), \(frames)] float32): truncated")
        } else if checksums {
            scanFeatures(shard, clips: clips, elements: elements, arrays: arrays, expectedChecksum: expectedChecksum,
                         state: &state)
        }
    }

    /// Reads `/mel` in batches: counts the values that are not finite and recomputes the checksum.
    func scanFeatures(
        _ shard: borrowing RawShard, clips: Int, elements: Int, arrays: Arrays, expectedChecksum: String?,
        state: inout VerificationState
    ) {
        var hasher = ShardChecksum()
        var nonFinite = 0, firstNonFinite: (clip: Int, value: Float)?
        let batch = max(1, min(clips, Self.scanBatchBytes / max(1, elements * MemoryLayout<Float>.stride)))
        let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(1, batch * elements))
        defer { buffer.deallocate() }
        var first = 0
        while first < clips {
            let count = min(batch, clips - first)
            let part = UnsafeMutableBufferPointer(rebasing: buffer[0..<(count * elements)])
            do {
                try shard.mels(from: first, into: part)
            } catch {
                state.problem(path, "cannot read clips \(first)..<\(first + count) of \"mel\": \(Self.reason(error))")
                return
            }
            hasher.update(UnsafeBufferPointer(part))
            for index in part.indices where !part[index].isFinite {
                nonFinite += 1
                if firstNonFinite == nil { firstNonFinite = (first + index / elements, part[index]) }
            }
            first += count
        }
        if let firstNonFinite {
            state.problem(path, "\(nonFinite) value(s) of \"mel\" are not finite (clip \(firstNonFinite.clip) "
                          + "holds \(firstNonFinite.value))")
        }
        guard let expectedChecksum, let labels = arrays.labels, let paths = arrays.paths, let padded = arrays.padded,
              let seconds = arrays.seconds
        else { return }
        hasher.update(labels)
        hasher.update(strings: paths)
        hasher.update(padded)
        hasher.update(seconds)
        let computed = hasher.hexDigest
        if computed != expectedChecksum {
            state.problem(path, "checksum mismatch: stored \(Self.abbreviated(expectedChecksum)), computed \(computed) "
                          + "(the data changed after the shard was written)")
        }
    }

    /// Classes, geometry, normalisation, configuration and every parameter equal to the first shard's (the first
    /// shard becomes the reference).
    func compareWithReference(
        header: Header, arrays: Arrays, attributes: [String: ShardParameter], state: inout VerificationState
    ) {
        let description = SharedDescription(
            classes: header.classes, nMels: header.nMels, frames: header.frames, normMean: arrays.mean,
            normStd: arrays.std, configuration: header.configuration,
            parameters: attributes.filter { !ShardSchema.reservedAttributes.contains($0.key) })
        guard let (referencePath, reference) = state.reference else {
            state.reference = (path, description)
            return
        }
        func compare<T: Equatable>(_ key: String, _ mine: T?, _ theirs: T?, show: (T) -> String) {
            guard let mine, let theirs, mine != theirs else { return }
            state.problem(path, "\(key) differs from \(referencePath): \(Self.abbreviated(show(mine))) here, "
                          + "\(Self.abbreviated(show(theirs))) there")
        }
        compare("classes", description.classes, reference.classes) { "\($0)" }
        compare("n_mels", description.nMels, reference.nMels) { "\($0)" }
        compare("frames", description.frames, reference.frames) { "\($0)" }
        compare("norm/mean", description.normMean, reference.normMean) { Self.firstDifference($0, reference.normMean!) }
        compare("norm/std", description.normStd, reference.normStd) { Self.firstDifference($0, reference.normStd!) }
        compare("configuration", description.configuration, reference.configuration) { $0 }
        for key in Set(description.parameters.keys).union(reference.parameters.keys).sorted() {
            switch (description.parameters[key], reference.parameters[key]) {
            case (let mine?, let theirs?) where mine != theirs:
                state.problem(path, "parameter \"\(key)\" differs from \(referencePath): "
                              + "\(Self.abbreviated(mine.description)) here, \(Self.abbreviated(theirs.description)) there")
            case (nil, _?):
                state.problem(path, "parameter \"\(key)\" is missing (\(referencePath) has it)")
            case (_?, nil):
                state.problem(path, "parameter \"\(key)\" is not in \(referencePath)")
            default: break
            }
        }
    }

    /// The first index where two arrays differ, for one-line messages.
    static func firstDifference(_ values: [Float], _ other: [Float]) -> String {
        guard values.count == other.count else { return "\(values.count) values" }
        guard let index = values.indices.first(where: { values[$0] != other[$0] && !(values[$0].isNaN && other[$0].isNaN) })
        else { return "equal" }
        return "[\(index)] = \(values[index])"
    }

    /// A shard failure without the file name (the finding names it already).
    static func reason(_ error: ShardError) -> String {
        if case .hdf5(let failure) = error { return failure.reason }
        return error.description
    }

    /// HDF5's message alone.
    static func message(_ error: ShardError) -> String {
        if case .hdf5(let failure) = error { return failure.message }
        return error.description
    }

    /// `text` on one line, cut to 120 characters.
    static func abbreviated(_ text: String) -> String {
        let line = text.replacingOccurrences(of: "\n", with: " ")
        return line.count <= 120 ? line : String(line.prefix(117)) + "..."
    }
}
