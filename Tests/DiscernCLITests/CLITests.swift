import Foundation
import Testing

/// End-to-end: the `discern` binary as a user runs it, asserting the exact text they see.
@Suite struct CLITests {
  static let hasEncoder = FileManager.default.fileExists(atPath: root.path + "/.models/all-MiniLM-L6-v2/model.safetensors")
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

  struct Run {
    let status: Int32
    let stdout: String
    let stderr: String
  }

  /// Runs the built `discern` (next to this test binary) in the repository root.
  func discern(_ arguments: String...) throws -> Run { try discern(arguments: arguments) }

  func discern(arguments: [String]) throws -> Run {
    let here = URL(fileURLWithPath: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
    var binary = here.deletingLastPathComponent().appendingPathComponent("discern")
    if !FileManager.default.fileExists(atPath: binary.path) {
      binary = Self.root.appendingPathComponent(".build/debug/discern")
    }
    return try Self.run(binary, arguments, in: Self.root)
  }

  /// Runs `binary` with `arguments` in `directory`, with `environment` (this process's when nil).
  static func run(_ binary: URL, _ arguments: [String], in directory: URL, environment: [String: String]? = nil) throws -> Run {
    let process = Process()
    process.executableURL = binary
    process.arguments = arguments
    process.currentDirectoryURL = directory
    if let environment { process.environment = environment }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return Run(
      status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
      stderr: String(decoding: stderr, as: UTF8.self))
  }

  /// A temporary rules folder holding `files`.
  func rulesFolder(_ files: [String: String]) throws -> String {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("discern-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    for (name, text) in files {
      try text.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }
    return folder.path
  }

  @Test func lintReportsEveryProblemAndExitsOne() throws {
    let folder = "Tests/Fixtures/three-problems"
    let run = try discern("lint", folder)
    #expect(run.status == 1)
    #expect(run.stdout == """
      \(folder)/h.yaml:5:5: error: unknown key 'patern' in rule 'h.kms'; did you mean 'pattern'?
          patern: '\\bkms\\b'
          ^
      \(folder)/h.yaml:9:31: error: invalid pattern: missing closing parenthesis
          pattern: '\\bmight as (well'
                                    ^
      \(folder)/h.yaml:13:18: error: unknown rule 'h.bda' in 'h.both'; did you mean 'h.bad'?
          all: [h.kms, h.bda]
                       ^
      1 pack, 3 rules (1 stable, 2 rejected): 3 errors, 0 warnings.

      """)
  }

  @Test func lintRefusesBillionLaughs() throws {
    let folder = "Tests/Fixtures/billion-laughs"
    let run = try discern("lint", folder)
    #expect(run.status == 1)
    #expect(run.stdout.hasPrefix(
      "\(folder)/lol.yaml:7:8: error: document expands to more than 100000 nodes through aliases; refusing it (billion laughs?)\n"))
  }

  @Test func lintPassesTheShippedRules() throws {
    let run = try discern("lint", "Rules")
    #expect(run.status == 0)
    #expect(run.stdout.hasSuffix(": 0 errors, 0 warnings.\n"))
  }

  @Test func testPrintsTheFailingExampleWithExpectedAndActualSpans() throws {
    let folder = try rulesFolder([
      "t.yaml": """
        pack: t
        rules:
          - id: t.die-of
            kind: terms
            terms: [die of]
            description: idiom
            examples:
              hit: ["I could ⟦die of embarrassment⟧"]
              miss: ["nothing here"]
        """
    ])
    let run = try discern("test", folder)
    #expect(run.status == 1)
    #expect(run.stdout == """
      \(folder)/t.yaml:8:13: error: 't.die-of' hit this example with a different span
            hit: ["I could ⟦die of embarrassment⟧"]
                  ^
        expected: I could ⟦die of embarrassment⟧
        actual:   I could ⟦die of⟧ embarrassment

      2 examples of 1 rule: 1 passed, 1 failed in 1 rule.

      """)
  }

  @Test func testPassesTheShippedRules() throws {
    let run = try discern("test", "Rules")
    #expect(run.status == 0)
    #expect(run.stdout.contains(" passed, 0 failed."))
  }

  @Test func scanWritesEvidenceAsJSONWithScalarOffsets() throws {
    let run = try discern("scan", "--json", "😅 this will be the death of me")
    #expect(run.status == 0)
    let record = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    let spans = try #require(record["spans"] as? [[String: Any]])
    let span = try #require(spans.first { $0["rule"] as? String == "hyperbole.death-of-me" })
    // 😅 is one scalar: "😅 this will " is 12.
    #expect(span["start"] as? Int == 12)
    #expect(span["end"] as? Int == 30)
    #expect(span["text"] as? String == "be the death of me")
    #expect(span["type"] as? String == "casual_mention")
  }

  @Test func scanWithoutInputSaysWhatToGive() throws {
    let run = try discern("scan")
    #expect(run.status == 64)
    #expect(run.stderr.hasPrefix("Error: Give a message to scan, or --file PATH.\n"))
  }

  @Test func rulesStatsTalliesHitsPrecisionAndOverlapAndSaysWhatItSkipped() throws {
    let run = try discern(
      "rules", "stats", "--rules", "Tests/Fixtures/stats/Rules", "--data", "Tests/Fixtures/stats/labeled.jsonl",
      "--split", "dev")
    #expect(run.status == 0)
    #expect(run.stdout == """
      labeled.jsonl, split dev, label self_harm: 5 rows, 2 positive, base rate 0.40 \
      (skipped: 1 with no 'self_harm' label, 1 weak, 1 unreadable, first at line 9)

      | pack (any stable rule with `marks`) | hits | coverage | precision |
      |---|---:|---:|---:|
      | t | 3 | 60.0% | 0.67 |

      | rule | status | hits | coverage | precision | fires most with |
      |---|---|---:|---:|---:|---|
      | t.lol | stable | 2 | 40.0% | 0.00 | t.want-to-die (50.0%) |
      | t.want-to-die | stable | 3 | 60.0% | 0.67 | t.lol (33.3%) |

      """)
  }

  @Test func embedNamesTheMissingEncoderFileAndHowToGetIt() throws {
    let folder = try rulesFolder(["config.json": "{}"])
    let run = try discern("embed", "--encoder", folder, "hello")
    #expect(run.status == 1)
    #expect(run.stdout.isEmpty)
    #expect(run.stderr == """
      error: no 'vocab.txt' in encoder folder '\(folder)'; a BERT-family encoder needs config.json, vocab.txt and \
      model.safetensors (run 'make model' for the default, or pass --encoder PATH)

      """)
  }

  @Test(.enabled(if: hasEncoder, "needs 'make model'"))
  func embedPrintsAUnitEmbeddingPerMessage() throws {
    let run = try discern("embed", "--precision", "fp32", "kms 😂", "")
    #expect(run.status == 0, "\(run.stderr)")
    let lines = run.stdout.split(separator: "\n")
    #expect(lines.count == 2)
    struct Record: Decodable { let text: String; let tokens: Int; let embedding: [Float] }
    let records = try lines.map { try JSONDecoder().decode(Record.self, from: Data($0.utf8)) }
    #expect(records.map(\.text) == ["kms 😂", ""])
    #expect(records.map(\.tokens) == [5, 2])  // [CLS] km ##s [UNK] [SEP]; [CLS] [SEP]
    for record in records {
      let norm = record.embedding.reduce(0) { $0 + $1 * $1 }.squareRoot()
      #expect(record.embedding.count == 384 && abs(norm - 1) < 1e-4)
    }
  }

  @Test(.enabled(if: hasEncoder, "needs 'make model'"))
  func evalWithoutAModelSaysHowToTrainOne() throws {
    let run = try discern("eval", "--model", "Models/none", "--corpus", "Tests/Fixtures")
    #expect(run.status == 1)
    #expect(run.stderr == "error: no model at 'Models/none/model.json'; train one with 'discern train --corpus DIR --out Models/NAME'\n")
  }

  /// Each fused ECE is printed beside the ECE a calibrated model would score on as many rows by
  /// chance; the text and `--json` carry the same figures.
  @Test(.enabled(if: hasEncoder, "needs 'make model'"))
  func evalPrintsEachECEBesideWhatChanceGives() throws {
    let texts = [
      ("I have written my goodbye letters", 1), ("what a lovely sunny day", 0), ("I think I'm going to hurt myself tonight", 1),
      ("this group project will be the death of me lol", 0), ("I don't want to be here anymore", 1), ("my phone is dead again", 0),
    ]
    let lines = (0..<24).map { i in
      let (text, label) = texts[i % texts.count]
      return #"{"id": "t\#(i)", "split": "test", "text": "\#(text) \#(i)", "labels": {"self_harm": \#(label)}}"#
    }
    let corpus = try rulesFolder(["tiny.jsonl": lines.joined(separator: "\n")])
    let text = try discern("eval", "--corpus", corpus, "--split", "test")
    #expect(text.status == 0, "\(text.stderr)")
    let json = try discern("eval", "--corpus", corpus, "--split", "test", "--json")
    let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: [String: [String: [String: Double]]]])
    let fused = try #require(object["tiny.jsonl"]?["self_harm"]?["fused"])
    let (ece, chance95, p) = (try #require(fused["ece"]), try #require(fused["ece_chance95"]), try #require(fused["ece_chance_p"]))
    #expect(chance95 > 0.1, "24 rows: a calibrated model's ECE spreads wide")
    let output = text.stdout.split(separator: "\n").map(String.init)
    let header = try #require(output.firstIndex(of: "file                           label               rows    ECE  chance median  chance 95%   p      verdict"))
    let row = output[header + 1]
    #expect(row.hasPrefix("tiny                           self_harm              24  " + String(format: "%5.3f", ece)))
    #expect(row.contains(String(format: "%10.3f  %5.3f  ", chance95, p)))
    #expect(row.hasSuffix(p < 0.05 ? "beyond chance" : "within chance"))
  }

  /// The text view lists the terms that move the logit at two decimals and folds the rest into one
  /// line with their sum, so bias + the lines shown still add up to the logit.
  @Test(.enabled(if: hasEncoder, "needs 'make model'"))
  func explainFoldsTermsTooSmallToPrint() throws {
    let message = "nobody would even notice if I was gone"
    let text = try discern("explain", "--no-color", message).stdout
    let json = try discern("explain", "--json", message).stdout
    let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    let selfHarm = try #require((object["labels"] as? [String: [String: Any]])?["self_harm"])
    let contributions = try #require(selfHarm["contributions"] as? [[String: Any]])
    let small = contributions.filter { abs($0["contribution"] as! Double) < 0.005 }
    try #require(!small.isEmpty, "the shipped model has shrunk rule terms on this message")
    let sum = small.reduce(0.0) { $0 + ($1["contribution"] as! Double) }
    let names = small.map { $0["feature"] as! String }.joined(separator: ", ")
    let plural = small.count == 1 ? "" : "s"
    #expect(text.contains("    \(small.count) term\(plural) under 0.005, together \(String(format: "%+.3f", sum)): \(names)\n"))
    #expect(!text.contains("+0.00\n") && !text.contains("-0.00\n"))
  }

  @Test(.enabled(if: hasEncoder, "needs 'make model'"))
  func explainJSONCarriesTheDocumentedFieldsAndExactContributions() throws {
    let run = try discern("explain", "--json", "Lost all my progress. Might as well just throw myself off a cliff 😂")
    #expect(run.status == 0, "\(run.stderr)")
    let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    #expect(Set(object.keys) == ["text", "labels", "spans", "emoji", "rationale", "urgency", "scope"])
    let labels = try #require(object["labels"] as? [String: [String: Any]])
    let selfHarm = try #require(labels["self_harm"])
    #expect(Set(selfHarm.keys) == ["probability", "flagged", "threshold", "logit", "bias", "contributions", "actions"])
    let contributions = try #require(selfHarm["contributions"] as? [[String: Any]])
    let sum = contributions.reduce(selfHarm["bias"] as! Double) { $0 + ($1["contribution"] as! Double) }
    #expect(abs(sum - (selfHarm["logit"] as! Double)) < 1e-5)
    let spans = try #require(object["spans"] as? [[String: Any]])
    #expect(spans.contains { $0["type"] as? String == "casual_mention" && $0["start"] as? Int == 22 && $0["end"] as? Int == 57 })
    let emoji = try #require(object["emoji"] as? [[String: Any]])
    #expect(emoji.first?["emoji"] as? String == "😂" && emoji.first?["casual_mention"] as? String == "high")
  }

  /// Issue 7's file: valid rows, broken JSON, a 10 MB message, invalid UTF-8 and a missing text —
  /// exactly one output record per input line, in order, with the right errors.
  @Test(.enabled(if: hasEncoder, "needs 'make model'"))
  func auditWritesOneRecordPerLineInOrderWithErrors() throws {
    var bytes = Data()
    func line(_ text: String) { bytes.append(Data((text + "\n").utf8)) }
    line(#"{"id": "a", "text": "this group project will be the death of me", "queue": "q1"}"#)
    line(#"{"id": "b", "text": "unterminated"#)
    line(#"{"id": "c", "text": ""# + String(repeating: "x", count: 10 * 1024 * 1024) + #""}"#)
    bytes.append(Data(#"{"id": "d", "text": "bad "#.utf8) + Data([0xFF, 0xFE]) + Data(#" bytes"}"#.utf8) + Data("\n".utf8))
    line(#"{"id": "e", "body": "no text here"}"#)
    line(#"{"id": "f", "text": "I think I'm going to hurt myself tonight"}"#)
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("audit-\(UUID().uuidString).jsonl").path
    try bytes.write(to: URL(fileURLWithPath: path))
    let run = try discern("audit", path)
    #expect(run.status == 0, "\(run.stderr)")
    #expect(run.stderr.hasSuffix("audited 6 records: 2 decided, 4 errors\n"))
    let records = try run.stdout.split(separator: "\n").map { try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
    #expect(records.map { $0["line"] as? Int } == [1, 2, 3, 4, 5, 6])
    #expect(records.map { $0["error"] as? String } == [
      nil, "not valid JSON at byte 33: unterminated string", "record of 10485783 bytes is over the size limit (100000 bytes of text)",
      "invalid UTF-8 at byte 25 of the line", "no 'text' field", nil,
    ])
    #expect(records.map { $0["id"] as? String } == ["a", nil, nil, nil, "e", "f"])
    #expect((records[0]["metadata"] as? [String: String]) == ["queue": "q1"])
    let selfHarm = { (record: [String: Any]) in ((record["labels"] as? [String: [String: Any]])?["self_harm"]?["flagged"] as? Bool) }
    #expect(selfHarm(records[0]) == false && selfHarm(records[5]) == true)
    // The audit trail names the encoder that read each message beside the rules and model hashes.
    let prints = try #require(records[0]["fingerprints"] as? [String: String])
    #expect(Set(prints.keys) == ["input", "encoder", "model", "rules"])
    #expect(prints["encoder"]?.hasPrefix("fnv1a64:") == true)
  }

  /// An audit cut off mid-record resumes from its output: no record redone, none duplicated.
  @Test(.enabled(if: hasEncoder, "needs 'make model'"))
  func anInterruptedAuditResumesWithoutRedoingOrDuplicating() throws {
    let folder = try rulesFolder([:])
    let input = folder + "/in.jsonl", whole = folder + "/whole.jsonl", cut = folder + "/cut.jsonl"
    let texts = ["kms 😂", "I think I'm going to hurt myself tonight", "not json", "2 years clean today", "this keyboard is useless"]
    try texts.enumerated().map { $1 == "not json" ? $1 : #"{"id": "\#($0)", "text": "\#($1)"}"# }.joined(separator: "\n")
      .write(toFile: input, atomically: true, encoding: .utf8)
    #expect(try discern("audit", input, "--out", whole, "--batch", "2").status == 0)
    let complete = try Data(contentsOf: URL(fileURLWithPath: whole))
    let lines = complete.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
    // Two whole records and half of the third, as a killed run leaves them.
    try (Data(lines[0]) + Data("\n".utf8) + Data(lines[1]) + Data("\n".utf8) + Data(lines[2].prefix(10))).write(to: URL(fileURLWithPath: cut))
    let resumed = try discern("audit", input, "--out", cut, "--resume", "--batch", "2")
    #expect(resumed.status == 0, "\(resumed.stderr)")
    #expect(resumed.stderr.contains("resumed after 2 records already in '\(cut)'"))
    #expect(resumed.stderr.hasSuffix("audited 3 records: 2 decided, 1 errors\n"))
    #expect(try Data(contentsOf: URL(fileURLWithPath: cut)) == complete)
  }

  /// Resuming checks the saved records against the input's own records: CSV records are numbered by
  /// the line they start on (the header is line 1), and records from another input are refused. JSONL
  /// and CSV output both resume.
  @Test func aCSVAuditResumesAndAnotherInputIsRefused() throws {
    let folder = try rulesFolder([:])
    let input = folder + "/queue.csv", whole = folder + "/whole.jsonl", cut = folder + "/cut.jsonl"
    try "id,text\na,hello there\nb,\"kms lol,\nhonestly\"\nc,2 years clean today\n".write(toFile: input, atomically: true, encoding: .utf8)
    #expect(try discern("audit", input, "--rules-only", "--out", whole).status == 0)
    let complete = try Data(contentsOf: URL(fileURLWithPath: whole))
    let lines = complete.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
    try (Data(lines[0]) + Data("\n".utf8) + Data(lines[1].prefix(20))).write(to: URL(fileURLWithPath: cut))
    let resumed = try discern("audit", input, "--rules-only", "--out", cut, "--resume")
    #expect(resumed.status == 0, "\(resumed.stderr)")
    #expect(resumed.stderr.hasSuffix("resumed after 1 records already in '\(cut)'\naudited 2 records: 2 decided, 0 errors\n"))
    #expect(try Data(contentsOf: URL(fileURLWithPath: cut)) == complete)
    // CSV out resumes the same way: the header is kept, a row cut inside a quoted cell is dropped.
    let wholeCSV = folder + "/whole.csv", cutCSV = folder + "/cut.csv"
    #expect(try discern("audit", input, "--rules-only", "--out", wholeCSV).status == 0)
    let csv = try Data(contentsOf: URL(fileURLWithPath: wholeCSV))
    let secondRow = try #require(csv.firstRange(of: Data("\n3,".utf8))).lowerBound
    try csv.prefix(secondRow + 30).write(to: URL(fileURLWithPath: cutCSV))
    let resumedCSV = try discern("audit", input, "--rules-only", "--out", cutCSV, "--resume")
    #expect(resumedCSV.stderr.hasSuffix("resumed after 1 records already in '\(cutCSV)'\naudited 2 records: 2 decided, 0 errors\n"), "\(resumedCSV.stderr)")
    #expect(try Data(contentsOf: URL(fileURLWithPath: cutCSV)) == csv)
    let other = folder + "/other.csv"
    try "id,text\nz,first line\n\nlater\n".write(toFile: other, atomically: true, encoding: .utf8)
    let refused = try discern("audit", other, "--rules-only", "--out", cut, "--resume")
    #expect(refused.status != 0)
    #expect(refused.stderr.hasPrefix(
      "Error: '\(cut)' record 3 is the record of input line 5, but the input's record 3 starts at line 4; was it written from another input? Cannot resume from it.\n"))
  }

  /// CSV in, CSV out: a quoted field spanning lines is one record (numbered by its first line), a row
  /// with the wrong number of fields is an error row, and the other columns pass through.
  @Test(.enabled(if: hasEncoder, "needs 'make model'"))
  func auditReadsAndWritesCSV() throws {
    let folder = try rulesFolder([:])
    let input = folder + "/queue.csv", output = folder + "/out.csv"
    try """
      id,text,queue
      a,"this group project will be the death of me, honestly",q1
      b,"I think I'm going to hurt myself tonight
      and nobody would notice",q2
      c,too,many,fields
      d,just a normal day,q1

      """.write(toFile: input, atomically: true, encoding: .utf8)
    let run = try discern("audit", input, "--out", output)
    #expect(run.status == 0, "\(run.stderr)")
    #expect(run.stderr.hasSuffix("audited 4 records: 3 decided, 1 errors\n"))
    let rows = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n").map(String.init)
    #expect(rows[0] == "line,id,error,self_harm_probability,self_harm_flagged,harming_others_probability,harming_others_flagged,harmed_by_others_probability,harmed_by_others_flagged,reference_to_harm_probability,reference_to_harm_flagged,urgency,urgency_reasons,top_contributions,spans,rationale,scope,language,scope_action,metadata")
    #expect(rows.count == 5)
    #expect(rows[1].hasPrefix("2,a,,"))
    #expect(rows[2].hasPrefix("3,b,,") && rows[2].contains(",1,"))
    #expect(rows[3].hasPrefix("5,,4 CSV fields where the header has 3,"))
    #expect(rows[4].hasPrefix("6,d,,") && rows[4].hasSuffix(#","{""queue"":""q1""}""#))
  }

  /// The report: counts, accuracy against the input's labels, rule hit frequencies and the shadow
  /// rules' section, in Markdown and in a self-contained HTML page with inline SVG charts.
  @Test(.enabled(if: hasEncoder, "needs 'make model'"))
  func auditWritesAReportWithAccuracyRuleHitsAndShadowRules() throws {
    let folder = try rulesFolder([:])
    let input = folder + "/labelled.jsonl"
    let rows = [
      ("I think I'm going to hurt myself tonight", 1), ("this group project will be the death of me lol 😂", 0),
      ("I have written my goodbye letters", 1), ("what a lovely sunny day", 0), ("my phone is dead 💀💀", 0),
    ]
    try rows.enumerated().map { #"{"id": "r\#($0)", "text": "\#($1.0)", "labels": {"self_harm": \#($1.1)}}"# }
      .joined(separator: "\n").write(toFile: input, atomically: true, encoding: .utf8)
    let run = try discern("audit", input, "--out", folder + "/out.jsonl", "--report", folder + "/report")
    #expect(run.status == 0, "\(run.stderr)")
    let markdown = try String(contentsOfFile: folder + "/report/report.md", encoding: .utf8)
    #expect(markdown.contains("| 5 | 5 | 0 | rules + encoder (fused) |"))
    #expect(markdown.contains("## Accuracy against the input's labels"))
    #expect(markdown.contains("| self_harm | 5 | 2 |"))
    // Five rows: a calibrated model's ECE by chance is large, and the report says so beside the ECE.
    #expect(markdown.contains("| AUROC | ECE | ECE by chance (95%) | TP |"))
    #expect(markdown.contains("an ECE below it is no evidence of miscalibration"))
    #expect(markdown.contains("| serious-intent.goodbye-note | stable | 1 | 20.0% | 1.00 (1) |"))
    #expect(markdown.contains("## Shadow rules"))
    #expect(markdown.contains("| hyperbole.dead-emoji |"))
    let html = try String(contentsOfFile: folder + "/report/report.html", encoding: .utf8)
    #expect(html.contains("<svg") && html.contains("reliability") && !html.contains("<script"))
  }

  /// Rules-only audits never run the encoder: no record has an encoder term.
  @Test(.enabled(if: hasEncoder, "needs 'make model'"))
  func aRulesOnlyAuditHasNoEncoderTerms() throws {
    let folder = try rulesFolder([:])
    let input = folder + "/in.jsonl"
    try #"{"id": "1", "text": "I think I'm going to hurt myself tonight"}"#.write(toFile: input, atomically: true, encoding: .utf8)
    let run = try discern("audit", input, "--rules-only")
    #expect(run.status == 0, "\(run.stderr)")
    let record = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    let labels = try #require(record["labels"] as? [String: [String: Any]])
    let features = labels.values.flatMap { ($0["contributions"] as? [[String: Any]] ?? []).compactMap { $0["feature"] as? String } }
    #expect(!features.isEmpty && !features.contains("encoder"))
  }

  /// Writing to /dev/null opens it in place; it stays a device.
  @Test(.enabled(if: hasEncoder, "needs 'make model'"))
  func anAuditToDevNullLeavesTheDevice() throws {
    let folder = try rulesFolder([:])
    try #"{"text": "hello"}"#.write(toFile: folder + "/in.jsonl", atomically: true, encoding: .utf8)
    #expect(try discern("audit", folder + "/in.jsonl", "--out", "/dev/null").status == 0)
    let type = try FileManager.default.attributesOfItem(atPath: "/dev/null")[.type] as? FileAttributeType
    #expect(type == .typeCharacterSpecial)
  }

  /// A copy of the shipped rules with one warning-sign rule unpinned (weight 2 → 0): the folder holding it.
  func rulesWithTheGoodbyeNoteUnpinned() throws -> String {
    let work = try rulesFolder([:])
    let pin = "  - id: serious-intent.goodbye-note\n    kind: pattern\n    marks: serious_intent\n    weight: {self_harm: 2.0}"
    try edit(try copyShippedRules(from: Self.root.path, into: work) + "/serious-intent.yaml") { original in
      #expect(original.contains(pin))
      return original.replacingOccurrences(of: pin, with: pin.replacingOccurrences(of: "2.0", with: "0.0"))
    }
    return work
  }

  /// The rules-only triage pass is calibrated on the rows read against the label guide: calibrated on
  /// the hate/offensive tweets (two-thirds positive), it gave every message without a rule hit
  /// harming_others p 0.61 and flagged it.
  @Test func aRulesOnlyAuditDoesNotFlagMessagesNoRuleReads() throws {
    let work = try rulesFolder([:])
    try """
      {"id": "dog", "text": "I love my dog"}
      {"id": "day", "text": "what a nice day"}
      """.write(toFile: work + "/in.jsonl", atomically: true, encoding: .utf8)
    let run = try discern("audit", work + "/in.jsonl", "--rules-only", "--out", work + "/out.jsonl")
    #expect(run.status == 0, "\(run.stderr)")
    let records = try String(contentsOfFile: work + "/out.jsonl", encoding: .utf8).split(separator: "\n").map {
      try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
    }
    #expect(records.count == 2)
    for record in records {
      let labels = try #require(record["labels"] as? [String: [String: Any]])
      let flagged = labels.filter { $0.value["flagged"] as? Bool == true }.keys.sorted()
      #expect(flagged.isEmpty, "\(record["id"] ?? "") flagged \(flagged): \(labels.mapValues { $0["probability"] ?? "" })")
    }
  }

  /// An impact diff: unpinning one warning-sign rule (weight 2 → 0) flips a message it fires on, and
  /// the report names that rule with the probabilities before and after.
  @Test(.enabled(if: hasEncoder, "needs 'make model'"))
  func anImpactDiffListsTheFlipsByTheRuleResponsible() throws {
    let work = try rulesWithTheGoodbyeNoteUnpinned()
    try """
      {"id": "n1", "text": "wrote goodbye letters to my friends"}
      {"id": "n2", "text": "this group project will be the death of me"}
      """.write(toFile: work + "/in.jsonl", atomically: true, encoding: .utf8)
    let run = try discern("audit", work + "/in.jsonl", "--rules", work + "/Rules", "--baseline-rules", "Rules", "--out", work + "/out.jsonl", "--report", work + "/report")
    #expect(run.status == 0, "\(run.stderr)")
    #expect(run.stderr.contains("impact: 1 decisions flip over 2 messages (0 newly flagged, 1 no longer flagged)"))
    let impact = try String(contentsOfFile: work + "/report/impact.md", encoding: .utf8)
    #expect(impact.contains("## serious-intent.goodbye-note — 1 flip"))
    #expect(impact.contains("| 1 | n1 | self_harm | 0.57 | 0.17 | – | serious-intent.goodbye-note -2.00 | wrote goodbye letters to my friends |"))
  }

  /// With labels in the input, each flip is a fix or a regression, counted; the HTML report carries
  /// the impact diff too.
  @Test(.enabled(if: hasEncoder, "needs 'make model'"))
  func anImpactDiffOnLabelledInputCountsFixesAndRegressions() throws {
    let work = try rulesWithTheGoodbyeNoteUnpinned()
    try """
      {"id": "n1", "text": "wrote goodbye letters to my friends", "labels": {"self_harm": 1}}
      {"id": "n2", "text": "this group project will be the death of me", "labels": {"self_harm": 0}}
      """.write(toFile: work + "/in.jsonl", atomically: true, encoding: .utf8)
    let run = try discern("audit", work + "/in.jsonl", "--rules", work + "/Rules", "--baseline-rules", "Rules", "--out", work + "/out.jsonl", "--report", work + "/report")
    #expect(run.status == 0, "\(run.stderr)")
    #expect(run.stderr.contains("impact: 1 decisions flip over 2 messages (0 newly flagged, 1 no longer flagged; against the input's labels 0 fixes, 1 regressions)"))
    let impact = try String(contentsOfFile: work + "/report/impact.md", encoding: .utf8)
    #expect(impact.contains("| 1 | n1 | self_harm | 0.57 | 0.17 | regression | serious-intent.goodbye-note -2.00 | wrote goodbye letters to my friends |"))
    let html = try String(contentsOfFile: work + "/report/report.html", encoding: .utf8)
    #expect(html.contains("<h2>Impact of the change against rules Rules</h2>"))
    #expect(html.contains("<td>regression</td>"))
  }
}
