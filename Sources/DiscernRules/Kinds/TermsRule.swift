/// `kind: terms` — a list of words or phrases, matched as whole words and compiled into one
/// pattern. Spaces in a term match any run of whitespace; everything else is literal.
///
///     - id: tense.past-markers
///       kind: terms
///       terms: [used to, back then, years ago]
public struct TermsRule: RuleKind {
  public static let name = "terms"
  public static let keys = ["terms", "whole_words", "case_sensitive"]

  public let pattern: PCRE2Pattern
  let node: YAMLNode

  public static func read(_ reader: RuleReader) -> TermsRule? {
    guard let terms = reader.strings("terms"),
      let wholeWords = reader.boolean("whole_words", default: true),
      let caseSensitive = reader.boolean("case_sensitive", default: false)
    else { return nil }
    let listNode = reader.value("terms")!
    guard !terms.isEmpty else {
      reader.error("'terms' is empty; list at least one word or phrase", at: listNode.mark)
      return nil
    }
    var seen: [String: SourceMark] = [:]
    for (term, node) in terms {
      if term.trimmingWhitespace().isEmpty {
        reader.error("empty term", at: node.mark)
        return nil
      }
      let key = caseSensitive ? term : term.lowercased()
      if let first = seen[key] {
        reader.warning("term '\(term)' is listed twice (first at line \(first.line))", at: node.mark)
      }
      seen[key] = node.mark
    }
    if !wholeWords {
      reader.warning(
        "terms in '\(reader.id)' match inside other words ('whole_words: false'); "
          + "'\(terms[0].value)' will also hit longer words that contain it", at: reader.value("whole_words")!.mark)
    }
    let source = compiledSource(terms.map(\.value), wholeWords: wholeWords)
    do {
      return TermsRule(pattern: try PCRE2Pattern(source, caseless: !caseSensitive), node: listNode)
    } catch {
      reader.error("terms did not compile: \(error.message)", at: listNode.mark)
      return nil
    }
  }

  /// One alternation, longest term first so a phrase wins over its own first word. Word
  /// boundaries are lookarounds rather than `\b`, so terms that begin or end with punctuation
  /// ("rip.", "#kms") still only match on their own.
  static func compiledSource(_ terms: [String], wholeWords: Bool) -> String {
    let alternatives = Set(terms.map { escape($0.trimmingWhitespace()) })
      .sorted { $0.count != $1.count ? $0.count > $1.count : $0 < $1 }
    let body = "(?:" + alternatives.joined(separator: "|") + ")"
    return wholeWords ? "(?<!\\w)" + body + "(?!\\w)" : body
  }

  static func escape(_ term: String) -> String {
    var out = ""
    var lastWasSpace = false
    for scalar in term.unicodeScalars {
      if scalar.properties.isWhitespace {
        if !lastWasSpace { out += "\\s+" }
        lastWasSpace = true
        continue
      }
      lastWasSpace = false
      if "\\^$.|?*+()[]{}#-/".unicodeScalars.contains(scalar) { out += "\\" }
      out.unicodeScalars.append(scalar)
    }
    return out
  }

  public var lintPatterns: [LintablePattern] { [LintablePattern(pattern: pattern, node: node, isGenerated: true)] }

  public func evaluate(_ message: MessageText, referenced: [RuleOutcome], matcher: PCRE2Matcher) -> RuleOutcome {
    matcher.outcome(of: pattern, in: message)
  }
}

extension String {
  func trimmingWhitespace() -> String {
    let scalars = unicodeScalars
    guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
      let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
    else { return "" }
    return String(scalars[first...last])
  }
}
