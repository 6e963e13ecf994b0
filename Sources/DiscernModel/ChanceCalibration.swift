import Foundation

/// How large an ECE a perfectly calibrated model would show on the same rows by chance alone.
///
/// Binned ECE is biased upward on small sets: with 62 rows in 15 bins, a model whose probabilities
/// are exactly right still scores around 0.1, because each bin's positive rate is a handful of coin
/// flips. So an ECE is only evidence of miscalibration when it is beyond what such a model scores.
/// This draws the truth from the model's own probabilities (yᵢ ~ Bernoulli(pᵢ), the consistency
/// resampling of Bröcker & Smith 2007) many times and reports the spread of the ECE it gets.
public struct ChanceCalibration: Sendable, Equatable {
  /// The median ECE of a calibrated model on these rows.
  public var median: Double
  /// 95% of the draws score at most this.
  public var upper95: Double
  /// The share of draws scoring at least the observed ECE: below 0.05, the miscalibration is real.
  public var pValue: Double

  /// Seeded, so a report prints the same figures every run.
  public init(probabilities: [Double], observedECE: Double, draws: Int = 1000, seed: UInt64 = 17) {
    var generator = SplitMix64(seed: seed)
    var scores: [Double] = []
    scores.reserveCapacity(draws)
    var truth = [Int](repeating: 0, count: probabilities.count)
    for _ in 0..<draws {
      for (i, p) in probabilities.enumerated() { truth[i] = generator.nextUnit() < p ? 1 : 0 }
      scores.append(Reliability(probabilities: probabilities, truth: truth).ece)
    }
    scores.sort()
    median = scores[draws / 2]
    upper95 = scores[min(draws - 1, Int((Double(draws) * 0.95).rounded(.up)) - 1)]
    // A tiny tolerance so that an observed ECE equal to a draw's (same sums) counts as reached.
    pValue = Double(scores.filter { $0 >= observedECE - 1e-12 }.count) / Double(draws)
  }

  /// True when the observed ECE is beyond what a calibrated model scores on these rows 95% of the time
  /// (on thousands of rows even a small, harmless miscalibration is "beyond chance": read it with the ECE).
  public var miscalibrated: Bool { pValue < 0.05 }
}

/// Sebastiano Vigna's SplitMix64: small, fast, and the same stream on every platform (the standard
/// library's generator is neither seeded nor stable across releases).
struct SplitMix64 {
  private var state: UInt64

  init(seed: UInt64) { state = seed }

  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// Uniform in [0, 1) from the top 53 bits.
  mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1.0p-53 }
}
