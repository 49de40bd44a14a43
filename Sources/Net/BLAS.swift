internal import CBLAS

/// OpenBLAS, the library behind Net's matrix products.
///
/// OpenBLAS keeps a process-wide pool of worker threads; ``threads`` sets how many of them one matrix product
/// may use. ``Sequential`` in its default ``Parallelism/batch(threads:)`` mode splits each batch across its own
/// workers and sets this to 1 itself (two thread pools on two cores would oversubscribe them).
///
/// Kernel choice: OpenBLAS releases before 0.3.25 (Debian 12 ships 0.3.21) do not recognise recent Intel CPUs
/// (e.g. Emerald Rapids, family 6 model 207) and fall back to their slowest x86-64 kernels, "Prescott" (SSE3),
/// several times slower than the AVX-512 ones (OpenMathLib/OpenBLAS#4267, fixed by #4268). Before its first
/// matrix product Net checks for that fallback and, when the CPU supports AVX-512 (or AVX2 + FMA), re-runs
/// OpenBLAS's runtime selection for "SkylakeX" (or "Haswell") — exactly what `OPENBLAS_CORETYPE` does at load
/// time. An explicit `OPENBLAS_CORETYPE` in the environment is always respected.
public enum BLAS {
    /// How many threads OpenBLAS uses inside one matrix product (process-wide, >= 1).
    public static var threads: Int {
        get {
            _ = kernelFamily
            return Int(CBLAS_get_threads())
        }
        set {
            precondition(newValue >= 1, "BLAS.threads must be >= 1 (got \(newValue))")
            _ = kernelFamily
            if Int(CBLAS_get_threads()) != newValue { CBLAS_set_threads(Int32(clamping: newValue)) }
        }
    }

    /// The CPU kernel family OpenBLAS is using (e.g. `"SkylakeX"`, `"Haswell"`), for reports.
    public static var coreName: String { kernelFamily }

    /// The CPU's vector instruction level as the kernel check sees it: 2 = AVX-512, 1 = AVX2 + FMA, 0 = neither.
    static var cpuVectorLevel: Int { Int(CBLAS_cpu_vector_level()) }

    /// The kernel family in use after Net's one-time check (see the type's documentation); evaluated once, before
    /// any Net matrix product.
    static let kernelFamily: String = {
        func current() -> String { CBLAS_core_name().map { String(cString: $0) } ?? "unknown" }
        guard current().lowercased() == "prescott" else { return current() }
        switch CBLAS_cpu_vector_level() {
        case 2: _ = CBLAS_reselect_core("SkylakeX")
        case 1: _ = CBLAS_reselect_core("Haswell")
        default: break
        }
        return current()
    }()

    /// The one gateway to `cblas_sgemm`: row-major `C[m×n] = alpha · op(A) · op(B) + beta · C`, where
    /// `op(A)` is `[m×k]` (`A` stored `[k×m]` when `transposeA`), `op(B)` is `[k×n]` (`B` stored `[n×k]` when
    /// `transposeB`), and `lda`, `ldb`, `ldc` are the stored row lengths.
    ///
    /// OpenBLAS reports invalid arguments only by printing a message and returning with `C` untouched, so the
    /// arguments are checked here first; a bad call is a bug in Net and stops with a message naming the function.
    @inline(__always)
    static func gemm(
        transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        precondition(
            m >= 0 && n >= 0 && k >= 0 && lda >= max(1, transposeA ? m : k) && ldb >= max(1, transposeB ? k : n)
                && ldc >= max(1, n) && m <= Int(Int32.max) && n <= Int(Int32.max) && k <= Int(Int32.max),
            "cblas_sgemm: invalid arguments m=\(m) n=\(n) k=\(k) lda=\(lda) ldb=\(ldb) ldc=\(ldc) (a bug in Net)")
        if m == 0 || n == 0 { return }
        _ = kernelFamily
        CBLAS_sgemm_row_major(
            transposeA ? 1 : 0, transposeB ? 1 : 0, Int32(m), Int32(n), Int32(k), alpha,
            a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}
