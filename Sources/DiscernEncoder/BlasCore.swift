import CDiscernKernels

/// The kernels OpenBLAS runs the encoder's fp32 products (and attention) with, and who chose them.
/// OpenBLAS picks them once per process, when it loads (`dk_blas_load`).
public struct BlasCore: Sendable, Equatable, CustomStringConvertible {
  public enum Source: Sendable, Equatable {
    /// The user set OPENBLAS_CORETYPE.
    case user
    /// Discern chose from the CPU's features (OpenBLAS's own table of CPU models can be older than the CPU).
    case cpuFeatures
    /// OpenBLAS's own detection: this CPU has neither AVX-512 nor AVX2 + FMA, or is not x86.
    case openBLAS
  }

  /// OpenBLAS's name for the core type ("SkylakeX", "Haswell", "Prescott", …).
  public let name: String
  public let source: Source

  public init(name: String, source: Source) {
    self.name = name
    self.source = source
  }

  /// The loaded OpenBLAS's core type, or nil when OpenBLAS cannot be loaded.
  public static var current: BlasCore? {
    guard let name = dk_blas_core_name() else { return nil }
    let source: Source
    switch dk_blas_core_origin() {
    case DK_BLAS_CORE_USER: source = .user
    case DK_BLAS_CORE_CHOSEN: source = .cpuFeatures
    default: source = .openBLAS
    }
    return BlasCore(name: String(cString: name), source: source)
  }

  public var description: String {
    switch source {
    case .user: "OpenBLAS core \(name) (set by OPENBLAS_CORETYPE)"
    case .cpuFeatures: "OpenBLAS core \(name) (chosen from this CPU's features; OPENBLAS_CORETYPE overrides)"
    case .openBLAS: "OpenBLAS core \(name) (OpenBLAS's own detection; OPENBLAS_CORETYPE overrides)"
    }
  }
}

extension BertEncoder {
  /// One line saying what runs this encoder, for a user checking their setup:
  /// "encoder: 3 layers, fp32, 2 threads; OpenBLAS core SkylakeX (chosen from this CPU's features; …)".
  public var runtimeSummary: String {
    let layers = config.layers == 1 ? "1 layer" : "\(config.layers) layers"
    let threadCount = threads == 1 ? "1 thread" : "\(threads) threads"
    // The encoder loaded OpenBLAS before it could exist, so the core is known.
    let core = BlasCore.current?.description ?? "OpenBLAS not loaded"
    return "encoder: \(layers), \(precision), \(threadCount); \(core)"
  }
}
