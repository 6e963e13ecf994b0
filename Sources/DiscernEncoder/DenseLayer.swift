import CDiscernKernels
import Dispatch

/// How the encoder's linear layers compute: float32 or int8, both through Discern's own kernels (int8:
/// weights per output channel, activations per row, quantized on the fly).
public enum Precision: String, Sendable, CaseIterable, CustomStringConvertible {
  case fp32, int8
  public var description: String { rawValue }
}

/// What a linear layer applies to its outputs.
enum Activation: Sendable {
  case none
  /// GELU (erf), applied by each thread to the columns it just wrote.
  case gelu
}

/// One linear layer, `y = x·Wᵀ + b`, with its weights prepared once at load for its precision.
struct DenseLayer: @unchecked Sendable {
  let inputs: Int
  let outputs: Int
  let bias: [Float]
  private let weights: Weights

  private enum Weights {
    /// W in panels of 16 output columns (`dk_pack_sgemm_weights`), packed once here rather than by
    /// cblas_sgemm on every call.
    case fp32(packed: [Float])
    case int8(PackedInt8Weights)
  }

  /// `weight` is [outputs, inputs] as PyTorch stores it; `int8` nil means fp32.
  init(
    weight: UnsafeBufferPointer<Float>, bias: [Float], outputs: Int, inputs: Int,
    int8: (kernel: Int8Kernel, weights: WeightRange)?
  ) {
    self.inputs = inputs
    self.outputs = outputs
    self.bias = bias
    switch int8 {
    case nil:
      var packed = [Float](repeating: 0, count: dk_packed_sgemm_floats(Int32(outputs), Int32(inputs)))
      dk_pack_sgemm_weights(weight.baseAddress, Int32(outputs), Int32(inputs), &packed)
      weights = .fp32(packed: packed)
    case let (kernel, range)?:
      weights = .int8(PackedInt8Weights(weight: weight, bias: bias, outputs: outputs, inputs: inputs, kernel: kernel, range: range))
    }
  }

  /// Writes `rows` outputs for `rows` inputs, then `activation` on them. `scratch` holds the quantized
  /// activations (int8 only). With a `clock`, the quantization is charged to `.quantize`, the product
  /// to `stage` and the activation to its own stage (run as a pass of its own, so that a profile's
  /// product rates count products alone).
  func apply(
    _ input: UnsafePointer<Float>, rows: Int, into output: UnsafeMutablePointer<Float>, scratch: QuantizedRows,
    threads: Int, pool: WorkerPool?, activation: Activation = .none, clock: StageClock? = nil, stage: EncoderStage
  ) {
    let fused = clock == nil ? activation : .none
    defer {
      clock?.charge(stage)
      if clock != nil, activation == .gelu {
        dk_gelu(output, rows * outputs)
        clock?.charge(.gelu)
      }
    }
    let tiles = (outputs + 15) / 16
    let parts = max(1, min(threads, tiles))
    let out = SharedPointer(pointer: output)
    // Threads split the output columns (in whole 16-column tiles); each part is a plain product.
    @Sendable func columns(_ part: Int) -> Range<Int> { tiles * part / parts * 16..<min(outputs, tiles * (part + 1) / parts * 16) }
    // The product of one part's columns.
    let product: @Sendable (Range<Int>) -> Void
    switch weights {
    case .fp32(let packed):
      let source = SharedPointer(pointer: input)
      product = { range in
        packed.withUnsafeBufferPointer { weights in
          bias.withUnsafeBufferPointer { bias in
            dk_sgemm_packed(
              source.pointer, Int32(rows), Int32(inputs), weights.baseAddress, Int32(outputs), bias.baseAddress,
              out.pointer, Int32(outputs), Int32(range.lowerBound), Int32(range.upperBound))
          }
        }
      }
    case .int8(let packed):
      let outliers = dk_quantize_rows(
        input, Int32(rows), Int32(inputs), scratch.threshold, scratch.values, scratch.scales, scratch.zeroPoints,
        scratch.outliers, Int32(scratch.outlierCapacity))
      clock?.charge(.quantize)
      product = { range in
        dk_gemm_u8s8(
          packed.kernel.c, scratch.values, Int32(rows), Int32(inputs), scratch.scales, scratch.zeroPoints, packed.values,
          Int32(outputs), packed.scales, packed.sums, packed.bias, scratch.outliers, outliers, out.pointer,
          Int32(outputs), Int32(range.lowerBound), Int32(range.upperBound))
      }
    }
    WorkerPool.run(parts, on: pool) { part in
      let range = columns(part)
      product(range)
      if fused == .gelu { dk_gelu_columns(out.pointer, Int32(rows), Int32(outputs), Int32(range.lowerBound), Int32(range.upperBound)) }
    }
  }
}

/// A pointer handed to the threads of one parallel step, each of which reads it or writes its own
/// disjoint part (columns of a product, heads of attention).
struct SharedPointer<Pointee>: @unchecked Sendable { let pointer: Pointee }

/// Packed int8 weights with their per-channel scales and sums, the bias, and the path that multiplies
/// them (see DiscernKernels.h).
final class PackedInt8Weights: @unchecked Sendable {
  let kernel: Int8Kernel
  let values: UnsafeMutablePointer<Int8>
  let scales: UnsafeMutablePointer<Float>
  let sums: UnsafeMutablePointer<Int32>
  let bias: UnsafeMutablePointer<Float>

  init(weight: UnsafeBufferPointer<Float>, bias: [Float], outputs: Int, inputs: Int, kernel: Int8Kernel, range: WeightRange) {
    self.kernel = kernel
    values = .allocate(capacity: dk_packed_weight_bytes(Int32(outputs), Int32(inputs)))
    scales = .allocate(capacity: outputs)
    sums = .allocate(capacity: outputs)
    self.bias = .allocate(capacity: outputs)
    self.bias.initialize(from: bias, count: outputs)
    dk_quantize_weights(weight.baseAddress, Int32(outputs), Int32(inputs), range.limit, values, scales, sums)
  }

  deinit {
    values.deallocate()
    scales.deallocate()
    sums.deallocate()
    bias.deallocate()
  }
}

/// Room for one batch's quantized activations: u8 values, a scale and a zero point per row, and the
/// outliers set aside (see DiscernKernels.h).
final class QuantizedRows: @unchecked Sendable {
  let values: UnsafeMutablePointer<UInt8>
  let scales: UnsafeMutablePointer<Float>
  let zeroPoints: UnsafeMutablePointer<Int32>
  let outliers: UnsafeMutablePointer<dk_outlier>
  let outlierCapacity: Int
  /// LLM.int8()'s threshold: in this encoder it catches the one to three structural outliers per
  /// layer (values of 10–22 against a typical 2–4) and nothing else; it lifts the worst golden cosine
  /// from 0.9897 to 0.993 for about 0.1 ms.
  let threshold: Float = 6

  init(rows: Int, inputs: Int) {
    let padded = Int(dk_padded_inputs(Int32(inputs)))
    values = .allocate(capacity: max(1, rows * padded))
    scales = .allocate(capacity: max(1, rows))
    zeroPoints = .allocate(capacity: max(1, rows))
    outlierCapacity = 8 * rows
    outliers = .allocate(capacity: max(1, outlierCapacity))
  }

  deinit {
    values.deallocate()
    scales.deallocate()
    zeroPoints.deallocate()
    outliers.deallocate()
  }
}
