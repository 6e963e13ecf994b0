import CDiscernKernels
import DiscernEncoder
import Foundation
import Testing

/// The int8 kernel: every path this CPU runs must give the portable path's bytes exactly at the same
/// weights (the integer product is exact by construction), and all must approximate the float product.
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

    func int8(
      _ kernel: Int8Kernel = .fastest, weights: WeightRange = .sevenBit, columns: Range<Int>? = nil,
      threshold: Float = .infinity
    ) -> [Float] {
      var packed = [Int8](repeating: 0, count: dk_packed_weight_bytes(Int32(outputs), Int32(inputs)))
      var scales = [Float](repeating: 0, count: outputs), sums = [Int32](repeating: 0, count: outputs)
      dk_quantize_weights(weight, Int32(outputs), Int32(inputs), weights.limit, &packed, &scales, &sums)
      var q = [UInt8](repeating: 0, count: rows * Int(dk_padded_inputs(Int32(inputs))))
      var rowScales = [Float](repeating: 0, count: rows), zeros = [Int32](repeating: 0, count: rows)
      var outliers = [dk_outlier](repeating: dk_outlier(), count: 4 * rows)
      let count = dk_quantize_rows(input, Int32(rows), Int32(inputs), threshold, &q, &rowScales, &zeros, &outliers, Int32(4 * rows))
      var out = [Float](repeating: .nan, count: rows * outputs)
      let columns = columns ?? 0..<outputs
      let path: dk_kernel = switch kernel {
      case .portable: DK_KERNEL_PORTABLE
      case .avx2: DK_KERNEL_AVX2
      case .avx512vnni: DK_KERNEL_AVX512_VNNI
      case .avxvnni: DK_KERNEL_AVX_VNNI
      }
      dk_gemm_u8s8(
        path, q, Int32(rows), Int32(inputs), rowScales, zeros, packed, Int32(outputs), scales, sums, bias, outliers, count,
        &out, Int32(outputs), Int32(columns.lowerBound), Int32(columns.upperBound))
      return out
    }
  }

  /// Odd sizes (inputs not a multiple of 4, outputs not of 16, rows not of 4 or 8), the model's widths,
  /// more rows than one tile of any path, and runs of 16-channel blocks the AVX-512 path takes three,
  /// two and one at a time (96 = 3 + 3, 80 = 3 + 2).
  static let shapes: [(Int, Int, Int)] = [
    (1, 4, 1), (3, 7, 5), (4, 64, 16), (5, 70, 33), (9, 384, 48), (32, 100, 17), (13, 385, 47), (19, 1537, 31), (17, 64, 96),
    (10, 48, 80),
  ]

  /// `kernel` against the portable path at every weight range it multiplies exactly: whole, with
  /// outliers set aside (the inputs have values up to 4; at 0.5 more than the list holds), and in
  /// column ranges as threads split them.
  static func expectPortable(_ kernel: Int8Kernel, shape: (Int, Int, Int)) {
    let product = Product(rows: shape.0, inputs: shape.1, outputs: shape.2, seed: UInt64(shape.0 * 1000 + shape.1))
    for weights in WeightRange.allCases where weights.limit <= kernel.widestWeights.limit {
      for threshold: Float in [.infinity, 2, 0.5] {
        #expect(
          product.int8(kernel, weights: weights, threshold: threshold)
            == product.int8(.portable, weights: weights, threshold: threshold),
          "\(kernel) at \(weights), threshold \(threshold)")
      }
      let split = 16 * (shape.2 / 32)
      for columns in [0..<split, split..<shape.2] where !columns.isEmpty {
        let part = product.int8(kernel, weights: weights, columns: columns, threshold: 2)
        let whole = product.int8(.portable, weights: weights, threshold: 2)
        for r in 0..<shape.0 {
          for c in 0..<shape.2 {
            let value = part[r * shape.2 + c]
            if columns.contains(c) { #expect(value == whole[r * shape.2 + c], "\(kernel) columns \(columns)") } else { #expect(value.isNaN) }
          }
        }
      }
    }
  }

  @Test(.enabled(if: Int8Kernel.avx2.isSupported, "this CPU lacks AVX2 and FMA"), arguments: shapes)
  func theAVX2PathEqualsThePortablePath(shape: (Int, Int, Int)) { Self.expectPortable(.avx2, shape: shape) }

  @Test(.enabled(if: Int8Kernel.avx512vnni.isSupported, "this CPU lacks AVX-512 F, BW and VNNI"), arguments: shapes)
  func theAVX512VNNIPathEqualsThePortablePath(shape: (Int, Int, Int)) { Self.expectPortable(.avx512vnni, shape: shape) }

  @Test(.enabled(if: Int8Kernel.avxvnni.isSupported, "this CPU lacks AVX-VNNI (the VEX 256-bit form)"), arguments: shapes)
  func theAVXVNNIPathEqualsThePortablePath(shape: (Int, Int, Int)) { Self.expectPortable(.avxvnni, shape: shape) }

  /// Eight-bit weights halve each weight's rounding step, so the product comes closer to the float one
  /// (by less than half: the activations' rounding stays).
  @Test func eightBitWeightsComeCloserToTheFloatProduct() {
    let product = Product(rows: 16, inputs: 384, outputs: 64, seed: 17)
    let exact = product.float()
    func meanError(_ weights: WeightRange) -> Float {
      zip(exact, product.int8(.portable, weights: weights)).map { abs($0 - $1) }.reduce(0, +) / Float(exact.count)
    }
    let seven = meanError(.sevenBit), eight = meanError(.eightBit)
    #expect(eight < seven * 0.95, "mean error \(eight) with ±127 against \(seven) with ±63")
  }

  @Test func theFastestPathIsOneThisCPURuns() throws {
    #expect(Int8Kernel.fastest.isSupported)
    #expect(Int8Kernel.supported.contains(.portable))
    #expect(try Int8Kernel.chosen(environment: [:]) == Int8Kernel.fastest)
    #expect(try Int8Kernel.chosen(environment: ["DISCERN_KERNEL": "portable"]) == .portable)
  }

  @Test func aKernelNamedWronglySaysWhichExist() {
    #expect(throws: EncoderError.unknownKernel("sse4")) { try Int8Kernel.chosen(environment: ["DISCERN_KERNEL": "sse4"]) }
    #expect(
      EncoderError.unknownKernel("sse4").description
        == "DISCERN_KERNEL='sse4' names no int8 kernel path; use one of portable, avx2, avx512vnni, avxvnni, "
        + "or unset it for the fastest this CPU runs (\(Int8Kernel.fastest))")
  }

  @Test(.enabled(if: !Int8Kernel.avxvnni.isSupported, "this CPU runs AVX-VNNI"))
  func aPathTheCPULacksIsRefused() {
    #expect(throws: EncoderError.kernelUnsupported(.avxvnni)) { try Int8Kernel.chosen(environment: ["DISCERN_KERNEL": "avxvnni"]) }
    let runs = Int8Kernel.supported.map(\.rawValue).joined(separator: ", ")
    #expect(
      EncoderError.kernelUnsupported(.avxvnni).description
        == "the int8 kernel path 'avxvnni' needs AVX-VNNI, which this CPU lacks; this CPU runs \(runs) (unset DISCERN_KERNEL for the fastest)")
  }

  /// VPMADDUBSW would saturate on ±127 weights: the encoder refuses before reading any file.
  @Test func theAVX2PathRefusesEightBitWeights() {
    #expect(throws: EncoderError.weightRangeUnsupported(kernel: .avx2, range: .eightBit)) {
      try BertEncoder(folder: "/nonexistent", precision: .int8, kernel: .avx2, weights: .eightBit)
    }
    #expect(
      EncoderError.weightRangeUnsupported(kernel: .avx2, range: .eightBit).description
        == "the int8 kernel path 'avx2' multiplies weights up to ±63 exactly, not ±127 (its 16-bit pair sums would "
        + "saturate); use weight range 63 or a VNNI path")
  }

  @Test func anOutlierSetAsideKeepsTheRestOfItsRowPrecise() {
    var product = Product(rows: 2, inputs: 64, outputs: 16, seed: 5)
    product.input[3] = 60  // one value 60 times the others, as in a transformer's [CLS] row
    let exact = product.float()
    func worst(_ approximate: [Float]) -> Float { zip(exact, approximate).map { abs($0 - $1) }.max()! }
    let stretched = worst(product.int8())
    let setAside = worst(product.int8(threshold: 6))
    // What remains is mostly the outlier times its weights' rounding.
    #expect(setAside < stretched / 2, "error \(setAside) with the outlier set aside, \(stretched) without")
  }

  @Test(arguments: shapes) func int8ApproximatesTheFloatProduct(shape: (Int, Int, Int)) {
    let product = Product(rows: shape.0, inputs: shape.1, outputs: shape.2, seed: 11)
    let exact = product.float(), approximate = product.int8()
    // Error relative to the spread of the outputs, the scale a downstream LayerNorm sees.
    let spread = exact.map(abs).max()! + 1e-6
    let worst = zip(exact, approximate).map { abs($0 - $1) }.max()!
    #expect(worst / spread < 0.05, "worst error \(worst) against outputs up to \(spread)")
  }

  @Test func geluAndSoftmaxMatchTheirDefinitions() {
    var x: [Float] = [-3, -1, -0.5, 0, 0.5, 1, 3, 10]
    let expected: [Float] = x.map { 0.5 * $0 * (1 + erff($0 / Float(2).squareRoot())) }
    dk_gelu(&x, x.count)
    for (got, want) in zip(x, expected) { #expect(abs(got - want) < 1e-6) }
    // Past one vector and a tail: every lane of the AVX-512 and AVX2 loops.
    var long = (0..<37).map { Float($0 - 18) / 4 }
    let longExpected = long.map { 0.5 * $0 * (1 + erff($0 / Float(2).squareRoot())) }
    dk_gelu(&long, long.count)
    for (got, want) in zip(long, longExpected) { #expect(abs(got - want) < 1e-6, "GELU at \(want)") }
    var row: [Float] = [1, 2, 3, -50]
    dk_softmax_rows(&row, 1, 4)
    let e: [Float] = [1, 2, 3, -50].map { expf($0) }
    let total = e.reduce(0, +)
    for (got, want) in zip(row, e.map { $0 / total }) { #expect(abs(got - want) < 1e-6) }
  }

  /// A thread applies GELU to the columns it wrote and to nothing else.
  @Test func geluOnColumnsTouchesOnlyThoseColumns() {
    let rows = 3, width = 40
    let x = (0..<rows * width).map { Float($0 % 13) / 3 - 2 }
    var partial = x
    dk_gelu_columns(&partial, Int32(rows), Int32(width), 16, 35)
    var whole = x
    dk_gelu(&whole, whole.count)
    for r in 0..<rows {
      for c in 0..<width {
        let i = r * width + c
        #expect(partial[i] == ((16..<35).contains(c) ? whole[i] : x[i]), "row \(r), column \(c)")
      }
    }
  }

  /// Activations to u8 on every path this CPU runs, against the portable path: the same bytes, row
  /// scales, zero points and outlier list, with no outliers, some, and more than the list holds
  /// (inputs not a multiple of 16 or 32, so every tail runs).
  @Test(arguments: [(3, 7), (5, 100), (9, 384), (4, 1537)])
  func everyQuantizePathGivesThePortablePathsBytes(shape: (rows: Int, inputs: Int)) {
    let input = Product(rows: shape.rows, inputs: shape.inputs, outputs: 1, seed: UInt64(shape.inputs)).input
    let padded = shape.rows * Int(dk_padded_inputs(Int32(shape.inputs)))
    func run(_ path: dk_quantize_path, threshold: Float, capacity: Int) -> ([UInt8], [Float], [Int32], [String])? {
      var q = [UInt8](repeating: 7, count: padded)
      var scales = [Float](repeating: 0, count: shape.rows), zeros = [Int32](repeating: 0, count: shape.rows)
      var outliers = [dk_outlier](repeating: dk_outlier(), count: max(1, capacity))
      let count = dk_quantize_rows_on(
        path, input, Int32(shape.rows), Int32(shape.inputs), threshold, &q, &scales, &zeros, &outliers, Int32(capacity))
      guard count >= 0 else { return nil }
      return (q, scales, zeros, outliers.prefix(Int(count)).map { "\($0.row),\($0.column),\($0.value)" })
    }
    for (threshold, capacity) in [(Float.infinity, 0), (3, 4 * shape.rows), (0.5, 2)] {
      let portable = run(DK_QUANTIZE_PORTABLE, threshold: threshold, capacity: capacity)!
      for path in [DK_QUANTIZE_AVX2, DK_QUANTIZE_AVX512] {
        guard let other = run(path, threshold: threshold, capacity: capacity) else { continue }
        let differing = zip(other.0, portable.0).filter { $0 != $1 }.count
        #expect(differing == 0, "path \(path.rawValue), threshold \(threshold): \(differing) of \(padded) bytes differ")
        #expect(other.1 == portable.1 && other.2 == portable.2, "path \(path.rawValue), threshold \(threshold): scales")
        #expect(other.3 == portable.3, "path \(path.rawValue), threshold \(threshold): outliers")
      }
    }
  }
}
