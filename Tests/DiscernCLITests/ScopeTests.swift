import Foundation
import Testing

/// Messages Discern cannot read (issue 18, item 12) are said so — with the policy's action — in
/// explain, the audit's records, its report, and never left to read as "not flagged".
@Suite struct ScopeTests {
  let cli = CLITests()
  static let hasEncoder = CLITests.hasEncoder

  @Test(.enabled(if: hasEncoder, "needs 'make model'"))
  func explainSaysAnotherLanguageIsOutOfScopeWithThePolicyAction() throws {
    let run = try cli.discern("explain", "--no-color", "quiero morirme", "Ich will nicht mehr leben")
    #expect(run.status == 0, "\(run.stderr)")
    #expect(run.stdout.contains("""
      » quiero morirme
        scope             unsupported_language (Spanish, es) → route to a human moderator who reads the language
          Read as Spanish (es) by the language identifier; Discern reads English only. The labels below were computed anyway and are unreliable.
        self_harm         p 
      """))
    #expect(run.stdout.contains("""
      » Ich will nicht mehr leben
        scope             unsupported_language (German, de) → route to a human moderator who reads the language
          Read as German (de) by the language identifier; Discern reads English only. The labels below were computed anyway and are unreliable.
        self_harm         p 
      """))
    // Every label line says its figure is unreliable; none reads as a plain "not flagged".
    let labelLines = run.stdout.split(separator: "\n").filter { $0.hasPrefix("  self_harm ") || $0.hasPrefix("  harming_others ") }
    #expect(labelLines.count == 4)
    #expect(labelLines.allSatisfy { $0.contains("flagged (unreliable)") || $0.contains("FLAGGED (unreliable)") })
    #expect(run.stdout.contains(
      "  rationale: Not a language Discern reads (unsupported_language): Read as Spanish (es) by the language identifier; Discern reads English only. Policy: route to a human moderator who reads the language. The label figures below are unreliable. "
    ))
  }

  @Test(.enabled(if: hasEncoder, "needs 'make model'"))
  func explainJSONCarriesTheScope() throws {
    let run = try cli.discern("explain", "--json", "je veux mourir", "ngl im lowkey dead rn fr fr 💀 #mood")
    let records = run.stdout.split(separator: "\n").map { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    let scopes = records.map { $0?["scope"] as? [String: Any] }
    #expect(scopes.count == 2)
    #expect(scopes[0]?["scope"] as? String == "unsupported_language")
    #expect(scopes[0]?["action"] as? String == "route to a human moderator who reads the language")
    #expect(scopes[1]?["scope"] as? String == "supported")
    #expect(scopes[1]?["language"] as? String == "en")
  }

  /// English with emoji, hashtags and slang — and short English — stays in scope: no scope line.
  @Test(.enabled(if: hasEncoder, "needs 'make model'"))
  func englishWithEmojiHashtagsAndSlangIsNotMarked() throws {
    let messages = [
      "ngl im lowkey dead rn fr fr 💀 #mood", "bruh this exam got me wanting to kms 😭😭 #finals", "lmao ur so extra, i cant 💀", "kms", "i'm done",
    ]
    let run = try cli.discern("explain", "--no-color", messages[0], messages[1], messages[2], messages[3], messages[4])
    #expect(run.status == 0, "\(run.stderr)")
    #expect(run.stdout.components(separatedBy: "\n» ").count == messages.count)
    #expect(!run.stdout.contains("  scope "))
    #expect(!run.stdout.contains("unreliable"))
  }

  /// The audit's JSONL and CSV records carry the scope; the report counts and lists it (rules-only:
  /// the scope does not depend on the encoder).
  @Test func auditRecordsAndReportCarryTheScope() throws {
    let folder = try cli.rulesFolder([:])
    let input = folder + "/queue.jsonl"
    try """
      {"id": "es", "text": "quiero morirme"}
      {"id": "en", "text": "lol this is so me 😂 #mood"}
      {"id": "dots", "text": "..."}

      """.write(toFile: input, atomically: true, encoding: .utf8)
    let run = try cli.discern("audit", input, "--rules-only", "--report", folder + "/report")
    #expect(run.status == 0, "\(run.stderr)")
    let lines = run.stdout.split(separator: "\n")
    #expect(lines.count == 3)
    #expect(lines[0].contains(#""scope":{"action":"route to a human moderator who reads the language","language":"es","language_name":"Spanish","reason":"Read as Spanish (es) by the language identifier; Discern reads English only.","scope":"unsupported_language"}"#))
    #expect(lines[1].contains(#""scope":{"action":null,"language":"en","language_name":"English","reason":"Read as English.","scope":"supported"}"#))
    #expect(lines[2].contains(#""scope":"too_little_text""#))
    let report = try String(contentsOfFile: folder + "/report/report.md", encoding: .utf8)
    #expect(report.contains("""
      ## Outside what Discern reads

      2 of 3 messages (66.7%) are outside what Discern reads: 1 unsupported_language (route to a human moderator who reads the language); 1 too_little_text (route to a human moderator if context suggests a risk). Their labels are unreliable.

      | line | id | scope | language | action | text |
      |---|---|---|---|---|---|
      | 1 | es | unsupported_language | es | route to a human moderator who reads the language | quiero morirme |
      | 3 | dots | too_little_text | und | route to a human moderator if context suggests a risk | ... |
      """))
    let html = try String(contentsOfFile: folder + "/report/report.html", encoding: .utf8)
    #expect(html.contains("<h2>Outside what Discern reads</h2>\n<p class=\"note\">2 of 3 messages (66.7%) are outside what Discern reads: "))
    #expect(html.contains("<tr><td>1</td><td>es</td><td>unsupported_language</td><td>es</td><td>route to a human moderator who reads the language</td><td>quiero morirme</td></tr>"))

    let csvRun = try cli.discern("audit", input, "--rules-only", "--out", folder + "/out.csv")
    #expect(csvRun.status == 0, "\(csvRun.stderr)")
    let csv = try String(contentsOfFile: folder + "/out.csv", encoding: .utf8).split(separator: "\n")
    #expect(csv[0].hasSuffix(",rationale,scope,language,scope_action,metadata"))
    #expect(csv[1].hasSuffix(",unsupported_language,es,route to a human moderator who reads the language,"))
    #expect(csv[2].hasSuffix(",supported,en,,"))
  }

  /// A bad scope entry in the policy is a diagnostic with file:line:col, the line and a caret.
  @Test func aBadPolicyScopeEntryIsADiagnosticWithItsPosition() throws {
    let work = FileManager.default.temporaryDirectory.appendingPathComponent("scope-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
    _ = try copyShippedRules(from: CLITests.root.path, into: work)
    let policy = work + "/Rules/policy.yaml"
    let shipped = try String(contentsOfFile: policy, encoding: .utf8)
    let edited = shipped.replacingOccurrences(of: "  unsupported_language:\n", with: "  unsuported_language:\n")
      .replacingOccurrences(of: "    action: route to a human moderator if context suggests a risk\n", with: "    actoin: route to a human moderator\n")
    #expect(edited != shipped)
    try edited.write(toFile: policy, atomically: true, encoding: .utf8)
    let input = work + "/in.jsonl"
    try "{\"text\": \"hello\"}\n".write(toFile: input, atomically: true, encoding: .utf8)
    let run = try cli.discern("audit", input, "--rules-only", "--rules", work + "/Rules", "--policy", policy)
    #expect(run.status != 0)
    let lines = shipped.components(separatedBy: "\n")
    let scopeLine = try #require(lines.firstIndex(of: "  unsupported_language:")) + 1
    let actionLine = try #require(lines.firstIndex(of: "    action: route to a human moderator if context suggests a risk")) + 1
    #expect(run.stderr.contains("""
      \(policy):\(scopeLine):3: error: unknown scope 'unsuported_language'; did you mean 'unsupported_language'? (one of: unsupported_language, too_little_text)
        unsuported_language:
        ^
      """))
    #expect(run.stderr.contains("""
      \(policy):\(actionLine):5: error: unknown key 'actoin' in scope 'too_little_text'; did you mean 'action'?
          actoin: route to a human moderator
          ^
      """))
    #expect(run.stderr.contains("\(policy):\(actionLine - 2):3: error: scope 'too_little_text' needs an 'action', what a moderator does with such a message"))
  }
}
