import CCLD2
import DiscernRules

/// Whether Discern can read a message, which language it is in, and why: the decision's `scope`.
public struct ScopeReading: Sendable, Codable, Equatable {
  public let scope: MessageScope
  /// ISO 639 code of the language read ("en", "es"); "und" when there were no letters to read.
  public let language: String
  /// The language's name in English ("Spanish"), "unknown" with "und".
  public let languageName: String
  /// One sentence: what was read and why it puts the message in or out of scope.
  public let reason: String
  /// The policy's action for the scope; nil when the message is supported.
  public var action: String? = nil

  enum CodingKeys: String, CodingKey {
    case scope, language, reason, action
    case languageName = "language_name"
  }
}

/// Reads which language a message is in and whether the engine was built for it.
///
/// Chromium's Compact Language Detector 2 (libcld2) decides, on the message without @mentions,
/// links and #hashtags (names and run-together tags are not language). CLD2 is weak on a handful of
/// words, where most moderated messages live, so its reading is taken with two checks, each
/// measured by `make bench-language` (README, Accuracy and limits):
/// - a short text (under `minimumLetterBytes` of letters) is put out of scope only when CLD2 still
///   reads another language with English as its prior: alone, CLD2 reads "bye hoe" as Ganda;
/// - slang-heavy English reads to CLD2 as anything ("ngl im lowkey dead rn fr fr" as German): a
///   common English word with none of the listed languages' common words beside it keeps it in scope;
/// - CLD2 falls back to English on short text it cannot place, so a message CLD2 calls English but
///   whose common words are Spanish, Portuguese, French or German ones and not English ones is out
///   of scope in that language.
public enum LanguageScope {
  /// Letters (bytes of UTF-8) from which CLD2's reading is trusted without the English prior.
  public static let minimumLetterBytes = 20

  public static func read(_ text: String) -> ScopeReading {
    let words = readableWords(text)
    let (letters, nonLatin) = letterCounts(words)
    if letters == 0 {
      // Hashtags and emoji are read by the rules and the lexicon, though they name no language.
      if text.unicodeScalars.contains(where: { $0.properties.isAlphabetic }) {
        return ScopeReading(scope: .supported, language: "und", languageName: "unknown", reason: "Only hashtags, mentions or links; read as English.")
      }
      if text.unicodeScalars.contains(where: isEmoji) {
        return ScopeReading(scope: .supported, language: "und", languageName: "unknown", reason: "Emoji only; the emoji lexicon reads them.")
      }
      return ScopeReading(scope: .tooLittleText, language: "und", languageName: "unknown", reason: "No letters and no emoji: nothing to read.")
    }
    let readable = words.joined(separator: " ")
    let plain = detect(readable, hint: nil)
    if nonLatin * 2 > letters {
      return ScopeReading(
        scope: .unsupportedLanguage, language: plain.code, languageName: plain.name,
        reason: "Mostly letters of a script other than Latin (\(nonLatin) of \(letters)), read as \(plain.name) (\(plain.code)); Discern reads English only.")
    }
    let common = FunctionWords.count(words)
    // Slang-heavy English ("ngl im lowkey dead rn fr fr") reads to CLD2 as anything; a common English
    // word, with none of the listed languages' beside it, keeps it in scope.
    let englishWords = common.english > 0 && common.foreign.words.isEmpty
    if plain.code != "en" && plain.code != "un" && !englishWords {
      let hinted = plain.textBytes >= minimumLetterBytes ? plain : detect(readable, hint: "en")
      if hinted.code != "en" && hinted.code != "un" {
        return ScopeReading(
          scope: .unsupportedLanguage, language: plain.code, languageName: plain.name,
          reason: "Read as \(plain.name) (\(plain.code)) by the language identifier; Discern reads English only.")
      }
    }
    if let foreign = common.dominant {
      return ScopeReading(
        scope: .unsupportedLanguage, language: foreign.code, languageName: foreign.name,
        reason: "Its common words are \(foreign.name) (\(foreign.words.joined(separator: ", "))), not English; Discern reads English only.")
    }
    let reason = plain.code == "en" ? "Read as English." : "Too little text to identify its language; read as English."
    return ScopeReading(scope: .supported, language: "en", languageName: "English", reason: reason)
  }

  /// The message's words without @mentions, links, #hashtags and retweet marks.
  static func readableWords(_ text: String) -> [String] {
    func readable(_ word: Substring) -> Bool {
      !(word.hasPrefix("@") || word.hasPrefix("#") || word.hasPrefix("http://") || word.hasPrefix("https://") || word.hasPrefix("www.") || word == "RT")
    }
    // An ASCII message is split on its whitespace bytes (tab to carriage return, space), the
    // characters Unicode calls whitespace there, without breaking it into grapheme clusters.
    if text.utf8.allSatisfy({ $0 < 0x80 }) {
      return text.utf8.split(whereSeparator: { $0 == 32 || (9...13).contains($0) }).map { Substring($0) }.filter(readable).map(String.init)
    }
    return text.split(whereSeparator: { $0.isWhitespace }).filter(readable).map(String.init)
  }

  /// The words' letters (Unicode's Alphabetic) and how many of them are outside the Latin script.
  static func letterCounts(_ words: [String]) -> (letters: Int, nonLatin: Int) {
    var letters = 0, nonLatin = 0
    for word in words {
      for scalar in word.unicodeScalars {
        if scalar.isASCII {
          if Obfuscation.isLetter(UInt8(scalar.value)) { letters += 1 }
        } else if scalar.properties.isAlphabetic {
          letters += 1
          if !isLatin(scalar) { nonLatin += 1 }
        }
      }
    }
    return (letters, nonLatin)
  }

