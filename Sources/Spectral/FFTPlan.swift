import Foundation
import GenreCore
internal import CFFTW

/// How long FFTW may spend choosing an algorithm when a plan is made (FFTW's planner rigour flags).
public enum PlanningEffort: Sendable, Hashable {
    /// `FFTW_ESTIMATE`: instant planning from heuristics; slower transforms. Good for tests and one-off use.
    case estimate
    /// `FFTW_MEASURE`: times a few algorithms (a fraction of a second for n = 2048); the default.
    case measure
    /// `FFTW_PATIENT`: times many more algorithms (seconds); occasionally a little faster than `.measure`.
    case patient

    var fftwFlags: UInt32 {
        switch self {
        case .estimate: CFFTW_flag_estimate()
        case .measure: CFFTW_flag_measure()
        case .patient: CFFTW_flag_patient()
        }
    }
}

/// Serialises every call into FFTW's planner (plan creation and destruction): the planner keeps global state and
/// is not thread-safe. Executing an existing plan with the new-array functions (`fftwf_execute_dft`) is thread-safe
/// and needs no lock.
let fftwPlannerLock = LockedValueBox<Void>(())

/// An FFT plan for real frames of `size` samples (single precision, FFTW).
///
/// Real frames are transformed two at a time: frame `a` goes into the real parts and frame `b` into the imaginary
/// parts of one `size`-point complex FFT (`fftwf_plan_dft_1d`), and the two one-sided spectra are separated
/// afterwards (`A[k] = (Z[k] + conj Z[size - k]) / 2`, `B[k] = (Z[k] - conj Z[size - k]) / 2i`). On this
/// machine one complex 2048-point FFT costs less than half of two real-to-complex ones (FFTW's r2c
/// post-processing step is scalar), so this halves the FFT cost of the STFT. The rounding error of each
/// spectrum is then relative to the pair's energy rather than the frame's own, a floor ~140 dB below the louder
/// frame, far under the 80 dB `topDB` range.
///
/// Sharing: a plan is made once and shared read-only by any number of extractors on any threads.
/// Invariant behind `@unchecked Sendable`: `handle` is created in `init` and destroyed in `deinit`, both under
/// `fftwPlannerLock`, and is never mutated in between; it is only executed through the new-array interface
/// (`fftwf_execute_dft`) on buffers owned by the caller, which FFTW documents as thread-safe. Those buffers
/// must come from ``FFTBuffer`` (`fftwf_alloc_*`), so that they have the alignment the plan was made for.
public final class FFTPlan: @unchecked Sendable {
    /// Transform length (frame length), samples.
    public let size: Int
    /// The planning effort the plan was made with.
    public let effort: PlanningEffort
    /// The FFTW plan (`fftwf_plan`): forward complex DFT of `size` points, out of place.
    let handle: OpaquePointer
    /// `fftwf_alignment_of` of the arrays the plan was made with; execution buffers must match.
    let inputAlignment: Int32
    let outputAlignment: Int32

    /// Makes a plan for `size`-point transforms (`size >= 1`). With `.measure` or `.patient` FFTW runs trial
    /// transforms, so this takes a moment (about 0.1 s for 2048 points with `.measure`); share the result (see
    /// ``shared(size:effort:)``).
    public init(size: Int, effort: PlanningEffort = .measure) {
        precondition(size >= 1 && size <= Int(Int32.max), "FFTPlan: size must be in 1...\(Int32.max) (got \(size))")
        self.size = size
        self.effort = effort
        let planned = orStop { () throws(SpectralError) in
            try makeFFTWPlan("fftwf_plan_dft_1d", "a \(size)-point complex plan (\(effort))",
                             inputFloats: 2 * size, outputFloats: 2 * size) { input, output in
                input.withMemoryRebound(to: fftwf_complex.self, capacity: size) { complexIn in
                    output.withMemoryRebound(to: fftwf_complex.self, capacity: size) { complexOut in
                        fftwf_plan_dft_1d(Int32(size), complexIn, complexOut, CFFTW_forward(),
                                          effort.fftwFlags | CFFTW_flag_destroy_input())
                    }
                }
            }
        }
        (handle, inputAlignment, outputAlignment) = (planned.plan, planned.inputAlignment, planned.outputAlignment)
    }

    deinit { destroyFFTWPlan(handle) }

    /// A process-wide plan for `size` and `effort`, made on first use and kept for the life of the process, so
    /// that extractors created without an explicit plan do not re-plan.
    public static func shared(size: Int, effort: PlanningEffort = .measure) -> FFTPlan {
        PlanCache.instance.plan(size: size, effort: effort)
    }

