import CDiscernKernels
import Dispatch

/// The steps of a forward pass, as a profile charges its time (summed over layers).
public enum EncoderStage: String, CaseIterable, Sendable {
  /// Embedding lookup and its LayerNorm.
  case embeddings
  /// Activations to u8 before each int8 product (none in fp32).
  case quantize
  /// The four linear layers: query-key-value, attention output, feed-forward in and out.
  case qkv, attentionOut = "attention-out", ffnIn = "ffn-in", ffnOut = "ffn-out"
  /// Scores, softmax and context per head, in fp32.
  case attention
  case gelu
  /// Both residual LayerNorms.
  case layerNorm = "layernorm"
  /// Mean pooling and normalisation.
  case pooling

  /// The linear layers, whose multiply-accumulates a profile counts.
  public static let products: [EncoderStage] = [.qkv, .attentionOut, .ffnIn, .ffnOut]
}

/// Charges the time since its last charge to a stage; one per forward pass, on its calling thread.
final class StageClock {
  private var last = DispatchTime.now().uptimeNanoseconds
  private(set) var nanoseconds: [EncoderStage: UInt64] = [:]

  func charge(_ stage: EncoderStage) {
    let now = DispatchTime.now().uptimeNanoseconds
    nanoseconds[stage, default: 0] += now - last
    last = now
  }
}

/// Where one message's forward pass spends its time.
public struct EncoderProfile: Sendable {
  public let tokens: Int
  /// Median seconds per forward pass in each stage (medians, not means: on a shared machine a
  /// descheduled thread lands whole milliseconds in one stage).
  public let seconds: [EncoderStage: Double]
  /// Multiply-accumulates per forward pass of each linear layer stage, over all layers.
  public let multiplyAccumulates: [EncoderStage: Int]
}

extension BertEncoder {
  /// Profiles `runs` forward passes of one message of exactly `tokens` tokens ([CLS], repeats of
  /// one word, [SEP]) on the encoder's threads, after a few unmeasured ones.
  public func profile(tokens: Int, runs: Int) -> EncoderProfile {
    let word = tokenizer.encode("hello")[1]
    let ids = [tokenizer.clsID] + [Int32](repeating: word, count: max(0, tokens - 2)) + [tokenizer.sepID]
    for _ in 0..<3 { _ = forward(ids: [ids], threads: threads, tagging: false) }
    var times: [EncoderStage: [UInt64]] = [:]
    for _ in 0..<max(1, runs) {
      let clock = StageClock()
      _ = forward(ids: [ids], threads: threads, tagging: false, clock: clock)
      for (stage, nanoseconds) in clock.nanoseconds { times[stage, default: []].append(nanoseconds) }
    }
    let h = config.hiddenSize, i = config.intermediateSize, n = ids.count, layers = config.layers
    return EncoderProfile(
      tokens: n, seconds: times.mapValues { Double($0.sorted()[$0.count / 2]) / 1e9 },
      multiplyAccumulates: [
        .qkv: layers * n * h * 3 * h, .attentionOut: layers * n * h * h, .ffnIn: layers * n * h * i, .ffnOut: layers * n * i * h,
      ])
  }
}

/// An instruction sequence whose sustained multiply-accumulate rate bounds a kernel path: the
/// roofline a profile's achieved rates are read against.
public enum MultiplyAccumulatePath: String, CaseIterable, Sendable {
  case avx2 = "avx2 vpmaddubsw+vpmaddwd ymm"
  case avx512vnni = "avx512vnni vpdpbusd zmm"
  case avx512vnniYmm = "avx512vl vpdpbusd ymm"
  case avxvnni = "avxvnni vpdpbusd ymm"
  case fmaYmm = "fp32 vfmadd ymm"
  case fmaZmm = "fp32 vfmadd zmm"

  var c: dk_peak {
    switch self {
    case .avx2: DK_PEAK_AVX2_MADDUBS
    case .avx512vnni: DK_PEAK_AVX512_VNNI_ZMM
    case .avx512vnniYmm: DK_PEAK_AVX512_VNNI_YMM
    case .avxvnni: DK_PEAK_AVX_VNNI_YMM
    case .fmaYmm: DK_PEAK_FMA_YMM
    case .fmaZmm: DK_PEAK_FMA_ZMM
    }
  }

  public var isSupported: Bool { dk_peak_supported(c) != 0 }

  /// The sequence an int8 kernel path runs (nil for the portable path, which has no fixed one).
  public init?(_ kernel: Int8Kernel) {
    switch kernel {
    case .avx2: self = .avx2
    case .avx512vnni: self = .avx512vnni
    case .avxvnni: self = .avxvnni
    case .portable: return nil
    }
  }

  /// Multiply-accumulates per second on the calling thread's core: the best of `attempts` runs of
  /// about a millisecond each. Short runs, since on a shared machine another process only ever
  /// slows a run, and a short one is likelier to get the core to itself. 0 when unsupported.
  public func sustainedRate(attempts: Int = 200) -> Double {
    guard isSupported else { return 0 }
    var best = 0.0
    for _ in 0..<max(1, attempts) {
      let start = DispatchTime.now().uptimeNanoseconds
      let macs = dk_peak_run(c, 200_000)
      best = max(best, Double(macs) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9))
    }
    return best
  }
}
