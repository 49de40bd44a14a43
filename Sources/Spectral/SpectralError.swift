/// A failure in the Spectral module, printed as one line: `"<function>: <message>"`.
///
/// `function` names the FFTW call (e.g. `"fftwf_plan_dft_r2c_1d"`) or the Spectral step (e.g.
/// `"LogMelParameters"`) that failed; `message` says why. FFTW has no error codes or messages of its own:
/// it reports failure only by returning `NULL`, so the message is Spectral's description of that call.
public struct SpectralError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The C function or Spectral operation that failed.
    public let function: String
    /// Why it failed.
    public let message: String

    public init(function: String, message: String) {
        self.function = function
        self.message = message
    }

    public var description: String { "\(function): \(message)" }
}

/// The one checker for FFTW calls: FFTW signals failure only by its return value (`NULL` for no plan or no
/// memory, 0 for rejected wisdom), which the caller maps to `nil`; a `nil` result becomes a ``SpectralError``
/// naming the function, the failing return value (`failure`) and what was asked of it.
@inline(__always)
func fftwChecked<Result>(
    _ function: String, _ request: @autoclosure () -> String, _ result: Result?, failure: String = "NULL"
) throws(SpectralError) -> Result {
    guard let result else {
        throw SpectralError(function: function, message: "returned \(failure) for \(request())")
    }
    return result
}

/// For the non-throwing initialisers of the public API: FFTW only fails on impossible requests or when out of
/// memory, which Spectral cannot recover from; stop with the checker's one-line message.
@inline(__always)
func orStop<Result>(_ body: () throws(SpectralError) -> Result) -> Result {
    do { return try body() } catch { fatalError("Spectral: \(error)") }
}
