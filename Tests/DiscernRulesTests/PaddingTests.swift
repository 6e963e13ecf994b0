import DiscernRules
import Testing

/// What counts as padding, and that the core maps back onto the message as written.
@Suite struct PaddedMessageTests {
  @Test(arguments: [
    ("I can't do this anymore " + String(repeating: "😂", count: 14), "I can't do this anymore"),
    ("I can't do this anymore" + String(repeating: " lol", count: 25), "I can't do this anymore"),
    ("I can't do this anymore" + String(repeating: "!", count: 100), "I can't do this anymore"),
    ("I can't do this anymore" + String(repeating: "?!", count: 50), "I can't do this anymore"),
    (String(repeating: "nice day. ", count: 6) + "I can't do this anymore", "I can't do this anymore"),
    ("I can't do this anymore" + String(repeating: " ", count: 500) + "ok", "I can't do this anymore ok"),
    ("I can\u{200B}'t do th\u{200B}is anymore", "I can't do this anymore"),
  ])
  func paddingIsSetAside(_ padded: String, _ core: String) throws {
    #expect(PaddedMessage.strip(padded)?.core == core)
  }

  @Test(arguments: [
    "kill me now lol 😂😂😂", "this group project will be the death of me haha haha haha", "no no no",
    // A message that is only a repeat is its own content.
    "help help help help", "😂😂😂😂😂",
    "I just want to die and nobody would even notice",
  ])
  func contentIsNotPadding(_ text: String) {
    #expect(PaddedMessage.strip(text) == nil)
  }

  @Test func spansOnTheCoreMapBackToTheMessage() throws {
    let text = "ok " + String(repeating: "🌈", count: 5) + " I want to die \u{200B}tonight"
    let padded = try #require(PaddedMessage.strip(text))
    #expect(padded.core == "ok I want to die tonight")
    let scalars = Array(text.unicodeScalars)
    for word in ["I want to die", "tonight", "ok"] {
      let start = try #require(Array(padded.core.unicodeScalars).firstRange(of: Array(word.unicodeScalars))).lowerBound
      let range = padded.originalRange(start..<start + word.unicodeScalars.count)
      #expect(String(String.UnicodeScalarView(scalars[range])) == word)
    }
  }
}
