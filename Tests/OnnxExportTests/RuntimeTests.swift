import Foundation
import Net
@testable import OnnxExport
import Testing
import TestSupport

/// The exported models checked by the real ONNX tools (scripts/check_onnx.py: onnx.checker with full_check, then
/// onnxruntime on CPU with 2 threads) against GenreKit's own logits on the same windows. Skipped, with the reason
/// printed, when Python's onnx or onnxruntime cannot be imported.
@Suite struct RuntimeTests {
    /// The largest allowed |onnxruntime - GenreKit| of a logit or a probability.
    static let tolerance = 1e-4

    static let specs: [(String, ModelSpec)] = [
        ("genreCNN", Fixtures.genreCNN()), ("default genreCNN", .genreCNN(classes: 10)), ("residual", Fixtures.residual()),
        ("musicnn-like", Fixtures.musicnnLike()), ("probe", Fixtures.probe()), ("tagger", Fixtures.tagger()),
    ]

    @Test(arguments: specs.indices)
    func onnxRuntimeMatchesGenreKit(specIndex: Int) throws {
        let (name, spec) = Self.specs[specIndex]
        guard let python = PythonONNX.available() else { return }
        let model = try Fixtures.model(spec, seed: UInt64(10 + specIndex))
        let directory = try TemporaryDirectory("onnx-runtime")
        let checkpoint = Fixtures.checkpoint(model)
        var runs = [try Self.run(model, windows: 3, seed: 20, directory: directory, label: "run0")]
        if InputShape(spec: spec).dynamicFrames {
            // The same weights on a different number of frames (not a multiple of the pools' strides).
            var other = spec
            other.inputShape[2] = spec.inputShape[2] - 5
            let narrow = try Sequential(spec: other, seed: 0)
            try narrow.load(stateDictionary: model.stateDictionary())
            runs.append(try Self.run(narrow, windows: 2, seed: 21, directory: directory, label: "run1"))
        }
        try OnnxExporter.export(checkpoint: checkpoint).write(to: URL(fileURLWithPath: directory.file("model.onnx")))
        let case_: [String: Any] = ["model": "model.onnx", "runs": runs]
        try JSONSerialization.data(withJSONObject: case_).write(to: URL(fileURLWithPath: directory.file("case.json")))

        let (status, output) = try python.run(["case", directory.path])
        let last = output.split(separator: "\n").last.map(String.init) ?? ""
        print("onnx runtime check, \(name): \(last)")
        let result = try? JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any]
        let logits = result?["max_abs_logits"] as? Double, probabilities = result?["max_abs_probabilities"] as? Double
        #expect(result?["checker"] as? String == "ok", "\(name): \(output)")
        #expect(result?["runs"] as? Int == runs.count, "\(name): \(output)")
        #expect(logits.map { $0 <= Self.tolerance } == true, "\(name): \(output)")
        #expect(probabilities.map { $0 <= Self.tolerance } == true, "\(name): \(output)")
        #expect(status == 0, "\(name): \(output)")
    }

    /// Writes `windows` random windows for `model`, its logits and probabilities; returns the run's description.
    static func run(_ model: Sequential, windows: Int, seed: UInt64, directory: TemporaryDirectory, label: String) throws
        -> [String: Any]
    {
        let input = Fixtures.windows(model.spec.inputShape, count: windows, seed: seed)
        let logits = model.forward(input, training: false)
        let probabilities = model.spec.probabilities(logits)
        for (suffix, tensor) in [("input", input), ("logits", logits), ("probabilities", probabilities)] {
            var bytes = Data(capacity: tensor.count * 4)
            for value in tensor.scalars { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
            try bytes.write(to: URL(fileURLWithPath: directory.file("\(label).\(suffix).f32")))
        }
        return [
            "shape": input.shape, "input": "\(label).input.f32", "logits": "\(label).logits.f32",
            "probabilities": "\(label).probabilities.f32",
        ]
    }
}

/// `python3 scripts/check_onnx.py`, when Python can import onnx and onnxruntime.
struct PythonONNX {
    /// The repository's scripts/check_onnx.py.
    let script: String

    /// nil (after printing why) when `python3 -c "import onnx, onnxruntime, numpy"` fails.
    static func available() -> PythonONNX? {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let checker = PythonONNX(script: root.appendingPathComponent("scripts/check_onnx.py").path)
        let (status, output) = (try? checker.python(["-c", "import onnx, onnxruntime, numpy"])) ?? (-1, "python3 cannot be started")
        guard status == 0 else {
            let line = output.split(separator: "\n").last.map(String.init) ?? output
            print("skipped: the ONNX runtime check needs python3 with onnx and onnxruntime (\(line))")
            return nil
        }
        return checker
    }

    /// Runs check_onnx.py with `arguments`; returns its status and its standard output and error.
    func run(_ arguments: [String]) throws -> (Int32, String) {
        try python([script] + arguments)
    }

    private func python(_ arguments: [String]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
