import Discern
import DiscernEncoder
import DiscernModel
import DiscernRules
import Foundation
import Testing

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .deletingLastPathComponent().path
let encoderFolder = repositoryRoot + "/.models/all-MiniLM-L6-v2"
let hasEncoder = FileManager.default.fileExists(atPath: encoderFolder + "/model.safetensors")

/// The shipped model on the shipped rules and policy, as `discern` loads them.
@Suite(.enabled(if: hasEncoder, "needs the encoder: run 'make model'"))
struct EngineTests {
  /// The shipped model was fitted on the distilled student, which it carries in its encoder/ folder;
  /// a student that learned from glossed messages reads them through the lexicon, as `discern` loads it.
  static let encoder: BertEncoder? = {
    var diagnostics = DiagnosticList()
    guard let lexicon = LexiconLoader.load(path: repositoryRoot + "/Lexicons/cesm.yaml", diagnostics: &diagnostics) else { return nil }
    return try? BertEncoder(
      folder: encoderFolder, tuned: repositoryRoot + "/Models/default/encoder", precision: .int8,
      gloss: InputGloss(identity: "cesm") { EmojiGloss.text($0, lexicon: lexicon) })
  }()

  func engine(model: String = repositoryRoot + "/Models/default") throws -> Engine {
    try Engine(
      rules: repositoryRoot + "/Rules", policy: repositoryRoot + "/Rules/policy.yaml", encoder: try #require(Self.encoder), model: model)
  }

  @Test func theShippedModelLoadsWithoutWarningsAndRanksIntentAboveHyperbole() throws {
    let engine = try engine()
    #expect(engine.warnings.isEmpty, "\(engine.warnings)")
    let decisions = engine.decide([
      "I have written my goodbye letters and I plan to end my life tonight",
      "this group project will be the death of me lol 😂",
    ])
    let serious = try #require(decisions[0].label("self_harm"))
    let casual = try #require(decisions[1].label("self_harm"))
    #expect(serious.flagged && !casual.flagged, "serious p \(serious.probability), casual p \(casual.probability)")
    #expect(serious.probability > casual.probability)
  }

  /// The explanation is the model: bias plus the listed contributions is the logit, for every
  /// Playground message and every label.
  /// Obfuscation cannot hide a message from the encoder: it reads the plain spelling the rules read
  /// (it once read "k!ll mys3lf" as unknown word pieces, p 0.03 against 0.79 for "kill myself"), and
  /// whatever its tagger marks is shown on the message as written.
  @Test func anObfuscatedMessageIsDecidedAsItsPlainSpelling() throws {
    let engine = try engine()
    let pairs = [
      ("k!ll mys3lf", "kill myself"),
      ("i want to k.i.l.l myself tonight", "i want to kill myself tonight"),
      ("s u i c i d e is all i think about now", "suicide is all i think about now"),
    ]
    let decisions = engine.decide(pairs.flatMap { [$0.0, $0.1] })
    for (index, pair) in pairs.enumerated() {
      let (obfuscated, plain) = (decisions[2 * index], decisions[2 * index + 1])
      #expect(obfuscated.labels.map(\.probability) == plain.labels.map(\.probability), "\(pair)")
      let scalars = Array(pair.0.unicodeScalars)
      for span in obfuscated.spans {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars[span.start..<span.end])
        #expect(String(view) == span.text, "\(span) in \(pair.0)")
      }
    }
  }