  struct Guess {
    let code: String
    let name: String
    let textBytes: Int
  }

  static func detect(_ text: String, hint: String?) -> Guess {
    var utf8 = Array(text.utf8)
    let guess = utf8.withUnsafeMutableBufferPointer { buffer in
      buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: max(buffer.count, 1)) { pointer in
        if let hint { return hint.withCString { discern_detect_language(pointer, Int32(buffer.count), $0) } }
        return discern_detect_language(pointer, Int32(buffer.count), nil)
      }
    }
    var copy = guess
    let code = withUnsafeBytes(of: &copy.code) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    let upper = withUnsafeBytes(of: &copy.name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    // CLD2 names languages in capitals ("SPANISH", "X_Cyrillic" for a script it cannot place).
    let name = upper.split(separator: "_").map { $0.prefix(1).uppercased() + $0.dropFirst().lowercased() }.joined(separator: " ")
    return Guess(code: code, name: name, textBytes: Int(guess.text_bytes))
  }

  static func isLatin(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x0000...0x024F, 0x1E00...0x1EFF, 0x2C60...0x2C7F, 0xA720...0xA7FF, 0xFF21...0xFF5A: true
    default: false
    }
  }

  static func isEmoji(_ scalar: Unicode.Scalar) -> Bool {
    scalar.properties.isEmojiPresentation || (scalar.properties.isEmoji && scalar.value > 0x2000)
  }
}

/// The most common words of the languages Discern most often meets besides English, for the short
/// messages CLD2 defaults to English. None is also an English word ("die", "so", "me", "no" are
/// left out), so an English message never scores here.
enum FunctionWords {
  static let languages: [(code: String, name: String, words: Set<String>)] = [
    ("es", "Spanish", ["que", "de", "la", "el", "los", "las", "y", "es", "un", "una", "por", "con", "para", "del", "al", "más", "muy", "pero", "estoy", "soy", "mi", "mis", "tu", "yo", "lo", "se", "ya", "esto", "esta", "este", "qué", "cómo", "hoy", "nada", "todo", "vida"]),
    ("pt", "Portuguese", ["que", "de", "da", "do", "das", "dos", "e", "é", "um", "uma", "com", "para", "pra", "por", "não", "eu", "você", "meu", "minha", "mais", "muito", "tô", "estou", "isso", "essa", "esse", "hoje", "nada", "tudo", "vida"]),
    ("fr", "French", ["je", "tu", "il", "elle", "le", "la", "les", "des", "du", "de", "et", "est", "un", "une", "pour", "avec", "pas", "plus", "que", "qui", "ne", "suis", "mon", "ma", "mes", "ce", "cette", "c'est", "j'ai", "ça", "tout", "rien", "vie"]),
    ("de", "German", ["ich", "du", "er", "sie", "es", "der", "das", "den", "dem", "und", "ist", "ein", "eine", "nicht", "mit", "für", "zu", "auf", "mein", "meine", "mir", "mich", "noch", "schon", "bin", "hab", "heute", "alles", "nichts", "leben"]),
  ]
  static let english: Set<String> = [
    // None is also common in the four languages above ("me", "no", "a", "he", "in", "was", "on", "do" are not here).
    "i", "you", "she", "it", "we", "they", "my", "your", "the", "and", "is", "are", "be", "to", "of", "for", "with", "not", "this", "that",
    "what", "just", "have", "don't", "i'm", "im", "its", "it's", "at", "all", "but", "like", "get", "got", "u", "ur", "lol", "lmao", "ngl",
    "tbh", "idk", "rn", "omg",
  ]

  struct Count {
    /// Common English words in the message.
    let english: Int
    /// The listed language with the most common words in the message, and those words.
    let foreign: (code: String, name: String, words: [String])
    let foreignLetters: Bool

    /// That language, when its common words outnumber the English ones: two of them, or one beside
    /// a letter English does not use (é, ñ, ß, ã, …).
    var dominant: (code: String, name: String, words: [String])? {
      guard foreign.words.count > english, foreign.words.count >= 2 || (foreign.words.count >= 1 && foreignLetters) else { return nil }
      return (foreign.code, foreign.name, Array(Set(foreign.words)).sorted())
    }
  }

  /// Letters English does not use.
  static let foreignLetters: Set<Character> = Set("áéíóúñüßçãõâêôàèùûîïœ")

  /// Runs on every message a server decides, so it walks each word's characters once (it was a
  /// twentieth of `discern serve`'s CPU through Foundation's string replacement and a scan of the
  /// foreign letters per character).
  static func count(_ words: [String]) -> Count {
    var lowered: [String] = []
    var foreign = false
    for word in words {
      // ASCII: lower-cased and cut at anything but a letter or an apostrophe byte by byte, as the
      // characters below are (an ASCII character is one byte, and a letter only from a to z).
      if word.utf8.allSatisfy({ $0 < 0x80 }) {
        lowered += word.lowercased().utf8.split(whereSeparator: { !(Obfuscation.isLetter($0) || $0 == UInt8(ascii: "'")) }).map {
          String(Substring($0))
        }
        continue
      }
      var current = ""
      for character in word.lowercased() {
        let character: Character = character == "’" ? "'" : character
        if character.isLetter || character == "'" {
          current.append(character)
          if !foreign, foreignLetters.contains(character) { foreign = true }
        } else if !current.isEmpty {
          lowered.append(current)
          current = ""
        }
      }
      if !current.isEmpty { lowered.append(current) }
    }
    let best = languages.map { language in (language, lowered.filter(language.words.contains)) }.max(by: { $0.1.count < $1.1.count })!
    return Count(english: lowered.filter(english.contains).count, foreign: (best.0.code, best.0.name, best.1), foreignLetters: foreign)
  }
}
