import Foundation
import Testing

/// Hostile and unlucky inputs to `discern audit` (and a full disk under `discern explain`), through
/// the built binary as a user meets them: the exact error, the exit status, and what is left on disk.
/// Every audit here is rules-only, so none needs the encoder's weights.
@Suite struct AuditSafetyTests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

  static var binary: URL {
    let here = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? "/")
    let next = here.deletingLastPathComponent().appendingPathComponent("discern")
    return FileManager.default.fileExists(atPath: next.path) ? next : root.appendingPathComponent(".build/debug/discern")
  }

  struct Run {
    let status: Int32
    let stdout: String
    let stderr: String
  }

  /// A running `discern` whose standard input the test writes; its output goes to files, so a
  /// child that writes much never blocks on a test that is still writing.
  final class Child {
    let process = Process()
    let input = Pipe()
    let folder: String

    init(_ arguments: [String], stdin: FileHandle? = nil, stdout: FileHandle? = nil) throws {
      folder = try AuditSafetyTests.temporaryFolder()
      FileManager.default.createFile(atPath: folder + "/stdout", contents: nil)
      FileManager.default.createFile(atPath: folder + "/stderr", contents: nil)
      process.executableURL = AuditSafetyTests.binary
      process.arguments = arguments
      process.currentDirectoryURL = AuditSafetyTests.root
      process.standardInput = stdin ?? input
      process.standardOutput = stdout ?? FileHandle(forWritingAtPath: folder + "/stdout")
      process.standardError = FileHandle(forWritingAtPath: folder + "/stderr")
      try process.run()
    }

    /// Writes to the child's standard input; a child that has exited (a failure the test then
    /// reports) must not take the test runner down with SIGPIPE.
    func write(_ data: Data) {
      signal(SIGPIPE, SIG_IGN)
      try? input.fileHandleForWriting.write(contentsOf: data)
    }

    /// The most memory the child has held so far (Linux's VmHWM), in bytes.
    func peakMemory() throws -> Int {
      let status = try String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)
      let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") })
      return try #require(Int(line.split(separator: " ", omittingEmptySubsequences: true)[1])) * 1024
    }

    func finish() throws -> Run {
      try? input.fileHandleForWriting.close()
      process.waitUntilExit()
      return Run(
        status: process.terminationStatus, stdout: try String(contentsOfFile: folder + "/stdout", encoding: .utf8),
        stderr: try String(contentsOfFile: folder + "/stderr", encoding: .utf8))
    }
  }

  func discern(_ arguments: String..., stdin: Data = Data()) throws -> Run {
    let child = try Child(arguments)
    child.write(stdin)
    return try child.finish()
  }

  static func temporaryFolder() throws -> String {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("discern-audit-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    return folder
  }

  func file(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

  func jsonLines(_ path: String) throws -> [[String: Any]] {
    try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
      try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
    }
  }

  /// The fingerprint a record carries of its input line: FNV-1a over the line's bytes.
  func fingerprint(_ text: String) -> String {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
    return "fnv1a64:" + String(hash, radix: 16)
  }

  static let lines = [
    #"{"id": "a", "text": "this group project will be the death of me"}"#, #"{"id": "b", "text": "kms lol"}"#,
    #"{"id": "c", "text": "2 years clean today"}"#,
  ]

  func input(_ lines: [String] = Self.lines, in folder: String, named name: String = "in.jsonl") throws -> String {
    let path = folder + "/" + name
    try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  // MARK: - --out the same file as the input

  @Test func anAuditRefusesToWriteOverItsOwnInput() throws {
    let folder = try Self.temporaryFolder()
    let path = try input(in: folder)
    let before = try file(path)
    let same = try discern("audit", path, "--rules-only", "--out", path)
    #expect(same.status == 1)
    #expect(same.stderr == """
      Error: --out '\(path)' is the same file as the input '\(path)'; writing the records there would erase the input before it is read. \
      Give --out another file.

      """)
    #expect(try file(path) == before)
    // Through a link, and as standard input, it is still the same file.
    try FileManager.default.createSymbolicLink(atPath: folder + "/link.jsonl", withDestinationPath: path)
    let linked = try discern("audit", path, "--rules-only", "--out", folder + "/link.jsonl")
    #expect(linked.status == 1)
    #expect(linked.stderr.hasPrefix("Error: --out '\(folder)/link.jsonl' is the same file as the input '\(path)';"))
    let piped = try Child(["audit", "-", "--rules-only", "--out", path], stdin: FileHandle(forReadingAtPath: path)).finish()
    #expect(piped.status == 1)
    #expect(piped.stderr.hasPrefix("Error: --out '\(path)' is the same file as the input on standard input;"))
    #expect(try file(path) == before)
  }

  // MARK: - Resume

  /// An audit of `Self.lines` cut after two records and half of the third, as a killed run leaves it;
  /// and the whole output it should have become.
  func interruptedAudit(in folder: String) throws -> (input: String, cut: String, whole: Data) {
    let path = try input(in: folder)
    let whole = folder + "/whole.jsonl", cut = folder + "/cut.jsonl"
    #expect(try discern("audit", path, "--rules-only", "--out", whole).status == 0)
    let complete = try file(whole)
    let records = complete.split(separator: UInt8(ascii: "\n"))
    try (Data(records[0]) + Data("\n".utf8) + Data(records[1]) + Data("\n".utf8) + Data(records[2].prefix(40))).write(to: URL(fileURLWithPath: cut))
    return (path, cut, complete)
  }

  @Test func aRefusedResumeLeavesTheOutputByteForByte() throws {
    let folder = try Self.temporaryFolder()
    let (path, cut, whole) = try interruptedAudit(in: folder)
    let before = try file(cut)
    let shorter = try input([Self.lines[0]], in: folder, named: "shorter.jsonl")
    let refused = try discern("audit", shorter, "--rules-only", "--out", cut, "--resume")
    #expect(refused.status == 1)
    #expect(refused.stderr == "Error: '\(cut)' holds 2 records but the input has only 1; was it written from another input? Cannot resume from it.\n")
    #expect(try file(cut) == before)
    // Accepted, the half-written record is cut and the audit completes as if never interrupted.
    let resumed = try discern("audit", path, "--rules-only", "--out", cut, "--resume")
    #expect(resumed.status == 0, "\(resumed.stderr)")
    #expect(resumed.stderr.hasSuffix("resumed after 2 records already in '\(cut)'\naudited 1 records: 1 decided, 0 errors\n"))
    #expect(try file(cut) == whole)
  }

  @Test func resumeRefusesAnotherInputOfTheSameLengthNamingTheLine() throws {
    let folder = try Self.temporaryFolder()
    let (_, cut, _) = try interruptedAudit(in: folder)
    let before = try file(cut)
    let other = [Self.lines[0], #"{"id": "b", "text": "kms lol!"}"#, Self.lines[2]]
    let edited = try input(other, in: folder, named: "edited.jsonl")
    let refused = try discern("audit", edited, "--rules-only", "--out", cut, "--resume")
    #expect(refused.status == 1)
    #expect(refused.stderr == """
      Error: '\(cut)' record 2 is not the record of this input's line 2: it was audited from other text (input fingerprint \
      \(fingerprint(Self.lines[1])), the line's is \(fingerprint(other[1]))); was it written from another input, or was the input edited? \
      Cannot resume from it; audit into a new --out, or resume with the input, rules and model it was started with.

      """)
    #expect(try file(cut) == before)
  }

  @Test func resumeRefusesOtherRules() throws {
    let folder = try Self.temporaryFolder()
    let (path, cut, _) = try interruptedAudit(in: folder)
    try copyShippedRules(from: Self.root.path, into: folder)
    try edit(folder + "/Rules/tense.yaml") { $0 + "# edited since the audit began\n" }
    let saved = try #require(try jsonLines(folder + "/whole.jsonl").first?["fingerprints"] as? [String: String])
    #expect(try discern("audit", path, "--rules-only", "--rules", folder + "/Rules", "--out", folder + "/edited.jsonl").status == 0)
    let edited = try #require(try jsonLines(folder + "/edited.jsonl").first?["fingerprints"] as? [String: String])
    #expect(edited["rules"] != saved["rules"] && edited["model"] == saved["model"])
    let before = try file(cut)
    let refused = try discern("audit", path, "--rules-only", "--rules", folder + "/Rules", "--out", cut, "--resume")
    #expect(refused.status == 1)
    #expect(refused.stderr.hasSuffix("""
      Error: '\(cut)' record 1 was decided with other rules or policy (\(saved["rules"]!)) than this audit's (\(edited["rules"]!)). \
      Cannot resume from it; audit into a new --out, or resume with the input, rules and model it was started with.

      """))
    #expect(try file(cut) == before)
  }

  /// A rule pack names its lexicon by a path outside the rules folder; a row edited there changes
  /// decisions as a rule edit does, so the rules fingerprint covers it.
  @Test func resumeRefusesAnEditedLexicon() throws {
    let folder = try Self.temporaryFolder()
    let (path, cut, _) = try interruptedAudit(in: folder)
    try copyShippedRules(from: Self.root.path, into: folder)
    try edit(folder + "/Lexicons/cesm.yaml") { text in
      text.replacingCharacters(in: try #require(text.range(of: "serious_intent: high")), with: "serious_intent: low")
    }
    let refused = try discern("audit", path, "--rules-only", "--rules", folder + "/Rules", "--out", cut, "--resume")
    #expect(refused.status == 1)
    #expect(refused.stderr.contains("was decided with other rules or policy"))
  }

  /// CSV rows have no fingerprint column: the id and the other cells they repeat are checked.
  @Test func aCSVResumeRefusesRowsWithAnotherInputsIds() throws {
    let folder = try Self.temporaryFolder()
    let path = folder + "/queue.csv", out = folder + "/out.csv"
    try "id,text,queue\na,hello there,q1\nb,kms lol,q2\n".write(toFile: path, atomically: true, encoding: .utf8)
    #expect(try discern("audit", path, "--rules-only", "--out", out).status == 0)
    let other = folder + "/other.csv"
    try "id,text,queue\na,hello there,q1\nz,kms lol,q2\n".write(toFile: other, atomically: true, encoding: .utf8)
    let before = try file(out)
    let refused = try discern("audit", other, "--rules-only", "--out", out, "--resume")
    #expect(refused.status == 1)
    #expect(refused.stderr == """
      Error: '\(out)' row 2 is not the row of this input's line 3: it holds id 'b', the line has id 'z'; was it written from another \
      input, or was the input edited? Cannot resume from it; audit into a new --out, or resume with the input, rules and model it was started with.

      """)
    #expect(try file(out) == before)
  }

  /// The output an interrupted run left is read as a stream: a 64 MB half-written last record is
  /// counted past, not loaded, before the resume goes on.
  @Test func resumeReadsTheOutputAsAStream() throws {
    let folder = try Self.temporaryFolder()
    let (_, cut, _) = try interruptedAudit(in: folder)
    let records = try file(cut).split(separator: UInt8(ascii: "\n"))
    try (Data(records[0]) + Data("\n".utf8) + Data(repeating: UInt8(ascii: "x"), count: 64 << 20)).write(to: URL(fileURLWithPath: cut))
    let child = try Child(["audit", "-", "--rules-only", "--max-bytes", "1000", "--batch", "1", "--out", cut, "--resume"])
    child.write(Data((Self.lines[0] + "\n").utf8))
    // Once the resume is accepted the half-written record is cut; the audit then waits for line 2.
    let deadline = Date().addingTimeInterval(60)
    while (try? FileManager.default.attributesOfItem(atPath: cut)[.size] as? Int) ?? 0 > records[0].count + 1, Date() < deadline {
      Thread.sleep(forTimeInterval: 0.05)
    }
    let peak = try child.peakMemory()
    child.write(Data((Self.lines[1] + "\n" + Self.lines[2] + "\n").utf8))
    let run = try child.finish()
    #expect(run.status == 0, "\(run.stderr)")
    #expect(run.stderr.hasSuffix("resumed after 1 records already in '\(cut)'\naudited 2 records: 2 decided, 0 errors\n"))
    #expect(try jsonLines(cut).map { $0["line"] as? Int } == [1, 2, 3])
    #expect(peak < 60 << 20, "peak memory \(peak >> 20) MB")
  }

  // MARK: - Two audits, one output

  @Test func aSecondAuditOnTheSameOutputFailsAtOnce() throws {
    let folder = try Self.temporaryFolder()
    let out = folder + "/out.jsonl"
    let first = try Child(["audit", "-", "--rules-only", "--batch", "1", "--out", out])
    first.write(Data((Self.lines[0] + "\n").utf8))
    // Its first record written, the first audit holds the file and waits for more input.
    let deadline = Date().addingTimeInterval(60)
    while !((try? file(out))?.contains(UInt8(ascii: "\n")) ?? false), Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
    let second = try discern("audit", try input(in: folder), "--rules-only", "--out", out)
    #expect(second.status == 1)
    #expect(second.stderr == "Error: another audit is writing '\(out)' (it holds the file's lock); wait for it to finish, or give --out another file.\n")
    first.write(Data((Self.lines[1] + "\n").utf8))
    let run = try first.finish()
    #expect(run.status == 0, "\(run.stderr)")
    #expect(try jsonLines(out).map { $0["id"] as? String } == ["a", "b"])
  }

  // MARK: - CSV input

  /// A '"' opening a field that never closes costs its own row and no other: the rows after it are
  /// read again, each one record, whether the quote runs past 1000 lines, closes with text after
  /// it, or runs to the end of the input.
  @Test func aStrayQuoteInCSVCostsOneRow() throws {
    let folder = try Self.temporaryFolder()
    let path = folder + "/queue.csv", out = folder + "/out.jsonl"
    var rows = ["id,text", "r2,hello there", #"r3,"a stray quote starts this"#]
    rows += (4...1503).map { "r\($0),row \($0) is a normal row" }
    rows += [#"r1504,"open again"#, #"r1505,a 5" screen"#, "r1506,fine", #"r1507,"never closed"#]
    try (rows.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    let run = try discern("audit", path, "--rules-only", "--out", out)
    #expect(run.status == 0, "\(run.stderr)")
    #expect(run.stderr.hasSuffix("audited 1506 records: 1503 decided, 3 errors\n"))
    let records = try jsonLines(out)
    // One record per row, in order (compared as a whole, a failure would print 1,506 numbers).
    let numbers = records.compactMap { $0["line"] as? Int }
    #expect(numbers.count == 1506 && numbers.first == 2 && zip(numbers, numbers.dropFirst()).allSatisfy { $1 == $0 + 1 })
    let errors = records.filter { $0["error"] != nil }
    let fix = #"the lines after it are read as records of their own (a '"' inside a field is written '""', in a quoted field)"#
    #expect(errors.map { $0["line"] as? Int } == [3, 1504, 1507])
    #expect(errors.map { $0["error"] as? String } == [
      "unclosed quote: the quoted field that starts on this line does not close within 1000 lines (604096 bytes); \(fix)",
      "unclosed quote: the quoted field that starts on this line closes on line 1505 with more text after its closing quote; \(fix)",
      "unclosed quote: the quoted field that starts on this line does not close before the end of the input; \(fix)",
    ])
    // A quote inside a field (not at its start) is text, as it always was.
    #expect(records.first { $0["line"] as? Int == 1505 }?["text"] as? String == #"a 5" screen"#)
  }

  // MARK: - Byte order marks and over-long lines

  /// Found by the CSV fuzz target: fields were split by Character, and a quote or comma followed by
  /// a combining mark (struck-through text) or a zero-width joiner was one grapheme that was neither.
  @Test func aCSVFieldThatStartsWithACombiningMarkKeepsItsQuotesAndCommas() throws {
    let csv = "id,text\n1,\"\u{0336}n\u{0336}o\u{0336}t ok, fine\"\n2,\u{0336}a,b\n"
    let run = try discern("audit", "-", "--csv", "--rules-only", stdin: Data(csv.utf8))
    #expect(run.status == 0, "\(run.stderr)")
    let rows = run.stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    #expect(rows.count == 2)
    #expect(rows.first?["text"] as? String == "\u{0336}n\u{0336}o\u{0336}t ok, fine")
    #expect(rows.last?["error"] as? String == "3 CSV fields where the header has 2")
  }

  @Test func aByteOrderMarkStartsNoRecord() throws {
    let jsonl = try discern("audit", "-", "--rules-only", stdin: Data([0xEF, 0xBB, 0xBF]) + Data((Self.lines[1] + "\n").utf8))
    #expect(jsonl.status == 0, "\(jsonl.stderr)")
    let record = try #require(try JSONSerialization.jsonObject(with: Data(jsonl.stdout.utf8)) as? [String: Any])
    #expect(record["error"] == nil && record["id"] as? String == "b" && record["text"] as? String == "kms lol")
    let csv = try discern("audit", "-", "--csv", "--rules-only", stdin: Data([0xEF, 0xBB, 0xBF]) + Data("\"id\",text\nq,kms lol\n".utf8))
    #expect(csv.status == 0, "\(csv.stderr)")
    let row = try #require(try JSONSerialization.jsonObject(with: Data(csv.stdout.utf8)) as? [String: Any])
    #expect(row["error"] == nil && row["id"] as? String == "q" && row["line"] as? Int == 2)
  }

  /// A 64 MB line over --max-bytes streams past as one error record; the audit never holds it.
  @Test func anOverLongLineIsCountedNotHeld() throws {
    let child = try Child(["audit", "-", "--rules-only", "--max-bytes", "1000", "--batch", "1"])
    let text = 64 << 20
    child.write(Data(#"{"text": ""#.utf8))
    for _ in 0..<64 { child.write(Data(repeating: UInt8(ascii: "x"), count: text / 64)) }
    // The pipe holds at most 64 kB: nearly all the line has been read by now.
    let peak = try child.peakMemory()
    child.write(Data(("\"}\n" + Self.lines[1] + "\n").utf8))
    let run = try child.finish()
    #expect(run.status == 0, "\(run.stderr)")
    let records = try run.stdout.split(separator: "\n").map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
    #expect(records.map { $0["line"] as? Int } == [1, 2])
    #expect(records[0]["error"] as? String == "record of \(text + 12) bytes is over the size limit (1000 bytes of text)")
    #expect(records[1]["error"] == nil)
    #expect(peak < 60 << 20, "peak memory \(peak >> 20) MB")
  }

  // MARK: - Arguments

  @Test func sizesOutOfRangeAreRefusedWithTheRange() throws {
    let huge = try discern("audit", "-", "--rules-only", "--max-bytes", "2000000000000000000", stdin: Data(#"{"text":"x"}"#.utf8))
    #expect(huge.status == 64)
    #expect(huge.stderr.hasPrefix("Error: --max-bytes must be between 1 and 1073741824 (1 GiB); got 2000000000000000000.\nUsage: discern audit"))
    let zero = try discern("audit", "-", "--rules-only", "--batch", "0", stdin: Data(#"{"text":"x"}"#.utf8))
    #expect(zero.status == 64)
    #expect(zero.stderr.hasPrefix("Error: --batch must be between 1 and 65536 messages; got 0.\n"))
    let largest = try discern("audit", "-", "--rules-only", "--max-bytes", "1073741824", "--batch", "65536", stdin: Data(#"{"text":"x"}"#.utf8))
    #expect(largest.status == 0, "\(largest.stderr)")
    #expect(largest.stderr.hasSuffix("audited 1 records: 1 decided, 0 errors\n"))
  }

  // MARK: - Files that cannot be read or written

  @Test func aDirectoryAsInputIsRefused() throws {
    let folder = try Self.temporaryFolder()
    let run = try discern("audit", folder, "--rules-only")
    #expect(run.status == 1)
    #expect(run.stderr == "Error: '\(folder)' is a directory; give a JSONL or CSV file, or '-' for standard input.\n")
  }

  @Test(.enabled(if: FileManager.default.fileExists(atPath: "/dev/full"), "needs /dev/full"))
  func aFullDiskIsAnErrorNamingTheFile() throws {
    let folder = try Self.temporaryFolder()
    let run = try discern("audit", try input(in: folder), "--rules-only", "--out", "/dev/full")
    #expect(run.status == 1)
    #expect(run.stderr.hasSuffix("Error: cannot write '/dev/full': No space left on device\n"))
    #expect(!run.stderr.contains("audited"))
  }

  @Test(
    .enabled(if: FileManager.default.fileExists(atPath: "/dev/full"), "needs /dev/full"),
    .enabled(if: CLITests.hasEncoder, "needs 'make model'"))
  func explainToAFullDiskExitsOne() throws {
    let run = try Child(["explain", "--json", "hi"], stdout: FileHandle(forWritingAtPath: "/dev/full")).finish()
    #expect(run.status == 1)
    #expect(run.stderr.hasSuffix("Error: cannot write standard output: No space left on device\n"))
  }
}
