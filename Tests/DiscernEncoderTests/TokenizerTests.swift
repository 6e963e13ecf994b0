import DiscernEncoder
import Foundation
import Testing

@Suite struct TokenizerTests {
  static let reference = fixture("tokens.json", as: TokenFixture.self)
  static var cases: [TokenCase] { reference?.cases ?? [] }

  @Test func theReferenceHasTheTrickyStrings() {
    #expect(Self.cases.count >= 20)
  }

  @Test(.enabled(if: hasEncoder, "needs the encoder: run 'make model'"), arguments: cases)
  func idsMatchHuggingFace(_ reference: TokenCase) throws {
    let tokenizer = try WordPieceTokenizer(vocabularyPath: encoderFolder + "/vocab.txt", maxLength: 128)
    #expect(tokenizer.encode(reference.text) == reference.ids)
  }

  @Test(.enabled(if: hasEncoder, "needs the encoder: run 'make model'"))
  func truncationKeepsClsAndSep() throws {
    let tokenizer = try WordPieceTokenizer(vocabularyPath: encoderFolder + "/vocab.txt", maxLength: 8)
    let ids = tokenizer.encode("one two three four five six seven eight nine ten")
    #expect(ids.count == 8)
    #expect(ids.first == tokenizer.clsID && ids.last == tokenizer.sepID)
  }

  @Test(.enabled(if: hasEncoder, "needs the encoder: run 'make model'"), arguments: cases)
  func tokensWithOffsetsGiveTheSameIds(_ reference: TokenCase) throws {
    let tokenizer = try WordPieceTokenizer(vocabularyPath: encoderFolder + "/vocab.txt", maxLength: 128)
    #expect(tokenizer.tokens(reference.text).map(\.id) == reference.ids)
  }

  /// Each token points at the scalars of the message it came from, through lower-casing, accents,
  /// punctuation, word pieces and an emoji the vocabulary lacks.
  @Test(.enabled(if: hasEncoder, "needs the encoder: run 'make model'"))
  func tokensPointBackIntoTheMessage() throws {
    let tokenizer = try WordPieceTokenizer(vocabularyPath: encoderFolder + "/vocab.txt", maxLength: 128)
    let text = "Héllo, WORLD 😂 unfollowing"
    let scalars = Array(text.unicodeScalars)
    let pieces = tokenizer.tokens(text).map { token -> String in
      guard let range = token.scalars else { return "·" }
      var view = String.UnicodeScalarView()
      view.append(contentsOf: scalars[range])
      return String(view)
    }
    #expect(pieces == ["·", "Héllo", ",", "WORLD", "😂", "un", "fo", "llo", "wing", "·"])
  }

  /// ASCII is cleaned without looking up Unicode properties; each of its 128 characters between two
  /// letters must tokenize as the properties say, in Hugging Face's order: a control dropped (but
  /// tab, newline and return, which are whitespace), whitespace a space, a capital lower-cased,
  /// everything else kept.
  @Test(.enabled(if: hasEncoder, "needs the encoder: run 'make model'"))
  func everyASCIICharacterIsCleanedAsUnicodeSays() throws {
    let tokenizer = try WordPieceTokenizer(vocabularyPath: encoderFolder + "/vocab.txt", maxLength: 128)
    var wrong: [String] = []
    for value in UInt32(0)..<128 {
      let scalar = Unicode.Scalar(value)!
      let control = value != 9 && value != 10 && value != 13 && scalar.properties.generalCategory == .control
      let whitespace = !control && scalar.properties.isWhitespace
      let cleaned = control ? "" : whitespace ? " " : scalar.properties.lowercaseMapping
      if tokenizer.encode("a\(scalar)b") != tokenizer.encode("a\(cleaned)b") { wrong.append(String(format: "U+%04X", value)) }
    }
    #expect(wrong.isEmpty, "tokenized unlike their Unicode properties: \(wrong)")
  }

  @Test func aMissingVocabularySaysWhere() {
    #expect(throws: TokenizerError.unreadableVocabulary(path: "/nowhere/vocab.txt")) {
      try WordPieceTokenizer(vocabularyPath: "/nowhere/vocab.txt")
    }
  }
}
