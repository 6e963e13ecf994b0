import DiscernEncoder
import DiscernModel
import DiscernRules
import Foundation

/// Why an engine could not be assembled. Each names the file and the fix.
public enum EngineError: Error, CustomStringConvertible {
  case rules([Diagnostic])
  case policy([Diagnostic])
  case model(ModelError)
  case encoder(EncoderError)

  public var description: String {
    switch self {
    case .rules(let diagnostics), .policy(let diagnostics): diagnostics.map(\.description).joined(separator: "\n")
    case .model(let error): error.description
    case .encoder(let error): error.description
    }
  }
}

/// Rules, lexicon, policy, encoder and a trained model, checked against each other once.
public final class Engine: @unchecked Sendable {
  public let ruleSet: RuleSet
  public let policy: Policy
  /// Nil for a rules-only engine, which decides with `.rulesOnly` alone and starts without the
  /// encoder's weights (a rules-only audit is start-up bound on small inputs).
  public let encoder: BertEncoder?
  /// Threads for deciding a batch: the encoder's, or those given to a rules-only engine.
  public let threads: Int
  public let model: FusionModel
  public let heads: LabelHeads
  /// Said once at load: rules added since training (they count 0), weights of removed rules.
  public let warnings: [String]
  /// The stable rules' positions in `RuleEvaluation.features` (shadow rules never move a decision).
  let stableRules: [(index: Int, id: String)]
  /// The same rules' ids: only their hits are cues that choose an urgency tier.
  let stableIDs: Set<String>
  /// Per variant, each label's weights by rule position (`decide` reads no dictionary per message),
  /// with the YAML-pinned weights put in, once at load: a pin wins over the learned weight (training
  /// keeps pins as they are, so the two differ only for a pin added or changed since), and staff see
  /// its effect at once. `.rulesOnly` is the model's rules-only ablation, pinned the same way.
  let plans: [Variant: [LabelPlan]]

  public init(rules: String, policy policyPath: String, encoder: BertEncoder?, model folder: String, threads: Int? = nil) throws(EngineError) {
    let compiled = RuleCompiler.compile(directory: rules)
    guard let ruleSet = compiled.ruleSet else { throw .rules(compiled.diagnostics) }
    let (policy, policyDiagnostics) = Policy.load(path: policyPath)
    guard let policy else { throw .policy(policyDiagnostics) }
    // The tiers' cues name rules: checked against these rules, where both are known.
    let cueDiagnostics = policy.checkCues(against: ruleSet)
    if cueDiagnostics.contains(where: { $0.severity == .error }) { throw .policy(cueDiagnostics) }
    let model: FusionModel
    do {
      model = try FusionModel.load(folder: folder)
    } catch let error as ModelError {
      throw .model(error)
    } catch {
      throw .model(.bad(path: folder, reason: "\(error)"))
    }
    if let encoder, model.encoder.fingerprint != encoder.fingerprint {
      throw .model(.otherEncoder(model: folder, trainedOn: model.encoder.fingerprint, loaded: encoder.fingerprint, folder: encoder.folder))
    }
    do {
      heads = try LabelHeads(path: folder + "/heads.safetensors")
      try encoder?.check(heads, source: folder + "/heads.safetensors")
    } catch {
      throw .encoder(error)
    }
    // Pinned rules count through their YAML weight even before training has seen them.
    let stable = Set(ruleSet.rules.filter { $0.status == .stable && $0.pinnedWeights.isEmpty }.map(\.id))
    let trained = Set(model.ruleIDs)
    var warnings: [String] = cueDiagnostics.map { ($0.mark.map { "\($0): " } ?? "") + $0.message }
    let untrained = stable.subtracting(trained).sorted()
    if !untrained.isEmpty {
      warnings.append("\(untrained.count) rule(s) added since '\(folder)' was trained count 0 until it is retrained: \(untrained.joined(separator: ", "))")
    }
    let removed = trained.subtracting(Set(ruleSet.rules.map(\.id))).sorted()
    if !removed.isEmpty {
      warnings.append("the weights of \(removed.count) rule(s) no longer in the rules are ignored: \(removed.joined(separator: ", "))")
    }
    self.ruleSet = ruleSet
    self.policy = policy
    self.encoder = encoder
    self.threads = threads ?? encoder?.threads ?? 1
    self.model = model
    self.warnings = warnings
    stableRules = ruleSet.rules.enumerated().filter { $0.element.status == .stable }.map { ($0.offset, $0.element.id) }
    stableIDs = Set(stableRules.map(\.id))
    func pinned(_ logits: [String: LinearLogit]) -> [String: LinearLogit] {
      logits.reduce(into: [:]) { result, entry in
        var logit = entry.value
        for rule in ruleSet.rules { if let pin = rule.pinnedWeights[entry.key] { logit.rules[rule.id] = pin } }
        result[entry.key] = logit
      }
    }
    let (heads, stableRules) = (heads, stableRules)
    let plan = { (variant: Variant, logits: [String: LinearLogit]) in
      LabelPlan.plans(
        variant: variant, logits: pinned(logits), model: model, heads: heads, ruleSet: ruleSet, policy: policy, stableRules: stableRules)
    }
    plans = [.fused: plan(.fused, model.labels.mapValues(\.fused)), .rulesOnly: plan(.rulesOnly, model.labels.mapValues(\.rulesOnly))]
  }
}
