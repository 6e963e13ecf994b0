/// What the encoder reads of a message's emoji. The base vocabulary has none of them — 😂, 🥀, 🔪
/// all become `[UNK]` — so each distinct emoji's meaning is appended to the text in words, as *Just a
/// Scratch* gives its model the CESM meanings: the lexicon row's name and self-harm-context meaning,
/// or the emoji's Unicode name outside the lexicon. Appended, not inserted, so the message's own
/// characters keep their offsets (the model's spans point into the message).
///
/// Built here once: Discern's engine calls it before the encoder, and training reads the same text
/// through `discern gloss`, so the two can never drift apart.
public enum EmojiGloss {
  /// Distinct emoji glossed per message: padding a message with emoji adds at most this many.
  public static let maxGlosses = 4

  /// `message`, and when it holds emoji, " (" + one gloss per distinct emoji (folded: 👍🏽 is 👍),
  /// in order of first appearance, joined by "; " + ")".
  public static func text(_ message: String, lexicon: Lexicon) -> String {
    var seen: Set<String> = []
    var glosses: [String] = []
    for occurrence in lexicon.scan(message) {
      let key = EmojiScanner.fold(occurrence.emoji)
      guard glosses.count < maxGlosses, seen.insert(key).inserted else { continue }
      if let entry = occurrence.entry {
        glosses.append("\(entry.name): \(entry.selfHarmMeaning)")
      } else if let name = unicodeName(key) {
        glosses.append(name)
      }
    }
    return glosses.isEmpty ? message : message + " (" + glosses.joined(separator: "; ") + ")"
  }

  /// The Unicode names of an emoji's scalars, lower-cased, ZWJ and selectors left out
  /// ("woman" + "laptop" for 👩‍💻).
  static func unicodeName(_ emoji: String) -> String? {
    let names = emoji.unicodeScalars.compactMap { scalar -> String? in
      guard scalar != "\u{200D}", scalar != EmojiScanner.keycap else { return nil }
      return scalar.properties.name?.lowercased()
    }
    return names.isEmpty ? nil : names.joined(separator: " ")
  }
}
