import Discern
import DiscernRules
import Foundation
import Testing

/// Padding cannot buy a serious message out of a flag: 14 appended emoji once took "I am going to
/// end it tonight…" from p 0.89 to 0.47, and 100 flagged it as harming others instead. Every padding
/// kind an evader has, up to 10,000 characters, over the Playground's serious messages and the rule
/// packs' serious-intent examples.
extension EngineTests {
  /// Each padding kind: a unit repeated to about `length` characters, and never fewer than four
  /// copies. Fewer are content, not padding: a serious message with one laughing emoji is honestly
  /// less certain, and the lexicon says so.
  static let paddings: [(name: String, unit: String, prefix: Bool)] = [
    ("😂", "😂", false), ("🌈", "🌈", false), ("🙏", "🙏", false), ("emoji pair", "😂🙏", false),
    ("!", "!", false), ("?!", "?!", false), ("spaces", " ", false), ("newlines", "\n", false),
    ("zero-width", "\u{200B}", false), ("word", " lol", false), ("benign phrase", " nice day, great game, love it", false),
    ("benign prefix", "Had a lovely lunch with friends and the weather was nice. ", true),
  ]
  /// From the probe's 14 emoji to 10,000 characters.
  static let lengths = [14, 240, 10_000]

  static func pad(_ message: String, _ padding: (name: String, unit: String, prefix: Bool), length: Int) -> String {
    let copies = max(4, length / padding.unit.count)
    let pad = String(repeating: padding.unit, count: copies)
    return padding.prefix ? pad + message : message + " " + pad
  }

  /// The serious messages: Playground lines expected to flag self_harm, and serious-intent rules' hit examples.
  func seriousMessages() throws -> [String] {
    let lines = try String(contentsOfFile: repositoryRoot + "/Playground/messages.txt", encoding: .utf8).components(separatedBy: "\n")
    var messages: [String] = []
    for (i, line) in lines.enumerated() where !line.isEmpty && !line.hasPrefix("#") {
      let notes = lines[(i + 1)...].prefix { $0.hasPrefix("#>") }
      if notes.contains("#> flags: self_harm") { messages.append(line) }
    }
    let rules = RuleCompiler.compile(directory: repositoryRoot + "/Rules")
    for definition in rules.definitions where definition.marks == .seriousIntent {
      messages += definition.examples.hit.map(\.text)
    }
    return messages
  }

  @Test func paddingNeverUnflagsSelfHarmNorFlagsHarmingOthersOnItsOwn() throws {
    let engine = try engine()
    let messages = try seriousMessages()
    #expect(messages.count >= 10)
    let originals = engine.decide(messages)
    var unflagged: [String] = [], wrongDirection: [String] = []
    var worst: (p: Double, case: String) = (1, "")
    var checked = 0
    for (message, original) in zip(messages, originals) where original.label("self_harm")?.flagged == true {
      let othersBefore = original.label("harming_others")?.flagged == true
      var padded: [(String, String)] = []
      for padding in Self.paddings {
        for length in Self.lengths { padded.append(("\(padding.name) ×\(length)", Self.pad(message, padding, length: length))) }
      }
      // Zero-width characters between the letters hide every word from the rules.
      padded.append(("zero-width between letters", message.map { String($0) + "\u{200B}" }.joined()))
      for ((name, text), decision) in zip(padded, engine.decide(padded.map(\.1))) {
        checked += 1
        let selfHarm = try #require(decision.label("self_harm"))
        if selfHarm.probability < worst.p { worst = (selfHarm.probability, "'\(message)' + \(name)") }
        if !selfHarm.flagged { unflagged.append("'\(message)' + \(name): p \(selfHarm.probability) < \(selfHarm.threshold)") }
        if !othersBefore, decision.label("harming_others")?.flagged == true { wrongDirection.append("'\(message)' + \(name)") }
      }
    }
    print("padding: \(checked) padded messages; lowest self_harm p \(worst.p) for \(worst.case)")
    #expect(checked > 500)
    #expect(unflagged.isEmpty, "\(unflagged.count) unflagged:\n\(unflagged.prefix(20).joined(separator: "\n"))")
    #expect(wrongDirection.isEmpty, "harming_others flagged by padding alone:\n\(wrongDirection.prefix(20).joined(separator: "\n"))")
  }

  /// The encoder reads a padded message's core, what the message is decided on, and nothing else:
  /// an audit read the whole message in its batch and then the core again on its own, so 536 of
  /// the keyword tweets' 11,436 messages were read twice.
  @Test func theEncoderReadsAPaddedMessageAsItsCore() throws {
    let engine = try engine()
    let core = try #require(try seriousMessages().first)
    let padded = Self.pad(core, Self.paddings[0], length: 240)
    let readings = engine.read([padded, core])
    #expect(readings[0].embedding == readings[1].embedding)
    #expect(readings[0].spans == readings[1].spans)
    let (decided, alone) = (engine.decide([padded])[0], engine.decide([core])[0])
    for label in alone.labels {
      #expect(decided.label(label.label)?.contributions.first { $0.feature == "encoder" } == label.contributions.first { $0.feature == "encoder" })
    }
  }
}
