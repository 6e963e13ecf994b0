import DiscernEncoder
import DiscernRules
import Foundation
import Testing

/// The encoder reads each message with its emoji's meanings appended (`EmojiGloss`). Training builds
/// its inputs through `discern gloss` and tokenizes them with Hugging Face's tokenizer; these cases
/// (`Training/gloss_golden.py`) hold Discern's gloss and tokenizer to exactly that text and those ids.
@Suite struct EncoderInputTests {
  struct Case: Decodable, Sendable, CustomStringConvertible {
    let text: String
    let glossed: String
    let ids: [Int32]
    var description: String { text.debugDescription }
  }

  struct Fixture: Decodable { let cases: [Case] }

  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path
  static let encoder = root + "/.models/all-MiniLM-L6-v2"
  static let cases: [Case] = {
    guard let data = FileManager.default.contents(atPath: root + "/Tests/Fixtures/encoder/gloss-tokens.json") else { return [] }
    return (try? JSONDecoder().decode(Fixture.self, from: data).cases) ?? []
  }()

  static func lexicon() throws -> Lexicon {
    var diagnostics = DiagnosticList()
    return try #require(LexiconLoader.load(path: root + "/Lexicons/cesm.yaml", diagnostics: &diagnostics))
  }

  @Test func theFixtureCoversPaddingSkinTonesZWJAndMessagesWithoutEmoji() {
    #expect(Self.cases.count >= 12)
  }

  @Test(arguments: cases)
  func theGlossIsTheTextTrainingRead(_ reference: Case) throws {
    #expect(EmojiGloss.text(reference.text, lexicon: try Self.lexicon()) == reference.glossed)
  }

  @Test(.enabled(if: FileManager.default.fileExists(atPath: encoder + "/vocab.txt"), "needs the encoder: run 'make model'"), arguments: cases)
  func theTokenIdsAreTheOnesTrainingSaw(_ reference: Case) throws {
    let tokenizer = try WordPieceTokenizer(vocabularyPath: Self.encoder + "/vocab.txt", maxLength: 128)
    #expect(tokenizer.encode(EmojiGloss.text(reference.text, lexicon: try Self.lexicon())) == reference.ids)
  }

  /// Fourteen copies of an emoji add one gloss, as one copy does; seven distinct emoji add four.
  @Test func paddingWithEmojiAddsAtMostFourGlosses() throws {
    let lexicon = try Self.lexicon()
    let once = EmojiGloss.text("end it tonight 😂", lexicon: lexicon)
    let padded = EmojiGloss.text("end it tonight " + String(repeating: "😂", count: 14), lexicon: lexicon)
    #expect(padded.hasSuffix(String(once.drop(while: { $0 != "(" }))))
    let seven = EmojiGloss.text("🌈🙏😂🥀⚰️🩸💉", lexicon: lexicon)
    #expect(seven.contains("wilted flower") && !seven.contains("coffin") && !seven.contains("syringe"))
  }
}
