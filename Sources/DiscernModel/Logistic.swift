import CDiscernKernels
import Foundation

/// L2-regularised, sample-weighted logistic regression fitted by Newton's method: deterministic
/// (no random start, no shuffling), and exact to the optimum in a few steps for the few hundred
/// dimensions it sees here.
public struct LogisticRegression: Sendable, Codable, Equatable {
  public var weights: [Double]
  public var bias: Double

  public init(weights: [Double], bias: Double) {
    self.weights = weights
    self.bias = bias
  }

  public func logit(_ x: [Double]) -> Double { zip(weights, x).reduce(bias) { $0 + $1.0 * $1.1 } }

  /// Minimises Σ cᵢ·logloss(yᵢ, σ(w·xᵢ + b + offsetᵢ)) + λ/2·|w|² (the bias is not penalised, nor
  /// the columns in `unpenalized`). `x` is row-major, n × d. `offsets` carry fixed contributions
  /// (pinned weights).
  public static func fit(
    x: [Double], rows n: Int, columns d: Int, y: [Double], sampleWeights c: [Double], l2: Double,
    unpenalized: Set<Int> = [], offsets: [Double]? = nil, maxIterations: Int = 50
  ) -> LogisticRegression {
    let p = d + 1
    let penalty = (0..<d).map { unpenalized.contains($0) ? 0 : l2 }
    // The design with a column of ones for the bias.
    var design = [Double](repeating: 0, count: n * p)
    for i in 0..<n {
      for j in 0..<d { design[i * p + j] = x[i * d + j] }
      design[i * p + d] = 1
    }
    var beta = [Double](repeating: 0, count: p)
    func loss(_ beta: [Double]) -> Double {
      var total = 0.0
      for i in 0..<n {
        var z = offsets?[i] ?? 0
        for j in 0..<p { z += design[i * p + j] * beta[j] }
        // log(1 + e^z) − y·z, stable for large |z|.
        total += c[i] * ((z > 0 ? z + log1p(exp(-z)) : log1p(exp(z))) - y[i] * z)
      }
      for j in 0..<d { total += 0.5 * penalty[j] * beta[j] * beta[j] }
      return total
    }
    var current = loss(beta)
    var scaled = [Double](repeating: 0, count: n * p)
    for _ in 0..<maxIterations {
      var gradient = [Double](repeating: 0, count: p)
      for i in 0..<n {
        var z = offsets?[i] ?? 0
        for j in 0..<p { z += design[i * p + j] * beta[j] }
        let prob = 1 / (1 + exp(-z))
        let residual = c[i] * (prob - y[i])
        let curvature = (c[i] * prob * (1 - prob)).squareRoot()
        for j in 0..<p {
          gradient[j] += residual * design[i * p + j]
          scaled[i * p + j] = curvature * design[i * p + j]
        }
      }
      for j in 0..<d { gradient[j] += penalty[j] * beta[j] }
      // Hessian = Σ cᵢ pᵢ(1−pᵢ) xᵢxᵢᵀ + λI, through BLAS (n can be tens of thousands).
      var hessian = [Double](repeating: 0, count: p * p)
      dk_dsyrk_upper_transposed(Int32(p), Int32(n), 1, scaled, Int32(p), 0, &hessian, Int32(p))
      for j in 0..<p { for k in 0..<j { hessian[j * p + k] = hessian[k * p + j] } }
      for j in 0..<d { hessian[j * p + j] += penalty[j] }
      hessian[d * p + d] += 1e-9
      guard let step = solveSymmetric(hessian, gradient, size: p) else { break }
      // Damped Newton: halve the step until the loss goes down.
      var scale = 1.0
      var accepted = false
      while scale > 1e-6 {
        let candidate = zip(beta, step).map { $0 - scale * $1 }
        let value = loss(candidate)
        if value <= current {
          let improvement = current - value
          beta = candidate
          current = value
          accepted = true
          if improvement < 1e-9 * max(1, abs(value)) { return LogisticRegression(weights: Array(beta[0..<d]), bias: beta[d]) }
          break
        }
        scale /= 2
      }
      if !accepted { break }
    }
    return LogisticRegression(weights: Array(beta[0..<d]), bias: beta[d])
  }

  /// Solves A·x = b for symmetric positive-definite A by Cholesky; nil when A is not.
  static func solveSymmetric(_ a: [Double], _ b: [Double], size n: Int) -> [Double]? {
    var l = [Double](repeating: 0, count: n * n)
    for i in 0..<n {
      for j in 0...i {
        var sum = a[i * n + j]
        for k in 0..<j { sum -= l[i * n + k] * l[j * n + k] }
        if i == j {
          guard sum > 0 else { return nil }
          l[i * n + i] = sum.squareRoot()
        } else {
          l[i * n + j] = sum / l[j * n + j]
        }
      }
    }
    var y = [Double](repeating: 0, count: n)
    for i in 0..<n {
      var sum = b[i]
      for k in 0..<i { sum -= l[i * n + k] * y[k] }
      y[i] = sum / l[i * n + i]
    }
    var x = [Double](repeating: 0, count: n)
    for i in stride(from: n - 1, through: 0, by: -1) {
      var sum = y[i]
      for k in (i + 1)..<n { sum -= l[k * n + i] * x[k] }
      x[i] = sum / l[i * n + i]
    }
    return x
  }
}
