/// `kind: any` — hits when at least one listed rule hits; its spans are those of the rules that hit.
///
///     - id: recovery.any-milestone
///       kind: any
///       any: [recovery.clean-streak, recovery.sober-since]
public struct AnyRule: RuleKind {
  public static let name = "any"
  public static let keys = ["any"]

  public let references: [RuleReference]

  public static func read(_ reader: RuleReader) -> AnyRule? {
    reader.references("any", count: 2...Int.max).map(AnyRule.init)
  }

  public func evaluate(_ message: MessageText, referenced: [RuleOutcome], matcher: PCRE2Matcher) -> RuleOutcome {
    guard referenced.contains(where: \.hit) else { return .miss }
    return RuleOutcome(hit: true, spans: CompositeSpans.merged(referenced), limit: referenced.lazy.compactMap(\.limit).first)
  }
}
