import Discern
import DiscernAudit
import DiscernRules
import Foundation
import Testing

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .deletingLastPathComponent().path

/// An audit run through the library alone, as a service would: no command line, no ArgumentParser.
/// Rules-only, so no test needs the encoder's weights; nothing asserts a model probability.
@Suite struct AuditRunTests {
  static let engine: Engine? = try? Engine(
    rules: repositoryRoot + "/Rules", policy: repositoryRoot + "/Rules/policy.yaml", encoder: nil, model: repositoryRoot + "/Models/default")

  func folder() throws -> String {
    let path = NSTemporaryDirectory() + "discern-audit-run-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
  }

  func fingerprints() -> EngineFingerprints {
    EngineFingerprints(
      rules: repositoryRoot + "/Rules", policy: repositoryRoot + "/Rules/policy.yaml", model: repositoryRoot + "/Models/default",
      variant: .rulesOnly, encoder: nil, lexicon: nil)
  }

  func records(_ path: String) throws -> [[String: Any]] {
    try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
      try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
    }
  }

  @Test func oneRecordPerInputRecordInOrderErrorsIncluded() throws {
    let engine = try #require(Self.engine)
    let folder = try folder()
    let input = folder + "/in.jsonl", out = folder + "/out.jsonl"
    try """
      {"id": "a", "text": "see you tomorrow at practice", "channel": "general"}
      {"id": "b", "message": "no text key here"}
      not json at all
      {"id": 4, "text": "this meeting is killing me lol"}

      """.write(toFile: input, atomically: true, encoding: .utf8)
    let run = try AuditRun(AuditConfiguration(input: input, out: out, variant: .rulesOnly, batch: 2))
    let summary = try run.run(engine: engine, fingerprints: fingerprints())
    #expect(summary.audited == 4 && summary.errors == 2 && summary.written == 4 && summary.resumed == 0)

    let written = try records(out)
    #expect(written.map { $0["line"] as? Int } == [1, 2, 3, 4])
    #expect(written.map { $0["id"] as? String } == ["a", "b", nil, "4"])
    #expect(written[1]["error"] as? String == "no 'text' field")
    #expect((written[2]["error"] as? String)?.isEmpty == false)
    for decided in [written[0], written[3]] {
      #expect(decided["error"] == nil)
      #expect((decided["labels"] as? [String: Any])?.keys.sorted() == engine.heads.labels.sorted())
    }
    #expect((written[0]["metadata"] as? [String: String]) == ["channel": "general"])
    // Every record names the rules and model that decided it (what a resume checks).
    let prints = try #require(written[0]["fingerprints"] as? [String: String])
    #expect(prints["rules"] == fingerprints().rules && prints["model"] == fingerprints().model)
  }

  /// The record's decision part is the explain JSON: one decision-to-record path for audit, explain
  /// and the REPL.
  @Test func aDecidedRecordIsTheDecisionJSONWithItsIdentityInFront() throws {
    let engine = try #require(Self.engine)
    let folder = try folder()
    let input = folder + "/in.jsonl", out = folder + "/out.jsonl"
    let text = "see you tomorrow at practice"
    try "{\"text\": \"\(text)\"}\n".write(toFile: input, atomically: true, encoding: .utf8)
    _ = try AuditRun(AuditConfiguration(input: input, out: out, variant: .rulesOnly)).run(engine: engine, fingerprints: fingerprints())
    let record = try #require(try records(out).first)
    let decision = engine.decide([text], variant: .rulesOnly)[0]
    let explained = try #require(
      try JSONSerialization.jsonObject(with: Data(DecisionJSON.line(decision).utf8)) as? [String: Any])
    let decisionPart = record.filter { explained[$0.key] != nil }
    #expect(NSDictionary(dictionary: decisionPart).isEqual(to: explained))
    #expect(Set(record.keys).subtracting(explained.keys) == ["id", "line", "fingerprints"])
  }

  @Test func anOutputThatIsTheInputIsRefusedBeforeAnythingIsWritten() throws {
    let folder = try folder()
    let input = folder + "/in.jsonl"
    try "{\"text\": \"hello\"}\n".write(toFile: input, atomically: true, encoding: .utf8)
    #expect(throws: AuditError.output(
      "--out '\(input)' is the same file as the input '\(input)'; writing the records there would erase the input before it is read. "
        + "Give --out another file.")) {
      _ = try AuditRun(AuditConfiguration(input: input, out: input, variant: .rulesOnly))
    }
    #expect(try String(contentsOfFile: input, encoding: .utf8) == "{\"text\": \"hello\"}\n")
  }
}
