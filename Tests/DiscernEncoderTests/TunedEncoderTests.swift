import DiscernEncoder
import Foundation
import Testing

/// The shipped student: its layers and heads from Models/default/encoder, the embeddings and
/// tokenizer from the base model it was distilled on.
let studentFolder = repositoryRoot + "/Models/default/encoder"

/// The shipped student as Discern loads it: a student that learned from glossed messages reads them
/// through the emoji gloss. The encoder tests cannot see the lexicon (DiscernRules), so the gloss here
/// is the fixture's: the texts `Training/golden.py` glossed with `discern gloss`.
func loadStudent(precision: Precision = .fp32) throws -> BertEncoder {
  let glossed = Dictionary(
    (fixture("student-logits.json", as: LogitFixture.self)?.cases ?? []).map { ($0.text, $0.input ?? $0.text) },
    uniquingKeysWith: { first, _ in first })
  return try BertEncoder(
    folder: encoderFolder, tuned: studentFolder, precision: precision, gloss: InputGloss(identity: "fixture") { glossed[$0] ?? $0 })
}

struct LogitCase: Decodable, Sendable {
  let text: String
  /// What the student read, when it differs from the text (a glossed student).
  let input: String?
  let logits: [Float]
}

struct LogitFixture: Decodable {
  let labels: [String]
  let cases: [LogitCase]
}

@Suite(.enabled(if: hasEncoder, "needs the encoder: run 'make model'"))
struct TunedEncoderTests {
  /// PyTorch's logits for the reference texts (Training/golden.py, from the same files).
  static let reference = fixture("student-logits.json", as: LogitFixture.self)

  @Test func theStudentRunsThreeLayersWithItsOwnHeads() throws {
    let student = try loadStudent()
    let base = try BertEncoder(folder: encoderFolder)
    #expect(student.config.layers == 3 && base.config.layers == 6)
    let heads = try #require(student.tunedHeads)
    #expect(heads.labels == Self.reference?.labels)
    #expect(heads.encoder == student.fingerprint)
    #expect(student.fingerprint != base.fingerprint)
  }

  @Test(arguments: [Precision.fp32, .int8])
  func theStudentsLogitsMatchPyTorch(precision: Precision) throws {
    let reference = try #require(Self.reference)
    #expect(reference.cases.count >= 20)
    let student = try loadStudent(precision: precision)
    let heads = try #require(student.tunedHeads)
    #expect(heads.labels == reference.labels)
    let logits = try student.logits(reference.cases.map(\.text), heads: heads)
    // fp32 differs from PyTorch only by GELU's erf approximation and summation order (measured:
    // under 1e-4); int8 by quantization (measured: at most 0.04 on these texts).
    let tolerance: Float = precision == .fp32 ? 0.001 : 0.1
    for (expected, actual) in zip(reference.cases, logits) {
      for (e, a) in zip(expected.logits, actual) {
        #expect(abs(e - a) <= tolerance, "\(expected.text.debugDescription): PyTorch \(e), Discern \(a)")
      }
    }
  }

  @Test func layersTrainedOnAnotherBaseAreRefusedNamingBoth() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tuned-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let config = try String(contentsOfFile: studentFolder + "/config.json", encoding: .utf8)
      .replacingOccurrences(of: try BertEncoder(folder: encoderFolder).fingerprint, with: "fnv1a64:1234")
    try config.write(toFile: folder + "/config.json", atomically: true, encoding: .utf8)
    try FileManager.default.copyItem(atPath: studentFolder + "/model.safetensors", toPath: folder + "/model.safetensors")
    let base = try BertEncoder(folder: encoderFolder).fingerprint
    #expect {
      try BertEncoder(folder: encoderFolder, tuned: folder, gloss: InputGloss(identity: "none") { $0 })
    } throws: { error in
      "\(error)"
        == "'\(folder)' extends base encoder all-MiniLM-L6-v2 (fnv1a64:1234), but '\(encoderFolder)' is \(base); "
        + "pass the base it was trained on (--encoder PATH, 'make model' fetches the default) or retrain it (make train-encoder)"
    }
  }

  @Test func aTunedFolderWithoutItsWeightsIsNamed() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tuned-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    try FileManager.default.copyItem(atPath: studentFolder + "/config.json", toPath: folder + "/config.json")
    #expect(throws: EncoderError.missingFile(folder: folder, file: "model.safetensors")) {
      try BertEncoder(folder: encoderFolder, tuned: folder, gloss: InputGloss(identity: "none") { $0 })
    }
  }
}

/// BIO decoding of the span tagger's token classes into spans of the message.
@Suite struct TokenTaggerTests {
  static let tags = ["O", "B-casual_mention", "I-casual_mention", "B-serious_intent", "I-serious_intent"]
  let tagger = TokenTagger(tags: Self.tags, weight: [Float](repeating: 0, count: 5 * 2), bias: [0, 0, 0, 0, 0], hidden: 2)

  func token(_ range: Range<Int>?) -> WordPieceTokenizer.Token { WordPieceTokenizer.Token(id: 0, scalars: range) }
  func one(_ tag: Int, _ p: Float = 0.9) -> [Float] { (0..<5).map { $0 == tag ? p : (1 - p) / 4 } }

  @Test func spansRunFromBeginThroughInsideAndStopAtTheGloss() {
    // "i have enough (…gloss…)": [CLS] i have enough ( gloss [SEP]; the message is 13 scalars.
    let tokens = [token(nil), token(0..<1), token(2..<6), token(7..<13), token(14..<15), token(15..<20), token(nil)]
    let probabilities = [one(0), one(0), one(3, 0.8), one(4, 0.6), one(4), one(4), one(0)]
    let spans = tagger.spans(tokens: tokens, probabilities: probabilities, messageLength: 13)
    #expect(spans.map(\.type) == ["serious_intent"])
    #expect(spans.first?.scalars == 2..<13)
    #expect(abs((spans.first?.confidence ?? 0) - 0.7) < 1e-6)
  }

  @Test func anInsideTagOfAnotherTypeOpensANewSpan() {
    let tokens = [token(0..<4), token(5..<7), token(8..<11)]
    let probabilities = [one(1), one(2), one(4)]
    let spans = tagger.spans(tokens: tokens, probabilities: probabilities, messageLength: 11)
    #expect(spans.map(\.type) == ["casual_mention", "serious_intent"])
    #expect(spans.map(\.scalars) == [0..<7, 8..<11])
  }

  /// "kms lol": [CLS] km ##s lo ##l [SEP]. The tagger marked "km" and not "##s"; the span showed the
  /// moderator 'km'. A span covers the whole word it reaches, and no further.
  @Test(.enabled(if: hasEncoder, "needs the encoder: run 'make model'"))
  func aSpanCoversTheRestOfTheWordItReaches() throws {
    let tokenizer = try WordPieceTokenizer(vocabularyPath: encoderFolder + "/vocab.txt", maxLength: 16)
    let tokens = tokenizer.tokens("kms lol")
    #expect(tokens.map(\.continuesWord) == [false, false, true, false, true, false])
    let spans = tagger.spans(tokens: tokens, probabilities: [one(0), one(1), one(0), one(0), one(0), one(0)], messageLength: 7)
    #expect(spans.map(\.scalars) == [0..<3])
  }
}
