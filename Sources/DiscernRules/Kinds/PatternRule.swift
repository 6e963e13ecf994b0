/// `kind: pattern` — a PCRE2 regular expression (UTF + UCP, caseless unless
/// `case_sensitive: true`, JIT-compiled). Every non-overlapping match is a span.
///
///     - id: hyperbole.kms
///       kind: pattern
///       pattern: '\bkms\b'
public struct PatternRule: RuleKind {
  public static let name = "pattern"
  public static let keys = ["pattern", "case_sensitive"]

  public let pattern: PCRE2Pattern
  let node: YAMLNode

  public static func read(_ reader: RuleReader) -> PatternRule? {
    guard let (source, node) = reader.string("pattern"),
      let caseSensitive = reader.boolean("case_sensitive", default: false)
    else { return nil }
    guard !source.isEmpty else {
      reader.error("'pattern' is empty; it would match everywhere", at: node.mark)
      return nil
    }
    do {
      return PatternRule(pattern: try PCRE2Pattern(source, caseless: !caseSensitive), node: node)
    } catch {
      reader.error("invalid pattern: \(error.message)", at: node.mark(ofValueByteOffset: error.offset))
      return nil
    }
  }

  public var lintPatterns: [LintablePattern] { [LintablePattern(pattern: pattern, node: node, isGenerated: false)] }

  public func evaluate(_ message: MessageText, referenced: [RuleOutcome], matcher: PCRE2Matcher) -> RuleOutcome {
    matcher.outcome(of: pattern, in: message)
  }
}
