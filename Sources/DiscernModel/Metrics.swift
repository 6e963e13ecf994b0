import Foundation

/// How well probabilities for one label fit the truth on one set of rows.
public struct LabelMetrics: Sendable, Codable, Equatable {
  public var count: Int
  public var positives: Int
  public var precision: Double
  public var recall: Double
  public var f1: Double
  public var auroc: Double
  public var auprc: Double
  /// Expected calibration error over 15 equal-width bins.
  public var ece: Double
  public var brier: Double

  /// `threshold`: flagged when p ≥ threshold.
  public init(probabilities p: [Double], truth y: [Int], threshold: Double) {
    count = y.count
    positives = y.filter { $0 == 1 }.count
    var tp = 0, fp = 0, fn = 0
    for (prob, label) in zip(p, y) {
      let flagged = prob >= threshold
      if flagged && label == 1 { tp += 1 } else if flagged { fp += 1 } else if label == 1 { fn += 1 }
    }
    precision = tp + fp == 0 ? 0 : Double(tp) / Double(tp + fp)
    recall = tp + fn == 0 ? 0 : Double(tp) / Double(tp + fn)
    f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall)
    auroc = Self.auroc(p, y)
    auprc = Self.averagePrecision(p, y)
    let table = Reliability(probabilities: p, truth: y)
    ece = table.ece
    var squares = 0.0
    for (prob, label) in zip(p, y) { squares += (prob - Double(label)) * (prob - Double(label)) }
    brier = squares / Double(max(1, y.count))
  }

  /// The probability that a random positive outranks a random negative (ties count half).
  static func auroc(_ p: [Double], _ y: [Int]) -> Double {
    let order = p.indices.sorted { p[$0] < p[$1] }
    var rankSum = 0.0, position = 0
    let positives = y.filter { $0 == 1 }.count, negatives = y.count - positives
    guard positives > 0, negatives > 0 else { return .nan }
    while position < order.count {
      var end = position
      while end + 1 < order.count && p[order[end + 1]] == p[order[position]] { end += 1 }
      let averageRank = Double(position + end) / 2 + 1
      for k in position...end where y[order[k]] == 1 { rankSum += averageRank }
      position = end + 1
    }
    return (rankSum - Double(positives * (positives + 1)) / 2) / Double(positives * negatives)
  }

  /// Average precision: the mean of precision at each positive, ranked by probability.
  static func averagePrecision(_ p: [Double], _ y: [Int]) -> Double {
    let order = p.indices.sorted { p[$0] > p[$1] }
    let positives = y.filter { $0 == 1 }.count
    guard positives > 0 else { return .nan }
    var hits = 0, total = 0.0
    for (rank, index) in order.enumerated() where y[index] == 1 {
      hits += 1
      total += Double(hits) / Double(rank + 1)
    }
    return total / Double(positives)
  }
}

/// The reliability table: per probability bin, how many rows, their mean probability and the share
/// that were positive.
public struct Reliability: Sendable, Codable, Equatable {
  public struct Bin: Sendable, Codable, Equatable {
    public var lower: Double
    public var upper: Double
    public var count: Int
    public var meanProbability: Double
    public var positiveRate: Double
  }

  public var bins: [Bin]

  public init(probabilities p: [Double], truth y: [Int], binCount: Int = 15) {
    var counts = [Int](repeating: 0, count: binCount)
    var sums = [Double](repeating: 0, count: binCount), positives = sums
    for (prob, label) in zip(p, y) {
      let bin = min(binCount - 1, max(0, Int(prob * Double(binCount))))
      counts[bin] += 1
      sums[bin] += prob
      positives[bin] += Double(label)
    }
    var bins: [Bin] = []
    for b in 0..<binCount {
      let n = Double(max(1, counts[b]))
      let lower = Double(b) / Double(binCount), upper = Double(b + 1) / Double(binCount)
      bins.append(Bin(lower: lower, upper: upper, count: counts[b], meanProbability: sums[b] / n, positiveRate: positives[b] / n))
    }
    self.bins = bins
  }

  /// Σ (nᵦ/n)·|mean probability − positive rate|.
  public var ece: Double {
    let total = bins.reduce(0) { $0 + $1.count }
    guard total > 0 else { return .nan }
    return bins.reduce(0) { $0 + Double($1.count) / Double(total) * abs($1.meanProbability - $1.positiveRate) }
  }
}
