/// What a rule's span says about the message (`marks:` in a rule). The first two are the
/// paper's serious-intent and casual-mention spans; the rest qualify them.
public enum SpanType: String, Sendable, CaseIterable, Codable {
  case seriousIntent = "serious_intent"
  case casualMention = "casual_mention"
  case past
  case present
  case recovery
  case negation
  /// The author is hurting, threatening or insulting someone else.
  case towardOthers = "toward_others"
  /// Someone hurt or threatened the author.
  case byOthers = "by_others"
  /// Harm between third parties.
  case betweenOthers = "between_others"
}

/// Whether a rule moves decisions.
public enum RuleStatus: String, Sendable, CaseIterable, Codable {
  /// Counts in decisions.
  case stable
  /// Computed and reported (audits, explanations) but never moves a decision: a rule on trial.
  case shadow
  /// Validated, not compiled into the rule set.
  case disabled
}

/// A rule id written somewhere in a rule (`unless:`, `all:`, `near:`…), with where it was written
/// so that an unknown id can be reported at that spot.
public struct RuleReference: Sendable {
  public let id: String
  public let mark: SourceMark
}
