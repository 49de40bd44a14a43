import Foundation
import SwiftProtobuf

/// Collects the nodes and initializers of one ONNX graph (default domain). Internal: the protobuf types of
/// `Generated/onnx.pb.swift` never appear in OnnxExport's public API.
struct GraphBuilder {
    private(set) var nodes: [Onnx_NodeProto] = []
    private(set) var initializers: [Onnx_TensorProto] = []
    private var usedNames: Set<String> = []

    /// ONNX `TensorProto.DataType.FLOAT`.
    static let float32: Int32 = 1

    /// A float32 initializer `name` of `shape` holding `values` (row-major), stored as little-endian raw data.
    /// Returns its name.
    @discardableResult
    mutating func constant(_ name: String, shape: [Int], values: [Float]) -> String {
        precondition(shape.reduce(1, *) == values.count, "GraphBuilder.constant \(name): \(values.count) values for \(shape)")
        precondition(usedNames.insert(name).inserted, "GraphBuilder: the name \(name) is used twice")
        var tensor = Onnx_TensorProto()
        tensor.name = name
        tensor.dataType = Self.float32
        tensor.dims = shape.map(Int64.init)
        var bytes = Data(capacity: values.count * 4)
        for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        tensor.rawData = bytes
        initializers.append(tensor)
        return name
    }

    /// Appends a node `op` named `name` on `inputs` and returns its output names (`name`, or `name:k` for the
    /// k-th of several outputs).
    @discardableResult
    mutating func node(_ op: String, name: String, inputs: [String], outputs count: Int = 1, attributes: [Onnx_AttributeProto] = [])
        -> [String]
    {
        precondition(usedNames.insert(name).inserted, "GraphBuilder: the name \(name) is used twice")
        var node = Onnx_NodeProto()
        node.opType = op
        node.name = name
        node.input = inputs
        node.output = count == 1 ? [name] : (0..<count).map { "\(name):\($0)" }
        node.attribute = attributes
        nodes.append(node)
        return node.output
    }

    /// ``node(_:name:inputs:outputs:attributes:)`` with one output, returning its name.
    mutating func apply(_ op: String, name: String, _ inputs: String..., attributes: [Onnx_AttributeProto] = []) -> String {
        node(op, name: name, inputs: inputs, attributes: attributes)[0]
    }

    /// Makes `tensor` (the output of some node, or an input) available under `name`: renames the producing node's
    /// output when it is the last node's, which nothing else reads yet; otherwise appends an Identity.
    mutating func rename(_ tensor: String, to name: String) {
        if var last = nodes.last, last.output == [tensor] {
            last.output = [name]
            nodes[nodes.count - 1] = last
        } else {
            _ = node("Identity", name: name, inputs: [tensor])
        }
        usedNames.insert(name)
    }

    // MARK: - Attributes

    static func attribute(_ name: String, int value: Int) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .int
        a.i = Int64(value)
        return a
    }

    static func attribute(_ name: String, ints values: [Int]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .ints
        a.ints = values.map(Int64.init)
        return a
    }

    // MARK: - Value infos

    /// One dimension: a fixed extent or a named dynamic one.
    enum Dimension: Equatable {
        case fixed(Int)
        case dynamic(String)
    }

    /// A float32 tensor value info `name` of `dimensions`.
    static func floatValue(_ name: String, _ dimensions: [Dimension]) -> Onnx_ValueInfoProto {
        var shape = Onnx_TensorShapeProto()
        shape.dim = dimensions.map { dimension in
            var d = Onnx_TensorShapeProto.Dimension()
            switch dimension {
            case .fixed(let extent): d.dimValue = Int64(extent)
            case .dynamic(let parameter): d.dimParam = parameter
            }
            return d
        }
        var tensorType = Onnx_TypeProto.Tensor()
        tensorType.elemType = float32
        tensorType.shape = shape
        var type = Onnx_TypeProto()
        type.tensorType = tensorType
        var value = Onnx_ValueInfoProto()
        value.name = name
        value.type = type
        return value
    }
}
