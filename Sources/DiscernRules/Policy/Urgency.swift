/// How soon a moderator should act on a decision. The cases are in order, most urgent first, and
/// `<` follows it, so sorting by tier puts `urgent` first. Which decisions take which tier is policy
/// data (`tiers` in Rules/policy.yaml); the set of tiers is fixed here, so that every view, filter
/// and count knows them.
public enum UrgencyTier: String, Sendable, Codable, CaseIterable, Comparable {
  /// Act now: self-harm with a time, a plan, the means at hand or a goodbye.
  case urgent
  /// A person reviews it in the ordinary queue.
  case review
  /// Resources or a warning, without a personal review.
  case resources
  /// Nothing to do.
  case none

  var rank: Int { Self.allCases.firstIndex(of: self)! }

  public static func < (a: UrgencyTier, b: UrgencyTier) -> Bool { a.rank < b.rank }
}

/// The tier a decision took, and why: the flagged labels the tier asks for, and the cues (rule hits
/// the tier names) with their spans.
public struct Urgency: Sendable, Codable, Equatable {
  public let tier: UrgencyTier
  /// What the policy says a moderator does at this tier.
  public let moderator: String
  /// The flagged labels that led to the tier, in the decision's label order; empty for `none`.
  public let labels: [String]
  /// The cue hits that led to it; empty for a tier that names no cues.
  public let cues: [UrgencyCue]

  public init(tier: UrgencyTier, moderator: String, labels: [String], cues: [UrgencyCue]) {
    self.tier = tier
    self.moderator = moderator
    self.labels = labels
    self.cues = cues
  }

  /// The tier of a decision nothing was decided for (no policy consulted).
  public static let unassessed = Urgency(tier: .none, moderator: "", labels: [], cues: [])

  /// The tier and why, as every view prints it: "urgent — self_harm flagged; names a time: …".
  public var summary: String { "\(tier.rawValue) — \(reasons)" }

  /// Why, in one line: "self_harm flagged; names a time: 'tonight' [16, 23) (urgency.time)".
  public var reasons: String {
    let flagged = labels.isEmpty ? "nothing flagged" : labels.joined(separator: ", ") + " flagged"
    if tier == .none { return labels.isEmpty ? flagged : flagged + ", which no tier names" }
    let cues = self.cues.map { "\($0.reason): '\($0.text)' [\($0.start), \($0.end)) (\($0.rule))" }
    return ([flagged] + cues).joined(separator: "; ")
  }
}

/// One hit of a rule a tier names as a cue, offsets in Unicode scalars of the message as written.
public struct UrgencyCue: Sendable, Codable, Equatable {
  public let rule: String
  /// The policy's words for what the hit says ("names a time").
  public let reason: String
  public let start: Int
  public let end: Int
  public let text: String

  public init(rule: String, reason: String, start: Int, end: Int, text: String) {
    self.rule = rule
    self.reason = reason
    self.start = start
    self.end = end
    self.text = text
  }
}

extension Policy {
  /// One tier's entry in the policy: what it means, what a moderator does, and when a decision takes it.
  public struct Tier: Sendable, Equatable {
    public let tier: UrgencyTier
    public let description: String
    public let moderator: String
    /// The tier applies when any of these holds; empty for `none`, the tier of every decision no
    /// other tier takes.
    public let when: [Condition]
  }

  /// One way into a tier: one of `flagged` is flagged (when it lists any) and one of `cues` hit
  /// (when it lists any).
  public struct Condition: Sendable, Equatable {
    public let flagged: [String]
    public let cues: [Cue]
    /// The words for each cue rule, the first the policy gives: looked up for every decision.
    let reasonByRule: [String: String]

    init(flagged: [String], cues: [Cue]) {
      self.flagged = flagged
      self.cues = cues
      reasonByRule = Dictionary(cues.map { ($0.rule, $0.reason) }, uniquingKeysWith: { first, _ in first })
    }
  }

  /// A rule whose hit counts toward a tier, and the words a view says it with.
  public struct Cue: Sendable, Equatable {
    public let rule: String
    public let reason: String
    /// Where the policy names it, for a diagnostic when the rules have no such rule.
    public let mark: SourceMark

    public static func == (a: Cue, b: Cue) -> Bool { a.rule == b.rule && a.reason == b.reason }
  }

