/// How likely an emoji is in one kind of use: the paper's Low / Medium / High.
public enum LexiconLevel: String, Sendable, CaseIterable, Codable {
  case low, medium, high

  /// The number features use: low 1, medium 2, high 3 (documented in Lexicons/cesm.yaml).
  public var value: Double {
    switch self {
    case .low: 1
    case .medium: 2
    case .high: 3
    }
  }
}

/// What an emoji tends to signal on its own, beyond its levels.
public enum EmojiSignal: String, Sendable, CaseIterable, Codable {
  /// Laughter: 😂 🤣 — a closing laugh usually marks a joke.
  case laughter
  /// Irony or sarcasm: 🙃 🙄.
  case irony
}

/// One row of the emoji sensitivity matrix.
public struct LexiconEntry: Sendable, Equatable, Codable {
  public let emoji: String
  /// The CLDR short name.
  public let name: String
  /// What it usually means.
  public let meaning: String
  /// What it tends to mean in a self-harm context.
  public let selfHarmMeaning: String
  public let casualMention: LexiconLevel
  public let seriousIntent: LexiconLevel
  public let signal: EmojiSignal?

  /// The row as a rationale cites it: its name, what it tends to mean in a self-harm context and
  /// both ratings, so that what a reviewer reads about an emoji is always what the lexicon says.
  public var citation: String {
    "lexicon: \(name), \"\(selfHarmMeaning)\", casual mention \(casualMention.rawValue), serious intent \(seriousIntent.rawValue)"
  }

  enum CodingKeys: String, CodingKey {
    case emoji, name, meaning, signal
    case selfHarmMeaning = "self_harm_meaning"
    case casualMention = "casual_mention"
    case seriousIntent = "serious_intent"
  }
}

/// An emoji lexicon, keyed by folded emoji (skin tones and VS16 removed).
public final class Lexicon: Sendable {
  public let name: String
  public let version: String
  public let entries: [LexiconEntry]
  private let byKey: [String: LexiconEntry]

  init(name: String, version: String, entries: [LexiconEntry]) {
    self.name = name
    self.version = version
    self.entries = entries
    byKey = Dictionary(entries.map { (EmojiScanner.fold($0.emoji), $0) }, uniquingKeysWith: { first, _ in first })
  }

  /// The row for an emoji as written (👍🏽 finds 👍).
  public func entry(for emoji: String) -> LexiconEntry? { byKey[EmojiScanner.fold(emoji)] }

  /// Every emoji in `text`, each with its row when the lexicon has it; text-default symbols
  /// count when the lexicon has them.
  public func scan(_ text: String) -> [EmojiOccurrence] {
    EmojiScanner.scan(text) { self.byKey[$0] != nil }.map { occurrence in
      var found = occurrence
      found.entry = entry(for: occurrence.emoji)
      return found
    }
  }
}
