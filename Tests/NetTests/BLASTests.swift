import Foundation
import Testing
@testable import Net

@Suite struct BLASTests {
    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func gemmMatchesNaiveProduct(transposeA: Bool, transposeB: Bool) {
        let (m, n, k) = (5, 7, 3)
        let a = Harness.normals(m * k, seed: 1), b = Harness.normals(k * n, seed: 2)
        var c = Harness.normals(m * n, seed: 3)
        let c0 = c
        func aAt(_ i: Int, _ p: Int) -> Float { transposeA ? a[p * m + i] : a[i * k + p] }
        func bAt(_ p: Int, _ j: Int) -> Float { transposeB ? b[j * k + p] : b[p * n + j] }
        c.withUnsafeMutableBufferPointer { cp in
            BLAS.gemm(
                transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 0.5, a: a, lda: transposeA ? m : k,
                b: b, ldb: transposeB ? k : n, beta: 2, c: cp.baseAddress!, ldc: n)
        }
        for i in 0..<m {
            for j in 0..<n {
                var s: Float = 0, magnitude = 2 * Double(abs(c0[i * n + j]))
                for p in 0..<k {
                    s += aAt(i, p) * bAt(p, j)
                    magnitude += 0.5 * abs(Double(aAt(i, p)) * Double(bAt(p, j)))
                }
                // Both sides sum k products, scale by alpha and add beta·c: k + 2 roundings each, in any order.
                let bound = 2 * ErrorBound.sum(count: k + 2, absoluteSum: magnitude)
                #expect(abs(Double(c[i * n + j]) - Double(0.5 * s + 2 * c0[i * n + j])) <= bound, "C[\(i), \(j)]")
            }
        }
    }

    @Test func kernelFamilyIsReportedAndNotTheGenericFallbackOnVectorCPUs() {
        #expect(!BLAS.coreName.isEmpty)
        #expect(BLAS.threads >= 1)
        if let forced = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"], !forced.isEmpty {
            // An explicit choice is respected (and takes effect: the suite really runs on those kernels).
            #expect(BLAS.coreName.lowercased() == forced.lowercased(), "OPENBLAS_CORETYPE=\(forced), OpenBLAS kernels: \(BLAS.coreName)")
        } else if BLAS.cpuVectorLevel > 0 {
            #expect(BLAS.coreName.lowercased() != "prescott", "OpenBLAS kernels: \(BLAS.coreName)")
        }
    }
}