  /// The tier of a decision whose `flagged` labels and rule `evidence` (stable rules only: a shadow
  /// rule never moves a decision) are given: the most urgent tier one of whose conditions holds.
  public func urgency(flagged: [String], evidence: [Evidence]) -> Urgency {
    for tier in tiers {
      for condition in tier.when {
        let labels = flagged.filter(condition.flagged.contains)
        guard condition.flagged.isEmpty || !labels.isEmpty else { continue }
        let cues = evidence.compactMap { hit in
          condition.reasonByRule[hit.rule].map { UrgencyCue(rule: hit.rule, reason: $0, start: hit.start, end: hit.end, text: hit.text) }
        }
        guard condition.cues.isEmpty || !cues.isEmpty else { continue }
        return Urgency(tier: tier.tier, moderator: tier.moderator, labels: labels, cues: cues)
      }
    }
    return Urgency(tier: .none, moderator: tier(.none)?.moderator ?? "", labels: flagged, cues: [])
  }

  public func tier(_ tier: UrgencyTier) -> Tier? { tiers.first { $0.tier == tier } }

  /// The cues' rule ids checked against the rules the engine loaded: an unknown id is an error with a
  /// did-you-mean; a shadow rule is a warning (its hits choose no tier until it is stable).
  public func checkCues(against ruleSet: RuleSet) -> [Diagnostic] {
    var diagnostics = DiagnosticList()
    for tier in tiers {
      for cue in tier.when.flatMap(\.cues) {
        guard let rule = ruleSet.rule(cue.rule) else {
          let hint = Suggestions.hint(for: cue.rule, in: ruleSet.featureIDs)
          diagnostics.error(
            "cue '\(cue.rule)' of tier '\(tier.tier.rawValue)' names no rule"
              + (hint.isEmpty ? "; give the id of a rule in the packs, or remove the cue" : hint), at: cue.mark)
          continue
        }
        if rule.status == .shadow {
          diagnostics.warning(
            "cue '\(cue.rule)' of tier '\(tier.tier.rawValue)' is a shadow rule: its hits choose no tier until it is stable", at: cue.mark)
        }
      }
    }
    return diagnostics.items
  }

  /// `tiers:` — every tier once, each with description, moderator and (but for `none`) when.
  static func parseTiers(_ node: YAMLNode?, at root: YAMLNode, diagnostics: inout DiagnosticList) -> [Tier] {
    let names = UrgencyTier.allCases.map(\.rawValue)
    guard let node else {
      // Like a missing label, said only when nothing else is wrong: after other errors it is noise.
      if !diagnostics.hasErrors {
        diagnostics.error("the policy needs 'tiers', a mapping from urgency tier (\(names.joined(separator: ", "))) to its policy", at: root.mark)
      }
      return []
    }
    guard let pairs = node.mapping else {
      diagnostics.error("'tiers' must map each urgency tier (\(names.joined(separator: ", "))) to its policy, found \(node.kindName)", at: node.mark)
      return []
    }
    var tiers: [Tier] = []
    for pair in pairs {
      let name = pair.key.scalar ?? ""
      guard let tier = UrgencyTier(rawValue: name) else {
        diagnostics.error("unknown tier '\(name)'\(Suggestions.hint(for: name, in: names)) (one of: \(names.joined(separator: ", ")))", at: pair.key.mark)
        continue
      }
      guard let fields = pair.value.mapping else {
        diagnostics.error("tier '\(name)' needs description, moderator\(tier == .none ? "" : " and when")", at: pair.value.mark)
        continue
      }
      NodeChecks.reportUnknownKeys(
        in: fields, allowed: ["description", "moderator", "when"], context: "in tier '\(name)'", diagnostics: &diagnostics)
      guard let moderator = pair.value["moderator"]?.scalar, !moderator.isEmpty else {
        diagnostics.error("tier '\(name)' needs 'moderator': what a moderator does with a message of this tier", at: pair.key.mark)
        continue
      }
      let description = pair.value["description"]?.scalar ?? ""
      if tier == .none {
        if let when = pair.value["when"] {
          diagnostics.error("tier 'none' takes no 'when': it is the tier of every decision no other tier takes", at: when.mark)
          continue
        }
        tiers.append(Tier(tier: tier, description: description, moderator: moderator, when: []))
        continue
      }
      guard let when = pair.value["when"] else {
        diagnostics.error(
          "tier '\(name)' needs 'when': the labels flagged ('flagged') and the rules hit ('cues') that lead to it", at: pair.key.mark)
        continue
      }
      // One condition, or a list of them of which any may hold.
      let items = when.sequence ?? [when]
      let conditions = items.compactMap { parseCondition($0, tier: name, diagnostics: &diagnostics) }
      guard conditions.count == items.count, !items.isEmpty else {
        if items.isEmpty { diagnostics.error("'when' of tier '\(name)' lists no condition", at: when.mark) }
        continue
      }
      tiers.append(Tier(tier: tier, description: description, moderator: moderator, when: conditions))
    }
    for tier in UrgencyTier.allCases where !tiers.contains(where: { $0.tier == tier }) && !diagnostics.hasErrors {
      diagnostics.error("the policy has no entry for tier '\(tier.rawValue)'", at: node.mark)
    }
    // Most urgent first, whatever the file's order: `urgency(flagged:evidence:)` takes the first that holds.
    return tiers.sorted { $0.tier < $1.tier }
  }

