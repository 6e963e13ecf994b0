/// Whether a message is text Discern was built to read. The rules and the encoder were written and
/// trained for English: a decision on anything else reads as "nothing flagged" while it read nothing.
public enum MessageScope: String, Sendable, Codable, CaseIterable {
  /// English, or text too short to tell apart from it (short English like "kms" is common).
  case supported
  /// Another language, or mostly a script other than Latin.
  case unsupportedLanguage = "unsupported_language"
  /// No letters and no emoji: nothing for the rules or the encoder to read.
  case tooLittleText = "too_little_text"

  /// The scopes the policy must give an action for.
  public static let outOfScope: [MessageScope] = [.unsupportedLanguage, .tooLittleText]
}
