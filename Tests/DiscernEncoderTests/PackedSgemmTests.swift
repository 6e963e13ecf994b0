import CDiscernKernels
import Foundation
import Testing

/// The fp32 linear layers' kernel (weights packed at load): every instruction path this CPU can run
/// gives the float product within float rounding, writes only its columns, and the fastest path is
/// the one in use.
@Suite struct PackedSgemmTests {
  static let shapes: [(Int, Int, Int)] = [
    (1, 4, 1), (3, 7, 5), (4, 64, 16), (5, 70, 33), (9, 384, 48), (13, 100, 17), (32, 384, 64), (70, 40, 40),
  ]
  static let paths: [dk_sgemm_path] = [DK_SGEMM_PORTABLE, DK_SGEMM_AVX2, DK_SGEMM_AVX512]

  /// The product on `path` for output columns `columns` (all by default), unwritten cells NaN; nil
  /// when this CPU cannot run the path.
  func packed(_ product: KernelTests.Product, path: dk_sgemm_path, columns: Range<Int>? = nil) -> [Float]? {
    var weights = [Float](repeating: .nan, count: dk_packed_sgemm_floats(Int32(product.outputs), Int32(product.inputs)))
    dk_pack_sgemm_weights(product.weight, Int32(product.outputs), Int32(product.inputs), &weights)
    var out = [Float](repeating: .nan, count: product.rows * product.outputs)
    let columns = columns ?? 0..<product.outputs
    let ran = dk_sgemm_packed_on(
      path, product.input, Int32(product.rows), Int32(product.inputs), weights, Int32(product.outputs), product.bias, &out,
      Int32(product.outputs), Int32(columns.lowerBound), Int32(columns.upperBound))
    return ran == 1 ? out : nil
  }

  /// Float rounding of a sum of `inputs` terms of magnitude about one, with room to spare.
  func tolerance(_ product: KernelTests.Product) -> Float { 1e-5 * Float(product.inputs).squareRoot() + 1e-6 }

  @Test(arguments: shapes) func everyPathGivesTheFloatProduct(shape: (Int, Int, Int)) throws {
    let product = KernelTests.Product(rows: shape.0, inputs: shape.1, outputs: shape.2, seed: 3)
    let exact = product.float()
    var ran = 0
    for path in Self.paths {
      guard let out = packed(product, path: path) else { continue }
      ran += 1
      let worst = zip(exact, out).map { abs($0 - $1) }.max() ?? 0
      #expect(worst <= tolerance(product), "path \(path.rawValue): error \(worst)")
    }
    #expect(ran >= 1)
  }

  @Test func aColumnRangeWritesOnlyItsColumns() throws {
    let product = KernelTests.Product(rows: 11, inputs: 50, outputs: 53, seed: 9)
    let exact = product.float()
    for path in Self.paths {
      // 16..<37: a whole 16-column panel, then part of the next (the last part of a thread split).
      guard let out = packed(product, path: path, columns: 16..<37) else { continue }
      for r in 0..<product.rows {
        for c in 0..<product.outputs {
          let value = out[r * product.outputs + c]
          if (16..<37).contains(c) {
            #expect(abs(value - exact[r * product.outputs + c]) <= tolerance(product), "path \(path.rawValue) [\(r), \(c)]")
          } else {
            #expect(value.isNaN, "path \(path.rawValue) wrote column \(c) outside its range")
          }
        }
      }
    }
  }

  /// This CPU's flags as /proc/cpuinfo lists them.
  static let cpuFlags: Set<String> = {
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
      let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
    else { return [] }
    return Set(line.split(separator: ":", maxSplits: 1).last?.split(separator: " ").map(String.init) ?? [])
  }()

  @Test(.enabled(if: !cpuFlags.isEmpty, "needs /proc/cpuinfo"))
  func theFastestPathThisCPUHasIsTheOneInUse() {
    let flags = Self.cpuFlags
    let expected =
      flags.isSuperset(of: ["avx512f", "avx2", "fma"]) ? DK_SGEMM_AVX512 : flags.isSuperset(of: ["avx2", "fma"]) ? DK_SGEMM_AVX2 : DK_SGEMM_PORTABLE
    #expect(dk_sgemm_packed_best_path() == expected)
    // The paths above the one in use say they cannot run here rather than fault.
    let product = KernelTests.Product(rows: 2, inputs: 8, outputs: 16, seed: 1)
    for path in Self.paths where path.rawValue > expected.rawValue { #expect(packed(product, path: path) == nil) }
  }
}
