import Foundation
import HDF5Store
public import Net

/// Per-clip embeddings of a frozen network: the mean over a clip's evaluation windows (``EvaluationWindows``: the
/// windows inside its audio) of the network's outputs.
public enum ClipEmbedder {
    /// Runs `model` (evaluation mode) over every window of `split` and averages the outputs per clip:
    /// `[clips, outputs]`, with the clips' labels.
    public static func embed(
        model: Sequential, dataset: ShardDataset, split: String, windowFrames: Int, windowHop: Int,
        progress: ((Int, Int) -> Void)? = nil
    ) throws(TrainingError) -> ClipEmbeddings {
        var windows = try EvaluationWindows(dataset: dataset, split: split, cropFrames: windowFrames, hop: windowHop,
                                            batchSize: 32)
        let features = model.spec.classes
        let clips = windows.labels.count
        var sums = [Double](repeating: 0, count: clips * features)
        var done = 0
        while let batch = try windows.next() {
            let outputs = model.forward(Tensor(shape: batch.shape, scalars: batch.inputs), training: false).scalars
            for (slot, clip) in batch.clips.enumerated() {
                for f in 0..<features { sums[clip * features + f] += Double(outputs[slot * features + f]) }
            }
            done += 1
            progress?(done, windows.batchCount)
        }
        var values = [Float](repeating: 0, count: clips * features)
        for clip in 0..<clips {
            let count = Double(max(windows.windowsPerClip[clip], 1))
            for f in 0..<features { values[clip * features + f] = Float(sums[clip * features + f] / count) }
        }
        return ClipEmbeddings(features: features, values: values, labels: windows.labels.map(Int.init))
    }
}

/// `embeddings.h5` in a probe's run folder: the clips' embeddings per split (`/<split>/embeddings` float32
/// `[clips, features]`, `/<split>/labels` int32 `[clips]`), computed once and reused while what they depend on is
/// unchanged. That is recorded in the root attributes `key_<split>`: the pre-trained checkpoint (path, size, modification
/// time), every shard file of the split (name, size, modification time) and the window length and hop. h5py reads
/// the file as it is (for an analysis in Python).
public struct EmbeddingCache: Sendable {
    public let path: String

    /// `directory/name`; the probe's cache is `embeddings.h5`, the fine-tuning head's `body-embeddings.h5`.
    public init(directory: String, name: String = "embeddings.h5") {
        path = directory + "/" + name
    }

    /// What the embeddings of `split` depend on, as one line of text.
    public static func key(initPath: String, dataset: ShardDataset, split: String, windowFrames: Int, windowHop: Int)
        throws(TrainingError) -> String
    {
        func stamp(_ file: String) -> String {
            let attributes = try? FileManager.default.attributesOfItem(atPath: file)
            let size = (attributes?[.size] as? NSNumber)?.intValue ?? -1
            let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            return "\(URL(fileURLWithPath: file).lastPathComponent):\(size):\(modified)"
        }
        let shards = try dataset.split(split).shards.map { stamp($0.path) }
        return "init \(stamp(initPath)) | \(split) \(shards.joined(separator: ",")) | window \(windowFrames)/\(windowHop)"
    }

    /// The embeddings of `splits`: those cached under the same key are read, the others computed with `compute`
    /// and the file rewritten (under a temporary name, renamed when complete). Returns them and the splits computed.
    public func embeddings(
        splits: [String], keys: [String: String], compute: (String) throws(TrainingError) -> ClipEmbeddings
    ) throws(TrainingError) -> (embeddings: [String: ClipEmbeddings], computed: [String]) {
        var result: [String: ClipEmbeddings] = [:]
        var computed: [String] = []
        for split in splits {
            if let cached = load(split: split, key: keys[split] ?? "") {
                result[split] = cached
            } else {
                result[split] = try compute(split)
                computed.append(split)
            }
        }
        if !computed.isEmpty { try store(result, keys: keys) }
        return (result, computed)
    }

    /// The cached embeddings of `split` when their key matches, else nil.
    func load(split: String, key: String) -> ClipEmbeddings? {
        guard FileManager.default.fileExists(atPath: path),
            let file = try? HDF5File(openingForReading: path),
            (try? file.attribute("key_\(split)"))??.stringValue == key,
            let (values, shape) = try? file.readFloats("\(split)/embeddings"), shape.count == 2,
            let labels = try? file.readInt32s("\(split)/labels").values, labels.count == shape[0]
        else { return nil }
        return ClipEmbeddings(features: shape[1], values: values, labels: labels.map(Int.init))
    }

    private func store(_ all: [String: ClipEmbeddings], keys: [String: String]) throws(TrainingError) {
        let temporary = path + ".partial-\(getpid())"
        do {
            let file = try HDF5File.create(path: temporary)
            for (name, e) in all.sorted(by: { $0.key < $1.key }) {
                try file.createGroup(name)
                try file.write(e.values, shape: [e.clips, e.features], to: "\(name)/embeddings")
                try file.write(e.labels.map(Int32.init), shape: [e.clips], to: "\(name)/labels")
                try file.setAttribute("key_\(name)", to: .string(keys[name] ?? ""))
            }
            try file.flush()
            try file.close()
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw .io(path: path, reason: "cannot write the embeddings: \(error)")
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: temporary)
            throw .io(path: path, reason: "cannot rename the finished file into place: \(reason)")
        }
    }
}
