/// One emoji in a message: a whole grapheme cluster, so a ZWJ family, a skin-toned hand, a keycap
/// or a flag is one emoji, as a reader sees it.
public struct EmojiOccurrence: Sendable, Equatable {
  /// The cluster as written.
  public let emoji: String
  /// Unicode scalar offsets in the message.
  public let scalars: Range<Int>
  /// UTF-8 byte offsets in the message.
  public let bytes: Range<Int>
  /// Its lexicon row, when the scan was made with a lexicon that has it.
  public var entry: LexiconEntry? = nil
}

/// Finds emoji by grapheme cluster.
public enum EmojiScanner {
  static let variationSelector16: Unicode.Scalar = "\u{FE0F}"
  static let keycap: Unicode.Scalar = "\u{20E3}"
  static let skinTones: ClosedRange<UInt32> = 0x1F3FB...0x1F3FF

  /// The lexicon key of an emoji: skin tones and VS16 removed, so 👍🏽 finds 👍 and 🕊 finds 🕊️.
  public static func fold(_ emoji: String) -> String {
    var scalars = String.UnicodeScalarView()
    for scalar in emoji.unicodeScalars where scalar != variationSelector16 && !skinTones.contains(scalar.value) {
      scalars.append(scalar)
    }
    return String(scalars)
  }

  /// Whether a grapheme cluster is an emoji. Text-default symbols written without VS16 (☠, ✂, ♥)
  /// count only when `isKnown` says the lexicon has them: "©" and "1" are text, "☠" in a
  /// self-harm post is not.
  public static func isEmoji(_ character: Character, isKnown: (String) -> Bool = { _ in false }) -> Bool {
    let scalars = character.unicodeScalars
    guard let first = scalars.first, first.properties.isEmoji else { return false }
    if first.properties.isEmojiPresentation { return true }
    if scalars.contains(variationSelector16) || scalars.contains(keycap) { return true }
    // A modifier or a ZWJ sequence on an emoji base: 🕵‍♂ or ✍🏽 written without VS16.
    if scalars.count > 1, scalars.dropFirst().contains(where: { $0.properties.isEmojiModifier || $0 == "\u{200D}" }) {
      return true
    }
    return first.value >= 0x2000 && isKnown(fold(String(character)))
  }

  /// Every emoji in `text`, left to right.
  public static func scan(_ text: String, isKnown: (String) -> Bool = { _ in false }) -> [EmojiOccurrence] {
    var found: [EmojiOccurrence] = []
    var scalar = 0
    var byte = 0
    for character in text {
      let scalarCount = character.unicodeScalars.count
      let byteCount = character.utf8.count
      // Every emoji scalar lies above U+00A8; plain ASCII clusters are skipped without a lookup.
      if byteCount > 1, isEmoji(character, isKnown: isKnown) {
        found.append(
          EmojiOccurrence(emoji: String(character), scalars: scalar..<scalar + scalarCount, bytes: byte..<byte + byteCount))
      }
      scalar += scalarCount
      byte += byteCount
    }
    return found
  }
}
