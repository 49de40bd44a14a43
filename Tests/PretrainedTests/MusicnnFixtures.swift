import Foundation
import Net
import Testing

@testable import Pretrained

/// The fixtures made by `scripts/make_musicnn_forward_golden.py`, read through `#filePath` (no resource bundling),
/// the real wheel when present, and the patches both sides compute from one formula.
enum MusicnnFixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The small random network's bundle prefix (`musicnn-small.index`, `musicnn-small.data-00000-of-00001`).
    static var smallBundlePrefix: String { directory.appendingPathComponent("musicnn-small").path }

    /// The musicnn wheel: `$GENREKIT_MUSICNN_WHEEL`, else `models/musicnn-0.1.0-py3-none-any.whl` in the package
    /// (where `make musicnn-wheel` puts it); nil when absent (the tests that need it are skipped).
    static let wheelPath: String? = {
        let candidates: [String?] = [ProcessInfo.processInfo.environment["GENREKIT_MUSICNN_WHEEL"],
                          packageRoot.appendingPathComponent("models/musicnn-0.1.0-py3-none-any.whl").path]
        return candidates.compactMap { $0 }.first { !$0.isEmpty && FileManager.default.fileExists(atPath: $0) }
    }()

    static var wheelMissingReason: Comment {
        "no musicnn wheel (set GENREKIT_MUSICNN_WHEEL or put it at models/musicnn-0.1.0-py3-none-any.whl)"
    }

    /// Patch `k` as the model's input `[1, 96 mels, 187 frames]` (mel-major):
    /// `x[t][m] = float32(1.5 + sin(0.05 t + 0.3 m + 0.7 k) + 0.5 cos(0.11 (k + 1) t - 0.17 m))`.
    static func patch(_ k: Int) -> [Float] {
        var out = [Float](repeating: 0, count: 96 * 187)
        let kk = Double(k)
        for m in 0..<96 {
            for t in 0..<187 {
                let tt = Double(t), mm = Double(m)
                let x = 1.5 + sin(0.05 * tt + 0.3 * mm + 0.7 * kk) + 0.5 * cos(0.11 * (kk + 1) * tt - 0.17 * mm)
                out[m * 187 + t] = Float(x)
            }
        }
        return out
    }

    struct Golden: Decodable {
        let filters: Int
        let patches: Int
        let pool5_nhwc: [[Double]]
        let logits: [[Double]]
    }

    static func golden(_ name: String) throws -> Golden {
        try JSONDecoder().decode(Golden.self, from: Data(contentsOf: directory.appendingPathComponent(name)))
    }

    /// Runs `state` (a musicnn-design state dictionary with `filters`) on the golden's patches and checks pool5
    /// and the logits against the golden, to 1e-4 relative to each vector's largest magnitude.
    static func expectForwardMatches(state: [String: Tensor], filters: Int, golden: Golden) throws {
        let spec = MusicnnVGG.modelSpec(filters: filters, tags: golden.logits[0].count)
        let tagger = try Sequential(spec: spec, seed: 0)
        try tagger.load(stateDictionary: state)
        // pool5: the layers up to and including flatten (index 25), as a model whose "classes" are the features.
        let features = 2 * filters
        let bodySpec = ModelSpec(inputShape: spec.inputShape, layers: Array(spec.layers[0...25]), classes: features)
        let body = try Sequential(spec: bodySpec, seed: 0)
        try body.load(stateDictionary: state.filter { !$0.key.hasPrefix("27.") })

        let input = Tensor(shape: [golden.patches] + spec.inputShape, scalars: (0..<golden.patches).flatMap(patch))
        let logits = tagger.forward(input, training: false)
        let pool5 = body.forward(input, training: false)
        for k in 0..<golden.patches {
            let expectedPool5 = MusicnnVGG.pool5FromTensorFlowOrder(golden.pool5_nhwc[k].map(Float.init), channels: filters)
            expectRelativelyClose(Array(pool5.scalars[(k * features)..<((k + 1) * features)]), expectedPool5, "pool5 of patch \(k)")
            let tags = golden.logits[k].count
            expectRelativelyClose(Array(logits.scalars[(k * tags)..<((k + 1) * tags)]), golden.logits[k].map(Float.init), "logits of patch \(k)")
        }
    }

    static func expectRelativelyClose(_ actual: [Float], _ expected: [Float], _ what: String) {
        #expect(actual.count == expected.count, "\(what): \(actual.count) values, expected \(expected.count)")
        let scale = max(expected.map { abs($0) }.max() ?? 0, 1e-6)
        let worst = zip(actual, expected).map { abs($0 - $1) }.max() ?? 0
        #expect(worst <= 1e-4 * scale, "\(what): largest difference \(worst), scale \(scale)")
    }
}
