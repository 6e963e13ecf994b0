/// `kind: near` — two rules' spans within `within` words of each other (default 3), in either
/// order, or the first before the second with `ordered: true`. The span covers both.
///
///     - id: serious-intent.plan-near-time
///       kind: near
///       near: [serious-intent.plan-verbs, serious-intent.time-words]
///       within: 4
public struct NearRule: RuleKind {
  public static let name = "near"
  public static let keys = ["near", "within", "ordered"]

  public let references: [RuleReference]
  public let within: Int
  public let ordered: Bool

  public static func read(_ reader: RuleReader) -> NearRule? {
    guard let references = reader.references("near", count: 2...2),
      let within = reader.integer("within", default: 3, in: 0...50),
      let ordered = reader.boolean("ordered", default: false)
    else { return nil }
    return NearRule(references: references, within: within, ordered: ordered)
  }

  public func evaluate(_ message: MessageText, referenced: [RuleOutcome], matcher: PCRE2Matcher) -> RuleOutcome {
    let (first, second) = (referenced[0], referenced[1])
    guard first.hit, second.hit else { return .miss }
    var spans: [Range<Int>] = []
    for a in first.spans {
      for b in second.spans {
        if ordered && a.lowerBound > b.lowerBound { continue }
        let (left, right) = a.lowerBound <= b.lowerBound ? (a, b) : (b, a)
        guard message.wordCount(between: left.upperBound, and: right.lowerBound) <= within else { continue }
        let span = left.lowerBound..<max(left.upperBound, right.upperBound)
        if !spans.contains(span) { spans.append(span) }
      }
    }
    return RuleOutcome(spans: spans.sorted { $0.lowerBound < $1.lowerBound }, limit: first.limit ?? second.limit)
  }
}
