import DiscernRules
import Foundation
import Testing

/// The shared data folder, when it is beside the repository.
let sharedEmojiFolder = repositoryRoot + "/../shared/data/emoji"
let hasSharedEmojiData = FileManager.default.fileExists(atPath: sharedEmojiFolder + "/emoji-test.txt")

/// Fully-qualified sequences of Unicode's emoji-test.txt with their CLDR names.
let emojiTest: [(emoji: String, name: String)] = {
  guard let text = try? String(contentsOfFile: sharedEmojiFolder + "/emoji-test.txt", encoding: .utf8) else { return [] }
  return text.split(separator: "\n").compactMap { line in
    guard line.contains("; fully-qualified"), let hash = line.firstIndex(of: "#") else { return nil }
    // "# 😀 E1.0 grinning face"
    let parts = line[line.index(after: hash)...].split(separator: " ", maxSplits: 2)
    return parts.count == 3 ? (String(parts[0]), String(parts[2])) : nil
  }
}()

@Suite struct EmojiTests {
  static let lexicon: Lexicon? = {
    var diagnostics = DiagnosticList()
    return LexiconLoader.load(path: repositoryRoot + "/Lexicons/cesm.yaml", diagnostics: &diagnostics)
  }()

  @Test(.enabled(if: hasSharedEmojiData, "needs ../shared/data/emoji/emoji-test.txt"))
  func everyFullyQualifiedSequenceIsExactlyOneEmoji() {
    #expect(emojiTest.count > 3_600)
    var wrong: [String] = []
    for (emoji, name) in emojiTest {
      let found = EmojiScanner.scan("I feel \(emoji) today").map(\.emoji)
      if found != [emoji] { wrong.append("\(emoji) \(name): found \(found)") }
    }
    #expect(wrong.isEmpty, "\(wrong.prefix(20).joined(separator: "\n"))")
  }

  @Test func clustersKeepZWJSequencesSkinTonesKeycapsAndFlagsWhole() throws {
    let lexicon = try #require(Self.lexicon)
    let text = "a 👩‍👩‍👧 b 👍🏽 c 1️⃣ d 🇫🇷 e 🕊 f 🕊️"
    // 🕊 without VS16 is text by default: an emoji only because the lexicon has the dove.
    #expect(EmojiScanner.scan(text).map(\.emoji) == ["👩‍👩‍👧", "👍🏽", "1️⃣", "🇫🇷", "🕊️"])
    let found = lexicon.scan(text)
    #expect(found.map(\.emoji) == ["👩‍👩‍👧", "👍🏽", "1️⃣", "🇫🇷", "🕊", "🕊️"])
    // Scalar offsets, as Python counts them: len("a 👩‍👩‍👧 b ") == 10.
    #expect(found[1].scalars == 10..<12)
  }

  @Test func textSymbolsCountOnlyWhenTheLexiconKnowsThem() throws {
    let lexicon = try #require(Self.lexicon)
    #expect(EmojiScanner.scan("© 2024, 1 ☠").isEmpty)
    #expect(lexicon.scan("© 2024, 1 ☠").map(\.emoji) == ["☠"])
  }

  @Test func lookupFoldsSkinToneAndVariationSelector() throws {
    let lexicon = try #require(Self.lexicon)
    #expect(lexicon.entry(for: "💪🏿")?.name == "flexed biceps")
    #expect(lexicon.entry(for: "🕊")?.name == "dove")
    #expect(lexicon.entry(for: "☠")?.seriousIntent == .high)
  }

  @Test func theLexiconHoldsThePapersRowsAsGiven() throws {
    let lexicon = try #require(Self.lexicon)
    #expect(lexicon.entries.count >= 100)
    let paper: [(String, LexiconLevel, LexiconLevel)] = [
      ("⚰️", .low, .high), ("💔", .medium, .high), ("🔪", .low, .high), ("🩸", .medium, .high),
      ("💉", .low, .medium), ("😂", .high, .medium), ("🥀", .medium, .high), ("🙃", .high, .medium),
      ("😅", .high, .medium), ("💛", .high, .low), ("😞", .medium, .high),
    ]
    for (emoji, cm, si) in paper {
      let entry = try #require(lexicon.entry(for: emoji), "\(emoji) missing")
      #expect(entry.casualMention == cm && entry.seriousIntent == si, "\(emoji)")
    }
    let appendix = "💪🌑💜🕊️🖤🔒🌧️🌈🤗✨🌪️☠️💀⚠️✂️😢😔💞😊🌸🌟"
    for character in appendix {
      #expect(lexicon.entry(for: String(character)) != nil, "\(character) missing")
    }
  }

