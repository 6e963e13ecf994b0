import DiscernEncoder
import DiscernModel
import DiscernRules

/// One label's logit laid out for deciding: the weights by rule position in `RuleEvaluation.features`
/// (0 for shadow and untrained rules), its calibration and its policy row, resolved once at load.
struct LabelPlan: Sendable {
  let label: String
  /// The label's row in the encoder heads.
  let head: Int
  let linear: LinearLogit
  let weights: [Double]
  let calibration: Calibration
  let policy: Policy.Label?

  /// The plans of every trained label, in the heads' order, for `variant`.
  static func plans(
    variant: Engine.Variant, logits: [String: LinearLogit], model: FusionModel, heads: LabelHeads, ruleSet: RuleSet, policy: Policy,
    stableRules: [(index: Int, id: String)]
  ) -> [LabelPlan] {
    heads.labels.enumerated().compactMap { head, label in
      guard let labelModel = model.labels[label], let linear = logits[label] else { return nil }
      var weights = [Double](repeating: 0, count: ruleSet.featureIDs.count)
      for (index, id) in stableRules { weights[index] = linear.rules[id] ?? 0 }
      return LabelPlan(
        label: label, head: head, linear: linear, weights: weights,
        calibration: labelModel.calibration[variant.rawValue] ?? .platt(a: 1, b: 0), policy: policy.label(label))
    }
  }
}