    /// Runs the complex transform: `input` holds `size` complex values as interleaved (re, im) floats
    /// (destroyed), `output` receives `size` complex values likewise. Both must come from ``FFTBuffer``.
    @inline(__always)
    func execute(input: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>) {
        input.withMemoryRebound(to: fftwf_complex.self, capacity: size) { complexIn in
            output.withMemoryRebound(to: fftwf_complex.self, capacity: size) { complexOut in
                fftwf_execute_dft(handle, complexIn, complexOut)
            }
        }
    }

    /// Whether buffers at these addresses have the alignment the plan was made for.
    func accepts(input: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>) -> Bool {
        fftwf_alignment_of(input) == inputAlignment && fftwf_alignment_of(output) == outputAlignment
    }
}

extension FFTPlan {
    /// FFTW's "wisdom": its record of the algorithms it chose for the plans made so far in this process, as text.
    ///
    /// `.measure` and `.patient` plans are chosen by timing, so two processes can pick different algorithms and
    /// produce results that differ in the last bits (around 1e-5 dB seen between runs). Export the wisdom once, and import it
    /// (``importWisdom(_:)``) before making plans in later runs, to make them pick the same algorithms and give
    /// bit-identical results; `.estimate` plans are deterministic without wisdom.
    public static func exportWisdom() -> String {
        fftwPlannerLock.withLockedValue { _ in
            guard let text = fftwf_export_wisdom_to_string() else { return "" }
            defer { fftwf_free(text) }
            return String(cString: text)
        }
    }

    /// Adds wisdom exported by ``exportWisdom()`` (from this or another process on the same machine and FFTW
    /// build) to FFTW's planner; plans made afterwards for the same sizes reuse its algorithms instead of timing.
    /// Throws a ``SpectralError`` naming `fftwf_import_wisdom_from_string` when FFTW rejects the text.
    public static func importWisdom(_ wisdom: String) throws(SpectralError) {
        let accepted = fftwPlannerLock.withLockedValue { _ in fftwf_import_wisdom_from_string(wisdom) != 0 }
        _ = try fftwChecked(
            "fftwf_import_wisdom_from_string", "\(wisdom.utf8.count) bytes of text that are not FFTW wisdom",
            accepted ? () : nil, failure: "0")
    }
}

/// Makes an FFTW plan under `fftwPlannerLock`, on scratch arrays from `fftwf_alloc_real` (FFTW_MEASURE
/// overwrites the arrays while planning, and later execution buffers from ``FFTBuffer`` have the same
/// alignment). Returns the plan and the alignment it was made for; a NULL plan becomes a ``SpectralError``.
func makeFFTWPlan(
    _ function: String, _ request: @autoclosure () -> String, inputFloats: Int, outputFloats: Int,
    _ plan: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> OpaquePointer?
) throws(SpectralError) -> (plan: OpaquePointer, inputAlignment: Int32, outputAlignment: Int32) {
    let input = FFTBuffer(count: inputFloats), output = FFTBuffer(count: outputFloats)
    var made: OpaquePointer?
    try fftwPlannerLock.withLockedValue { (_) throws(SpectralError) in
        made = try fftwChecked(function, request(), plan(input.pointer, output.pointer))
    }
    return (made!, fftwf_alignment_of(input.pointer), fftwf_alignment_of(output.pointer))
}

/// Destroys an FFTW plan under `fftwPlannerLock`.
func destroyFFTWPlan(_ plan: OpaquePointer) {
    fftwPlannerLock.withLockedValue { _ in fftwf_destroy_plan(plan) }
}

/// The process-wide cache behind ``FFTPlan/shared(size:effort:)``.
final class PlanCache: Sendable {
    static let instance = PlanCache()
    private let plans = LockedValueBox<[Key: FFTPlan]>([:])

    private struct Key: Hashable {
        let size: Int
        let effort: PlanningEffort
    }

    func plan(size: Int, effort: PlanningEffort) -> FFTPlan {
        let key = Key(size: size, effort: effort)
        return plans.withLockedValue { plans in
            if let plan = plans[key] { return plan }
            let plan = FFTPlan(size: size, effort: effort)
            plans[key] = plan
            return plan
        }
    }
}

/// FFTW-aligned float buffers (`fftwf_alloc_real`), zero-filled, freed by the owner. Single owner.
struct FFTBuffer: ~Copyable {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    init(count: Int) {
        self.count = count
        self.pointer = orStop { () throws(SpectralError) in
            try fftwChecked("fftwf_alloc_real", "\(count) floats", fftwf_alloc_real(max(count, 1)))
        }
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    deinit { fftwf_free(pointer) }
}