  @Test func contributionsPlusBiasAreThePreCalibrationLogit() throws {
    let engine = try engine()
    let lines = try String(contentsOfFile: repositoryRoot + "/Playground/messages.txt", encoding: .utf8)
      .split(separator: "\n").map(String.init).filter { !$0.isEmpty && !$0.hasPrefix("# ") && !$0.hasPrefix("#>") && $0 != "#" }
    #expect(lines.count >= 10)
    for decision in engine.decide(lines) {
      for label in decision.labels {
        let sum = label.contributions.reduce(label.bias) { $0 + $1.contribution }
        #expect(abs(sum - label.logit) < 1e-5, "\(decision.text) \(label.label): \(sum) vs \(label.logit)")
        for c in label.contributions { #expect(abs(c.weight * c.value - c.contribution) < 1e-12) }
      }
      #expect(!decision.rationale.isEmpty)
    }
  }

  @Test func theRationaleSaysOnlyWhatTheContributionsSay() throws {
    let decision = try engine().decide("this group project will be the death of me lol 😂")
    let selfHarm = try #require(decision.label("self_harm"))
    #expect(!selfHarm.flagged)
    #expect(decision.rationale.hasPrefix(String(format: "Not self-harm (p = %.2f against a threshold of %.2f).", selfHarm.probability, selfHarm.threshold)))
    // Every rule the rationale names is among the three largest contributions, with its sign.
    for c in selfHarm.contributions.prefix(3) where abs(c.contribution) >= 0.05 {
      let amount = String(format: "%+.1f", c.contribution)
      // The amount closes the rule's parentheses, or comes before the emoji's lexicon row.
      let cited = decision.rationale.contains("\(amount))") || decision.rationale.contains("\(amount); lexicon: ")
      #expect(cited, "\(c.feature) \(amount) missing from: \(decision.rationale)")
    }
    for c in selfHarm.contributions.dropFirst(3) where c.feature != "encoder" {
      let named = decision.rationale.contains("(\(c.feature)") || decision.rationale.contains("rule \(c.feature) ")
      #expect(!named, "\(c.feature) is not among the largest: \(decision.rationale)")
    }
    #expect(decision.emoji.map(\.emoji) == ["😂"])
    #expect(decision.spans.contains { $0.type == "casual_mention" && $0.text == "be the death of me" })
  }

  @Test func aModelTrainedOnAnotherEncoderIsRefused() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("model-\(UUID().uuidString)").path
    var model = try FusionModel.load(folder: repositoryRoot + "/Models/default")
    model.encoder.fingerprint = "fnv1a64:0"
    try model.save(folder: folder)
    #expect {
      try engine(model: folder)
    } throws: { error in
      "\(error)" == "model '\(folder)' was trained on encoder fnv1a64:0, but '\(encoderFolder)' is \(Self.encoder!.fingerprint); "
        + "pass the encoder it was trained with (--encoder PATH) or retrain it (discern train)"
    }
  }

  /// The direction-of-harm post's own table (who is harmed decides the label; the same insult in each)
  /// and every Playground message's `#> flags:` line. The shipped model does not yet decide them all
  /// (issue 16): the test holds it to the count it reaches, so a model that decides fewer fails, and
  /// prints every miss. Raise the floors as models improve; the goal is all of them.
  static let directionOfHarmTable: [(message: String, labels: [String])] = [
    ("I'm trash", ["self_harm"]),
    ("He's trash", ["harming_others"]),
    ("She told me I'm trash", ["harmed_by_others"]),
    ("He told her she's trash", ["reference_to_harm"]),
    ("He told her she's trash and I agree", ["harming_others", "reference_to_harm"]),
    ("The shirt is trash", []),
    ("This keyboard is useless", []),
  ]
  static let tableFloor = 3
  static let playgroundFloor = 20

  /// Every Playground message with the labels its `#> flags:` line expects (the label guide's reading).
  static let playgroundFlags: [(message: String, labels: [String])] = {
    guard let text = try? String(contentsOfFile: repositoryRoot + "/Playground/messages.txt", encoding: .utf8) else { return [] }
    var cases: [(String, [String])] = []
    var message: String?
    for line in text.split(separator: "\n").map(String.init) {
      if line.hasPrefix("#> flags:"), let current = message {
        let labels = line.dropFirst("#> flags:".count).split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        cases.append((current, labels == ["nothing"] ? [] : labels))
      } else if !line.isEmpty, line != "#", !line.hasPrefix("# "), !line.hasPrefix("#>") {
        message = line
      }
    }
    return cases
  }()

  /// How many of `cases` the shipped model flags exactly as expected, and a line per miss.
  func decided(_ cases: [(message: String, labels: [String])]) throws -> (right: Int, misses: [String]) {
    let decisions = try engine().decide(cases.map(\.message))
    var misses: [String] = []
    for (decision, expected) in zip(decisions, cases) {
      let flagged = decision.labels.filter(\.flagged).map(\.label).sorted()
      if flagged != expected.labels.sorted() {
        misses.append("\(expected.message): expected \(expected.labels), got \(decision.labels.map { "\($0.label) \(String(format: "%.2f", $0.probability))" })")
      }
    }
    return (cases.count - misses.count, misses)
  }

  @Test func theDirectionOfHarmTableIsDecidedAtLeastAsWellAsBefore() throws {
    let (right, misses) = try decided(Self.directionOfHarmTable)
    #expect(right >= Self.tableFloor, "\(right) of \(Self.directionOfHarmTable.count) right; misses:\n\(misses.joined(separator: "\n"))")
  }

  @Test func playgroundMessagesAreDecidedAtLeastAsWellAsBefore() throws {
    #expect(Self.playgroundFlags.count >= 20)
    let (right, misses) = try decided(Self.playgroundFlags)
    #expect(right >= Self.playgroundFloor, "\(right) of \(Self.playgroundFlags.count) right; misses:\n\(misses.joined(separator: "\n"))")
  }
}
