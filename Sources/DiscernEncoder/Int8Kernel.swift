import CDiscernKernels
import Foundation

/// The instruction path of the int8 matrix product. Every path computes the same exact integer
/// product, so at the same weights all give the portable path's floats bit for bit; they differ in
/// speed and in how wide the weights may be (see `WeightRange`).
public enum Int8Kernel: String, CaseIterable, Sendable, CustomStringConvertible {
  /// Plain C: any CPU.
  case portable
  /// VPMADDUBSW + VPMADDWD on 256 bits (x86-64 since 2013).
  case avx2
  /// VPDPBUSD on 512 bits (AVX-512 F, BW and VNNI).
  case avx512vnni
  /// VPDPBUSD on 256 bits, VEX-encoded (AVX-VNNI: CPUs with VNNI but without AVX-512).
  case avxvnni

  /// Set it to one of the raw values to force that path (tests, comparisons, a CPU that misreports).
  public static let environmentVariable = "DISCERN_KERNEL"

  public var description: String { rawValue }

  var c: dk_kernel {
    switch self {
    case .portable: DK_KERNEL_PORTABLE
    case .avx2: DK_KERNEL_AVX2
    case .avx512vnni: DK_KERNEL_AVX512_VNNI
    case .avxvnni: DK_KERNEL_AVX_VNNI
    }
  }

  /// The instructions the path needs, as a person looks them up in /proc/cpuinfo.
  public var requirement: String {
    switch self {
    case .portable: "nothing"
    case .avx2: "AVX2 and FMA"
    case .avx512vnni: "AVX-512 F, BW and VNNI"
    case .avxvnni: "AVX-VNNI"
    }
  }

  /// Whether this CPU runs the path.
  public var isSupported: Bool { dk_kernel_supported(c) != 0 }

  /// The paths this CPU runs, in declaration order.
  public static var supported: [Int8Kernel] { allCases.filter(\.isSupported) }

  /// The fastest path this CPU runs.
  public static var fastest: Int8Kernel {
    switch dk_kernel_fastest() {
    case DK_KERNEL_AVX512_VNNI: .avx512vnni
    case DK_KERNEL_AVX_VNNI: .avxvnni
    case DK_KERNEL_AVX2: .avx2
    default: .portable
    }
  }

  /// The widest weights the path multiplies exactly: VPMADDUBSW's saturating 16-bit pair sums hold
  /// 2·255·63 but not 2·255·127.
  public var widestWeights: WeightRange { self == .avx2 ? .sevenBit : .eightBit }

  /// The weights an encoder loads with on `kernel` unless told otherwise: ±63 on every path, so that
  /// every CPU computes the same numbers and the shipped fusion model (fit on ±63 embeddings) reads
  /// what it was calibrated on. ±127 is 3.5× closer to fp32 (README) but moves borderline decisions;
  /// it becomes the VNNI default once the fusion model is refit on it.
  public static func defaultWeights(for kernel: Int8Kernel) -> WeightRange { .sevenBit }

  /// The path named by `DISCERN_KERNEL` in `environment` when set (it must be one this CPU runs),
  /// else the fastest.
  public static func chosen(environment: [String: String] = ProcessInfo.processInfo.environment) throws(EncoderError)
    -> Int8Kernel
  {
    guard let name = environment[environmentVariable], !name.isEmpty else { return fastest }
    guard let kernel = Int8Kernel(rawValue: name) else { throw .unknownKernel(name) }
    guard kernel.isSupported else { throw .kernelUnsupported(kernel) }
    return kernel
  }
}

/// How wide the int8 weights are: symmetric per output channel, to ±63 or ±127. Wider weights halve
/// the rounding error of every weight; only the VNNI and portable paths can multiply them exactly.
public enum WeightRange: String, CaseIterable, Sendable, CustomStringConvertible {
  case sevenBit = "63"
  case eightBit = "127"

  public var description: String { "±" + rawValue }
  /// The largest weight magnitude.
  public var limit: Int32 { self == .sevenBit ? 63 : 127 }
}