  /// `{flagged: [label, …], cues: {rule: words, …}}`, at least one of the two.
  static func parseCondition(_ node: YAMLNode, tier: String, diagnostics: inout DiagnosticList) -> Condition? {
    guard let fields = node.mapping else {
      diagnostics.error(
        "a condition of tier '\(tier)' is a mapping with 'flagged' (labels) and/or 'cues' (rule ids), found \(node.kindName)", at: node.mark)
      return nil
    }
    NodeChecks.reportUnknownKeys(in: fields, allowed: ["flagged", "cues"], context: "in the 'when' of tier '\(tier)'", diagnostics: &diagnostics)
    guard node["flagged"] != nil || node["cues"] != nil else {
      diagnostics.error(
        "a condition of tier '\(tier)' needs 'flagged' (labels, one of: \(labelNames.joined(separator: ", "))) or 'cues' (rule ids), or both",
        at: node.mark)
      return nil
    }
    guard let flagged = parseFlagged(node["flagged"], tier: tier, diagnostics: &diagnostics),
      let cues = parseCues(node["cues"], tier: tier, diagnostics: &diagnostics)
    else { return nil }
    return Condition(flagged: flagged, cues: cues)
  }

  /// `flagged: [label, …]`: labels of the label guide, at least one; absent means no label is needed.
  static func parseFlagged(_ node: YAMLNode?, tier: String, diagnostics: inout DiagnosticList) -> [String]? {
    guard let node else { return [] }
    let items = node.scalar != nil ? [node] : (node.sequence ?? [])
    guard !items.isEmpty else {
      diagnostics.error("'flagged' of tier '\(tier)' must list at least one label (one of: \(labelNames.joined(separator: ", ")))", at: node.mark)
      return nil
    }
    var labels: [String] = []
    for item in items {
      let label = item.scalar ?? ""
      guard labelNames.contains(label) else {
        diagnostics.error(
          "unknown label '\(label)' in 'flagged' of tier '\(tier)'\(Suggestions.hint(for: label, in: labelNames)) (one of: \(labelNames.joined(separator: ", ")))",
          at: item.mark)
        return nil
      }
      labels.append(label)
    }
    return labels
  }

  /// `cues: {rule id: what its hit says, …}`; absent means none are needed.
  static func parseCues(_ node: YAMLNode?, tier: String, diagnostics: inout DiagnosticList) -> [Cue]? {
    guard let node else { return [] }
    guard let pairs = node.mapping, !pairs.isEmpty else {
      diagnostics.error(
        "'cues' of tier '\(tier)' must map rule ids to what their hit says, e.g. {urgency.time: names a time}", at: node.mark)
      return nil
    }
    var cues: [Cue] = []
    for pair in pairs {
      guard let rule = pair.key.scalar, let reason = pair.value.scalar, !reason.isEmpty else {
        diagnostics.error(
          "cue '\(pair.key.scalar ?? pair.key.kindName)' of tier '\(tier)' needs the words a moderator reads for its hit, e.g. 'names a time'",
          at: pair.value.mark)
        return nil
      }
      cues.append(Cue(rule: rule, reason: reason, mark: pair.key.mark))
    }
    return cues
  }
}
