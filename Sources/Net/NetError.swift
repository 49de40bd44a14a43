/// A failure in the Net module, printed as one line that names what was wrong and why.
///
/// Net has no C error codes to translate: OpenBLAS reports bad GEMM arguments only by printing, so ``BLAS``
/// validates every call's dimensions before making it (see `BLAS.gemm`). The errors here are the model-level
/// failures a caller can act on: a model spec whose shapes do not work out, and a state dictionary (a checkpoint)
/// that does not fit the model.
public enum NetError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The model spec as a whole is unusable (input shape, class count, final output).
    case invalidModel(reason: String)
    /// Layer `index` of the spec (0-based, `layer` is its spec) cannot be built on its input shape.
    case invalidLayer(index: Int, layer: String, reason: String)
    /// A state dictionary lacks an entry the model needs.
    case missingState(name: String)
    /// A state dictionary has an entry the model does not know.
    case unexpectedState(name: String)
    /// A state dictionary entry has the wrong shape for the model.
    case stateShapeMismatch(name: String, expected: [Int], found: [Int])
    /// A state dictionary entry holds non-finite numbers (NaN or infinity).
    case nonFiniteState(name: String)

    public var description: String {
        switch self {
        case .invalidModel(let reason):
            "Net: invalid model: \(reason)"
        case .invalidLayer(let index, let layer, let reason):
            "Net: layer \(index) (\(layer)): \(reason)"
        case .missingState(let name):
            "Net: state dictionary has no entry '\(name)'"
        case .unexpectedState(let name):
            "Net: state dictionary has an entry '\(name)' that the model does not have"
        case .stateShapeMismatch(let name, let expected, let found):
            "Net: state entry '\(name)' has shape \(found), the model needs \(expected)"
        case .nonFiniteState(let name):
            "Net: state entry '\(name)' contains NaN or infinite values"
        }
    }
}
