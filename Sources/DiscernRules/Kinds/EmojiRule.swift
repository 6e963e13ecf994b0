import Foundation
/// `kind: emoji` — measures the message's emoji against a lexicon (the CESM matrix). Each rule
/// measures one thing, so each measure is one feature the fusion can weigh:
///
/// | measure | value |
/// |---|---|
/// | `serious_intent_sum`, `casual_mention_sum` | the sum of the lexicon emoji's levels (low 1, medium 2, high 3) |
/// | `serious_intent_max`, `casual_mention_max` | the highest level |
/// | `count` | how many lexicon emoji |
/// | `longest_run` | the most emoji (any, not only lexicon ones) in a row, spaces allowed between |
/// | `laughter_close` | 1 when the message ends with an emoji whose signal is laughter or irony |
///
/// `at_least: N` turns the value into a threshold: below N the rule does not hit.
///
///     - id: emoji.serious-intent-max
///       kind: emoji
///       lexicon: ../Lexicons/cesm.yaml
///       measure: serious_intent_max
public struct EmojiRule: RuleKind {
  public static let name = "emoji"
  public static let keys = ["lexicon", "measure", "at_least"]

  public enum Measure: String, CaseIterable, Sendable {
    case seriousIntentSum = "serious_intent_sum"
    case seriousIntentMax = "serious_intent_max"
    case casualMentionSum = "casual_mention_sum"
    case casualMentionMax = "casual_mention_max"
    case count
    case longestRun = "longest_run"
    case laughterClose = "laughter_close"

    /// Measures that grow with the number of emoji (the rest are bounded by a level or are 0/1).
    var isUnbounded: Bool { [.seriousIntentSum, .casualMentionSum, .count, .longestRun].contains(self) }
  }

  public let lexicon: Lexicon
  public let measure: Measure
  public let atLeast: Double

  public static func read(_ reader: RuleReader) -> EmojiRule? {
    guard let (path, pathNode) = reader.string("lexicon"), let (measureName, measureNode) = reader.string("measure"),
      let atLeast = reader.number("at_least", default: 0)
    else { return nil }
    guard let measure = Measure(rawValue: measureName) else {
      let names = Measure.allCases.map(\.rawValue)
      reader.error(
        "unknown measure '\(measureName)'\(Suggestions.hint(for: measureName, in: names)) (one of: \(names.joined(separator: ", ")))",
        at: measureNode.mark)
      return nil
    }
    guard let lexicon = reader.context.lexicon(path, relativeTo: reader.source, at: pathNode.mark) else { return nil }
    return EmojiRule(lexicon: lexicon, measure: measure, atLeast: atLeast)
  }

  public func lexiconEntry(forSpan text: String) -> LexiconEntry? { lexicon.entry(for: text) }

  public func evaluate(_ message: MessageText, referenced: [RuleOutcome], matcher: PCRE2Matcher) -> RuleOutcome {
    let found = message.emoji(lexicon)
    guard !found.isEmpty else { return .miss }
    let known = found.compactMap { occurrence in occurrence.entry.map { (occurrence, $0) } }
    var value = 0.0
    var spans: [Range<Int>] = []
    switch measure {
    case .seriousIntentSum, .casualMentionSum, .count:
      for (occurrence, entry) in known {
        value += measure == .count ? 1 : level(entry).value
        spans.append(occurrence.bytes)
      }
    case .seriousIntentMax, .casualMentionMax:
      let top = known.map { level($0.1).value }.max() ?? 0
      value = top
      spans = known.filter { level($0.1).value == top }.map(\.0.bytes)
    case .longestRun:
      let run = longestRun(found, in: message)
      value = Double(run.count)
      spans = run.count > 1 ? [run.first!.bytes.lowerBound..<run.last!.bytes.upperBound] : run.map(\.bytes)
    case .laughterClose:
      if let last = found.last, endsMessage(last, in: message), last.entry?.signal != nil {
        value = 1
        spans = [last.bytes]
      }
    }
    guard value > 0, value >= atLeast else { return .miss }
    return RuleOutcome(value: measure.isUnbounded ? Self.saturate(value) : value, spans: spans)
  }

  /// Sums, counts and runs grow with every emoji a message adds, so they enter the fusion through a
  /// saturating map: about the raw value for one or two emoji (1 → 0.96, 2 → 1.75), never above
  /// `ceiling` however many are appended (14 → 2.99). Padding a message with emoji cannot push a
  /// linear model far.
  public static let ceiling = 3.0
  public static func saturate(_ value: Double) -> Double { ceiling * tanh(value / ceiling) }

  func level(_ entry: LexiconEntry) -> LexiconLevel {
    switch measure {
    case .casualMentionSum, .casualMentionMax: entry.casualMention
    default: entry.seriousIntent
    }
  }

  /// The longest run of emoji with nothing but spaces between them.
  func longestRun(_ found: [EmojiOccurrence], in message: MessageText) -> ArraySlice<EmojiOccurrence> {
    var best = found[0..<1]
    var start = 0
    for i in 1..<max(1, found.count) {
      let gap = message.bytes[found[i - 1].bytes.upperBound..<found[i].bytes.lowerBound]
      if !gap.allSatisfy({ $0 == UInt8(ascii: " ") }) { start = i }
      if i - start + 1 > best.count { best = found[start...i] }
    }
    return best
  }

  /// Nothing but spaces and punctuation after the emoji.
  func endsMessage(_ occurrence: EmojiOccurrence, in message: MessageText) -> Bool {
    message.bytes[occurrence.bytes.upperBound...].allSatisfy { byte in
      byte < 0x80 && !(byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
        && !((byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z"))
    }
  }
}
