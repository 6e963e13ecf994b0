/// `kind: not` — hits when the named rule does not. It has no span: there is nothing to point at.
///
///     - id: tense.no-past-marker
///       kind: not
///       not: tense.past-markers
public struct NotRule: RuleKind {
  public static let name = "not"
  public static let keys = ["not"]

  public let references: [RuleReference]

  public static func read(_ reader: RuleReader) -> NotRule? {
    reader.references("not", count: 1...1).map(NotRule.init)
  }

  public func evaluate(_ message: MessageText, referenced: [RuleOutcome], matcher: PCRE2Matcher) -> RuleOutcome {
    RuleOutcome(hit: !referenced[0].hit, limit: referenced[0].limit)
  }
}
