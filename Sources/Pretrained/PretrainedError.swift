import Training
public import TensorBundle

/// Why a pre-trained network cannot be imported. ``description`` is one line naming the file (or tensor) and the
/// reason.
public enum PretrainedError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The wheel or folder cannot be used: missing, not a zip, no checkpoint inside, another musicnn version.
    case source(path: String, reason: String)
    /// The checkpoint inside is damaged or unreadable.
    case bundle(TensorBundleError)
    /// A tensor the network needs is not in the checkpoint.
    case missingTensor(source: String, name: String)
    /// A tensor has another shape than the network needs.
    case tensorShape(source: String, name: String, expected: [Int], found: [Int])
    /// The imported weights do not build the network (a Net error, as text).
    case model(reason: String)
    /// The GenreKit checkpoint cannot be written.
    case output(path: String, reason: String)

    public var description: String {
        switch self {
        case .source(let path, let reason): "\(path): \(reason)"
        case .bundle(let error): error.description
        case .missingTensor(let source, let name): "\(source): the checkpoint has no tensor \(name)"
        case .tensorShape(let source, let name, let expected, let found):
            "\(source): tensor \(name) has shape \(found), the network needs \(expected)"
        case .model(let reason): "imported weights do not fit the network: \(reason)"
        case .output(let path, let reason): "\(path): \(reason)"
        }
    }
}
