import Foundation

/// Maps a raw logit to a calibrated probability, fitted on `dev`.
public enum Calibration: Sendable, Codable, Equatable {
  /// Platt scaling: p = σ(a·z + b). With b = 0 it is temperature scaling (a = 1/T).
  case platt(a: Double, b: Double)
  /// Isotonic regression: a non-decreasing step function of z (pool-adjacent-violators), as
  /// (upper logit of the step, probability) pairs.
  case isotonic(steps: [Step])

  public struct Step: Sendable, Codable, Equatable {
    public var upTo: Double
    public var probability: Double
  }

  public func probability(_ z: Double) -> Double {
    switch self {
    case .platt(let a, let b): return 1 / (1 + exp(-(a * z + b)))
    case .isotonic(let steps):
      guard let step = steps.first(where: { z <= $0.upTo }) ?? steps.last else { return 0.5 }
      return step.probability
    }
  }

  public enum Method: String, Sendable, CaseIterable { case platt, isotonic }

  public static func fit(_ method: Method, logits z: [Double], truth y: [Int]) -> Calibration {
    switch method {
    case .platt:
      let model = LogisticRegression.fit(
        x: z, rows: z.count, columns: 1, y: y.map(Double.init), sampleWeights: [Double](repeating: 1, count: z.count),
        l2: 1e-6)
      return .platt(a: model.weights[0], b: model.bias)
    case .isotonic:
      // Pool adjacent violators over rows sorted by logit.
      let order = z.indices.sorted { z[$0] < z[$1] }
      var blocks: [(upTo: Double, sum: Double, count: Double)] = []
      for index in order {
        blocks.append((z[index], Double(y[index]), 1))
        while blocks.count > 1, blocks[blocks.count - 2].sum / blocks[blocks.count - 2].count > blocks[blocks.count - 1].sum / blocks[blocks.count - 1].count {
          let last = blocks.removeLast()
          blocks[blocks.count - 1] = (last.upTo, blocks[blocks.count - 1].sum + last.sum, blocks[blocks.count - 1].count + last.count)
        }
      }
      // Keep probabilities off 0 and 1: a calibrated 0 would hide every later contribution.
      return .isotonic(steps: blocks.map { Step(upTo: $0.upTo, probability: min(0.999, max(0.001, $0.sum / $0.count))) })
    }
  }
}
