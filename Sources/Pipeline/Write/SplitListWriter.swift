/// `split.tsv`: one row per written clip, in manifest order — split, label, class, path (the reference script's
/// format, so another implementation can be run on exactly the same split).
enum SplitListWriter {
    static func write(_ plan: SplitPlan, manifest: Manifest, to path: String) throws(PipelineError) {
        var text = "split\tlabel\tgenre\trelpath\n"
        var rows: [(Int, DataSplit)] = []
        for (split, clips) in plan.clips { rows += clips.map { ($0, split) } }
        for (i, split) in rows.sorted(by: { $0.0 < $1.0 }) {
            let e = manifest.entries[i]
            text += "\(split.rawValue)\t\(e.label)\t\(e.className)\t\(e.path)\n"
        }
        do {
            try FileSystem.writeAtomically(Array(text.utf8), to: path)
        } catch {
            throw PipelineError(path: path, reason: "cannot write: \(error)")
        }
    }
}
