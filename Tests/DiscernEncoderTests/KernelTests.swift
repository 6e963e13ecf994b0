import CDiscernKernels
import Foundation
import Testing

/// The int8 kernel: the AVX2 path must give the portable path's bytes exactly (the integer product is
/// exact by construction), and both must approximate the float product.
@Suite struct KernelTests {
  struct Product {
    let rows: Int, inputs: Int, outputs: Int
    var input: [Float] = [], weight: [Float] = [], bias: [Float] = []

    /// Deterministic pseudo-random values in [-1, 1), a few large ones to stretch the scales.
    init(rows: Int, inputs: Int, outputs: Int, seed: UInt64) {
      self.rows = rows
      self.inputs = inputs
      self.outputs = outputs
      var state = seed
      func next() -> Float {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Float(Int64(bitPattern: state) >> 40) / Float(1 << 23)
      }
      input = (0..<rows * inputs).map { $0 % 37 == 0 ? 4 * next() : next() }
      weight = (0..<outputs * inputs).map { _ in next() / 8 }
      bias = (0..<outputs).map { _ in next() }
    }

    func float() -> [Float] {
      var out = [Float](repeating: 0, count: rows * outputs)
      for r in 0..<rows {
        for c in 0..<outputs {
          var sum = bias[c]
          for k in 0..<inputs { sum += input[r * inputs + k] * weight[c * inputs + k] }
          out[r * outputs + c] = sum
        }
      }
      return out
    }

    func int8(portable: Bool, columns: Range<Int>? = nil, threshold: Float = .infinity) -> [Float] {
      var packed = [Int8](repeating: 0, count: dk_packed_weight_bytes(Int32(outputs), Int32(inputs)))
      var scales = [Float](repeating: 0, count: outputs), sums = [Int32](repeating: 0, count: outputs)
      dk_quantize_weights(weight, Int32(outputs), Int32(inputs), &packed, &scales, &sums)
      var q = [UInt8](repeating: 0, count: rows * Int(dk_padded_inputs(Int32(inputs))))
      var rowScales = [Float](repeating: 0, count: rows), zeros = [Int32](repeating: 0, count: rows)
      var outliers = [dk_outlier](repeating: dk_outlier(), count: 4 * rows)
      let count = dk_quantize_rows(input, Int32(rows), Int32(inputs), threshold, &q, &rowScales, &zeros, &outliers, Int32(4 * rows))
      var out = [Float](repeating: .nan, count: rows * outputs)
      let columns = columns ?? 0..<outputs
      let gemm = portable ? dk_gemm_u8s8_portable : dk_gemm_u8s8
      gemm(
        q, Int32(rows), Int32(inputs), rowScales, zeros, packed, Int32(outputs), scales, sums, bias, outliers, count, &out,
        Int32(outputs), Int32(columns.lowerBound), Int32(columns.upperBound))
      return out
    }
  }

  static let shapes: [(Int, Int, Int)] = [(1, 4, 1), (3, 7, 5), (4, 64, 16), (5, 70, 33), (9, 384, 48), (32, 100, 17)]

  @Test(arguments: shapes) func theFastPathEqualsThePortablePath(shape: (Int, Int, Int)) {
    let product = Product(rows: shape.0, inputs: shape.1, outputs: shape.2, seed: 7)
    #expect(product.int8(portable: false) == product.int8(portable: true))
    // With outliers set aside (the inputs have values up to 4), including more than the list holds.
    #expect(product.int8(portable: false, threshold: 2) == product.int8(portable: true, threshold: 2))
    #expect(product.int8(portable: false, threshold: 0.5) == product.int8(portable: true, threshold: 0.5))
  }

  @Test func anOutlierSetAsideKeepsTheRestOfItsRowPrecise() {
    var product = Product(rows: 2, inputs: 64, outputs: 16, seed: 5)
    product.input[3] = 60  // one value 60 times the others, as in a transformer's [CLS] row
    let exact = product.float()
    func worst(_ approximate: [Float]) -> Float { zip(exact, approximate).map { abs($0 - $1) }.max()! }
    let stretched = worst(product.int8(portable: false))
    let setAside = worst(product.int8(portable: false, threshold: 6))
    // What remains is mostly the outlier times its weights' rounding.
    #expect(setAside < stretched / 2, "error \(setAside) with the outlier set aside, \(stretched) without")
  }

  @Test(arguments: shapes) func int8ApproximatesTheFloatProduct(shape: (Int, Int, Int)) {
    let product = Product(rows: shape.0, inputs: shape.1, outputs: shape.2, seed: 11)
    let exact = product.float(), approximate = product.int8(portable: false)
    // Error relative to the spread of the outputs, the scale a downstream LayerNorm sees.
    let spread = exact.map(abs).max()! + 1e-6
    let worst = zip(exact, approximate).map { abs($0 - $1) }.max()!
    #expect(worst / spread < 0.05, "worst error \(worst) against outputs up to \(spread)")
  }

  @Test func columnRangesWriteOnlyTheirColumns() {
    let product = Product(rows: 3, inputs: 20, outputs: 40, seed: 3)
    let whole = product.int8(portable: false)
    let part = product.int8(portable: false, columns: 16..<32)
    for r in 0..<3 {
      for c in 0..<40 {
        let value = part[r * 40 + c]
        if (16..<32).contains(c) { #expect(value == whole[r * 40 + c]) } else { #expect(value.isNaN) }
      }
    }
  }

  @Test func geluAndSoftmaxMatchTheirDefinitions() {
    var x: [Float] = [-3, -1, -0.5, 0, 0.5, 1, 3, 10]
    let expected: [Float] = x.map { 0.5 * $0 * (1 + erff($0 / Float(2).squareRoot())) }
    dk_gelu(&x, x.count)
    for (got, want) in zip(x, expected) { #expect(abs(got - want) < 1e-6) }
    var row: [Float] = [1, 2, 3, -50]
    dk_softmax_rows(&row, 1, 4)
    let e: [Float] = [1, 2, 3, -50].map { expf($0) }
    let total = e.reduce(0, +)
    for (got, want) in zip(row, e.map { $0 / total }) { #expect(abs(got - want) < 1e-6) }
  }
}
