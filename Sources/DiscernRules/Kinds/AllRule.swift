/// `kind: all` — hits when every listed rule hits; its spans are theirs.
///
///     - id: serious-intent.plan-and-means
///       kind: all
///       all: [serious-intent.plan, serious-intent.means]
public struct AllRule: RuleKind {
  public static let name = "all"
  public static let keys = ["all"]

  public let references: [RuleReference]

  public static func read(_ reader: RuleReader) -> AllRule? {
    reader.references("all", count: 2...Int.max).map(AllRule.init)
  }

  public func evaluate(_ message: MessageText, referenced: [RuleOutcome], matcher: PCRE2Matcher) -> RuleOutcome {
    guard referenced.allSatisfy(\.hit) else { return .miss }
    return RuleOutcome(hit: true, spans: CompositeSpans.merged(referenced), limit: referenced.lazy.compactMap(\.limit).first)
  }
}

/// Spans a composite passes on from the rules it combines.
enum CompositeSpans {
  static func merged(_ outcomes: [RuleOutcome]) -> [Range<Int>] {
    var spans: [Range<Int>] = []
    for outcome in outcomes where outcome.hit {
      for span in outcome.spans where !spans.contains(span) { spans.append(span) }
    }
    return spans.sorted { ($0.lowerBound, $0.upperBound) < ($1.lowerBound, $1.upperBound) }
  }
}