  @Test(.enabled(if: hasSharedEmojiData, "needs ../shared/data/emoji/emoji-test.txt"))
  func lexiconNamesAreCLDRShortNames() throws {
    let lexicon = try #require(Self.lexicon)
    let names = Dictionary(emojiTest.map { ($0.emoji, $0.name) }, uniquingKeysWith: { a, _ in a })
    for entry in lexicon.entries {
      #expect(names[entry.emoji] == entry.name, "\(entry.emoji): '\(entry.name)' vs CLDR '\(names[entry.emoji] ?? "?")'")
    }
  }

  @Test func lexiconErrorsUseTheRuleDiagnostics() {
    let text = """
      lexicon: t
      version: "1"
      entries:
        - {emoji: "🔪", name: kitchen knife, meaning: m, self_harm_meaning: s, casual_mention: lo, serious_intent: high}
        - {emoji: "ab", name: x, meaning: m, self_harm_meaning: s, casual_mention: low, serious_intent: high, sginal: irony}
      """
    var diagnostics = DiagnosticList()
    let lexicon = LexiconLoader.parse(SourceText(path: "t.yaml", text: text), text: text, diagnostics: &diagnostics)
    #expect(lexicon == nil)
    #expect(diagnostics.items.map(\.message) == [
      "'casual_mention' cannot be 'lo'; did you mean 'low'? (one of: low, medium, high)",
      "unknown key 'sginal' in entry 'ab'; did you mean 'signal'?",
      "'ab' is not a single emoji",
    ])
  }

  @Test func emojiRulesMeasureAndCarryLexiconRows() throws {
    let rules = try RuleCompiler.compile(directory: repositoryRoot + "/Rules").ruleSet.unwrap()
    let evaluation = rules.evaluate("everything hurts 🥀💔😞 lol 😂")
    let value = { (id: String) in evaluation.features[rules.index(of: id)!] }
    // Sums, counts and runs enter saturated (EmojiRule.saturate); maxima and flags as they are.
    #expect(value("emoji.serious-intent-sum") == EmojiRule.saturate(3 + 3 + 3 + 2))
    #expect(value("emoji.serious-intent-max") == 3)
    #expect(value("emoji.count") == EmojiRule.saturate(4))
    #expect(value("emoji.longest-run") == EmojiRule.saturate(3))
    #expect(value("emoji.laughter-close") == 1)
    let wilted = try #require(evaluation.evidence(for: "emoji.count").first)
    #expect(wilted.text == "🥀")
    #expect(wilted.lexicon?.selfHarmMeaning == "feeling lifeless, withering away")
    try expectSpans(rules, "emoji.longest-run", "everything hurts ⟦🥀💔😞⟧ lol 😂")
  }

  /// Appending emoji cannot grow any emoji feature without bound: past 14 copies nothing moves (100
  /// copies give what 14 give, within 0.01), and no measure passes the ceiling.
  @Test func paddingWithEmojiSaturatesEveryMeasure() throws {
    let rules = try RuleCompiler.compile(directory: repositoryRoot + "/Rules").ruleSet.unwrap()
    let message = "I am going to end it tonight, I have the pills ready and wrote my goodbye note "
    for emoji in ["😂", "🌈", "🙏", "🥀"] {
      let few = rules.evaluate(message + String(repeating: emoji, count: 14))
      let many = rules.evaluate(message + String(repeating: emoji, count: 100))
      for (index, id) in rules.featureIDs.enumerated() where id.hasPrefix("emoji.") {
        #expect(many.features[index] <= EmojiRule.ceiling, "\(id) \(emoji)")
        #expect(many.features[index] - few.features[index] < 0.01, "\(id) \(emoji): \(few.features[index]) → \(many.features[index])")
      }
    }
  }
}
