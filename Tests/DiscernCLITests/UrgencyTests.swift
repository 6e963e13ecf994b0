import Foundation
import Testing

/// Urgency tiers (issue 18, item 13) where a moderator sees them: explain, its JSON, audit records,
/// --tier and --sort, the report and the policy's diagnostics. The messages are flagged far from
/// the threshold (a pinned warning sign, or p ≈ 0.8); each test checks the flag it starts from, so a
/// retrained model that decides otherwise fails with that said, not with a puzzling tier.
extension CLITests {
  static let tonight = "I think I'm going to hurt myself tonight"
  static let wish = "I just want to die and nobody would even notice"

  /// The `self_harm` line of explain's view.
  func selfHarmLine(_ stdout: String) throws -> String {
    try #require(stdout.split(separator: "\n").map(String.init).first { $0.hasPrefix("  self_harm ") })
  }

  @Test(.enabled(if: hasEncoder))
  func explainShowsAnUrgentTierWithTheTimeItNames() throws {
    let run = try discern("explain", "--no-color", Self.tonight)
    #expect(run.status == 0, "\(run.stderr)")
    try #require(try selfHarmLine(run.stdout).contains("FLAGGED"))
    #expect(run.stdout.contains("""
        urgency: urgent — self_harm flagged; names a time: 'tonight' [33, 40) (urgency.time)
          moderator: act now — escalate to the on-call crisis lead and reach the author with crisis resources at once

      """))
  }

  /// A padded message is decided on its core; its tier came back `none` (the core's urgency was
  /// dropped) and its cue offsets must point into the message as written.
  @Test(.enabled(if: hasEncoder))
  func aPaddedMessageKeepsItsTierWithCueOffsetsAsWritten() throws {
    let run = try discern("explain", "--no-color", "tonight tonight tonight tonight " + Self.tonight)
    #expect(run.status == 0, "\(run.stderr)")
    try #require(try selfHarmLine(run.stdout).contains("FLAGGED"))
    #expect(run.stdout.contains("  urgency: urgent — self_harm flagged; names a time: 'tonight' [65, 72) (urgency.time)\n"))
  }

  @Test(.enabled(if: hasEncoder))
  func explainShowsReviewForAWishToDieWithoutACue() throws {
    let run = try discern("explain", "--no-color", Self.wish)
    #expect(run.status == 0, "\(run.stderr)")
    try #require(try selfHarmLine(run.stdout).contains("FLAGGED"))
    #expect(run.stdout.contains("""
        urgency: review — self_harm flagged
          moderator: review in the ordinary queue today; offer the responses of the flagged labels

      """))
  }

  @Test(.enabled(if: hasEncoder))
  func explainJSONCarriesTheTierAndEachCueWithItsSpan() throws {
    let run = try discern("explain", "--json", "I can't do this anymore. I have everything ready and this is my last post")
    let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    let selfHarm = try #require((object["labels"] as? [String: Any])?["self_harm"] as? [String: Any])
    try #require(selfHarm["flagged"] as? Bool == true)
    let urgency = try #require(object["urgency"] as? [String: Any])
    #expect(urgency["tier"] as? String == "urgent")
    #expect(urgency["labels"] as? [String] == ["self_harm"])
    let cues = try #require(urgency["cues"] as? [[String: Any]])
    #expect(cues.map { "\($0["rule"]!) \($0["reason"]!) [\($0["start"]!), \($0["end"]!)) '\($0["text"]!)'" } == [
      "urgency.means has the means at hand [25, 48) 'I have everything ready'",
      "urgency.goodbye says goodbye [53, 73) 'this is my last post'",
    ])
  }

  /// The audit input of the tier tests: a time without intent, an urgent message, an unreadable
  /// line, a general wish, and a goodbye with the means at hand.
  func tierInput() throws -> (folder: String, input: String) {
    let folder = try rulesFolder([:])
    let input = folder + "/in.jsonl"
    try """
      {"id": "party", "text": "see you tonight at the party!"}
      {"id": "tonight", "text": "\(Self.tonight)"}
      not json
      {"id": "wish", "text": "\(Self.wish)"}
      {"id": "ready", "text": "I can't do this anymore. I have everything ready and this is my last post"}

      """.write(toFile: input, atomically: true, encoding: .utf8)
    return (folder, input)
  }

  /// (line, tier or "error") per output record, in the order written.
  func tiers(_ jsonl: String) throws -> [(line: Int, tier: String)] {
    try jsonl.split(separator: "\n").map { line in
      let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
      let tier = (object["urgency"] as? [String: Any])?["tier"] as? String ?? (object["error"] != nil ? "error" : "?")
      return (try #require(object["line"] as? Int), tier)
    }
  }

  static let tierRank = ["urgent": 0, "review": 1, "resources": 2, "none": 3, "error": 4]

  @Test(.enabled(if: hasEncoder))
  func auditRecordsCarryTheTierAndFilterOrSortByIt() throws {
    let (_, input) = try tierInput()
    let all = try discern("audit", input)
    #expect(all.status == 0, "\(all.stderr)")
    let written = try tiers(all.stdout)
    // The default: one output record per input record, in the input's order.
    #expect(written.map(\.line) == [1, 2, 3, 4, 5])
    #expect(written[1].tier == "urgent" && written[2].tier == "error" && written[4].tier == "urgent")
    #expect(written[0].tier == "none", "a time alone, nothing flagged")

    let sorted = try discern("audit", input, "--sort", "urgency")
    #expect(sorted.status == 0, "\(sorted.stderr)")
    let expected = written.sorted { (Self.tierRank[$0.tier]!, $0.line) < (Self.tierRank[$1.tier]!, $1.line) }
    #expect(try tiers(sorted.stdout).map(\.line) == expected.map(\.line))
    #expect(try tiers(sorted.stdout).prefix(2).map(\.line) == [2, 5])
    #expect(try tiers(sorted.stdout).last?.tier == "error")

    let urgent = try discern("audit", input, "--tier", "urgent")
    #expect(urgent.status == 0, "\(urgent.stderr)")
    #expect(try tiers(urgent.stdout).map(\.line) == [2, 3, 5], "the urgent records and the error record, in the input's order")
    #expect(urgent.stderr.hasSuffix("""
      audited 5 records: 4 decided, 1 errors
      wrote 3 records (--tier urgent and every error record): 2 decisions of other tiers left out

      """))
  }

  @Test(.enabled(if: hasEncoder))
  func auditCSVHasTheTierAndItsReasons() throws {
    let (folder, input) = try tierInput()
    let run = try discern("audit", input, "--out", folder + "/out.csv")
    #expect(run.status == 0, "\(run.stderr)")
    let rows = try String(contentsOfFile: folder + "/out.csv", encoding: .utf8).split(separator: "\n").map(String.init)
    #expect(rows[0].contains(",harmed_by_others_flagged,reference_to_harm_probability,reference_to_harm_flagged,urgency,urgency_reasons,top_contributions,"))
    #expect(rows[2].contains(",urgent,\"self_harm flagged; names a time: 'tonight' [33, 40) (urgency.time)\","))
  }

  @Test(.enabled(if: hasEncoder))
  func reportCountsTiersAndListsTheMostUrgentFirst() throws {
    let (folder, input) = try tierInput()
    let run = try discern("audit", input, "--report", folder + "/report", "--out", folder + "/out.jsonl")
    #expect(run.status == 0, "\(run.stderr)")
    let written = try tiers(try String(contentsOfFile: folder + "/out.jsonl", encoding: .utf8))
    let count = { (tier: String) in written.filter { $0.tier == tier }.count }
    let report = try String(contentsOfFile: folder + "/report/report.md", encoding: .utf8)
    #expect(report.contains("## Urgency tiers\n"))
    #expect(report.contains("| urgent | \(count("urgent")) | "))
    #expect(report.contains("| none | \(count("none")) | "))
    let list = try #require(report.components(separatedBy: "## Messages by urgency, most urgent first\n").last)
    let rows = list.split(separator: "\n").filter { $0.hasPrefix("| urgent") || $0.hasPrefix("| review") || $0.hasPrefix("| resources") }
    #expect(rows.first == "| urgent | 2 | tonight | self_harm flagged; names a time: 'tonight' [33, 40) (urgency.time) | \(Self.tonight) |")
    #expect(rows.map { Self.tierRank[String($0.dropFirst(2).prefix { $0 != " " })]! } == rows.map { Self.tierRank[String($0.dropFirst(2).prefix { $0 != " " })]! }.sorted())
    let html = try String(contentsOfFile: folder + "/report/report.html", encoding: .utf8)
    #expect(html.contains("<h2>Urgency tiers</h2>"))
  }

  @Test func resumeRefusesAFilterOrSort() throws {
    let run = try discern("audit", "in.jsonl", "--out", "out.jsonl", "--resume", "--tier", "urgent")
    #expect(run.status == 64)
    #expect(run.stderr.hasPrefix("Error: --resume continues after the records already written, in the input's order; leave out --tier and --sort.\n"))
  }

  /// A bad tier entry in policy.yaml is a diagnostic with file:line:col, the line, a caret and a hint.
  @Test(arguments: [
    (
      "  urgent:\n", "  urgnet:\n",
      "error: unknown tier 'urgnet'; did you mean 'urgent'? (one of: urgent, review, resources, none)\n  urgnet:\n  ^"
    ),
    (
      "        urgency.time: names a time\n", "        urgency.tme: names a time\n",
      "error: cue 'urgency.tme' of tier 'urgent' names no rule; did you mean 'urgency.time'?\n        urgency.tme: names a time\n        ^"
    ),
    (
      "      flagged: [self_harm]\n", "      flagged: [self_harn]\n",
      "error: unknown label 'self_harn' in 'flagged' of tier 'urgent'; did you mean 'self_harm'? (one of: self_harm, harming_others, harmed_by_others, reference_to_harm)\n      flagged: [self_harn]\n                ^"
    ),
    (
      "    moderator: no action\n", "    moderator: no action\n    when: {flagged: [self_harm]}\n",
      "error: tier 'none' takes no 'when': it is the tier of every decision no other tier takes\n    when: {flagged: [self_harm]}\n          ^"
    ),
  ])
  func aBadTierEntryIsADiagnosticWithItsPlace(_ change: (from: String, to: String, expected: String)) throws {
    let folder = try rulesFolder([:])
    let rules = try copyShippedRules(from: Self.root.path, into: folder)
    let policy = rules + "/policy.yaml"
    try edit(policy) { text in
      #expect(text.contains(change.from))
      return text.replacingOccurrences(of: change.from, with: change.to)
    }
    // The line the diagnostic quotes, found in the edited file; the caret's column.
    let quoted = change.expected.split(separator: "\n").map(String.init)
    let lines = try String(contentsOfFile: policy, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let number = try #require(lines.firstIndex(of: quoted[1])) + 1
    let input = folder + "/in.jsonl"
    try #"{"text": "hi"}"#.appending("\n").write(toFile: input, atomically: true, encoding: .utf8)
    let run = try discern("audit", "--rules-only", "--rules", rules, "--policy", policy, input)
    #expect(run.status == 1)
    #expect(run.stderr == "\(policy):\(number):\(quoted[2].count): \(change.expected)\n")
  }
}
