import DiscernModel
import DiscernRules
import Foundation
import Testing

@testable import DiscernVerdicts

@Suite struct VerdictStoreTests {
  static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path
  static let fixtureV1 = fixtures + "/verdicts-v1.sqlite"

  /// A fresh folder for one test's files.
  func scratch() throws -> String {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("verdicts-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    return folder
  }

  /// What verdicts-v1.sqlite holds: texts written for this test, two messages, three verdicts, one of
  /// them corrected once (so the history table has a row too).
  static let fixtureVerdicts: [Verdict] = [
    Verdict(
      messageID: "m-001", text: "this exam is going to be the end of me, honestly", label: "self_harm", applies: false,
      engineProbability: 0.41, engineFlagged: true, rulesHash: "rules-aaaa", modelHash: "model-bbbb", encoderFingerprint: "enc-cccc",
      moderator: "ana", decidedAt: Date(timeIntervalSince1970: 1_790_000_000.25), spans: [VerdictSpan(start: 25, end: 38, type: "casual_mention")],
      source: "written"),
    Verdict(
      messageID: "m-001", text: "this exam is going to be the end of me, honestly", label: "harming_others", applies: false,
      engineProbability: 0.02, engineFlagged: false, rulesHash: "rules-aaaa", modelHash: "model-bbbb", encoderFingerprint: "enc-cccc",
      moderator: "ana", decidedAt: Date(timeIntervalSince1970: 1_790_000_001), source: "written"),
    Verdict(
      messageID: "m-002", text: "my neighbour keeps shouting threats at me and I am scared to go out", label: "harmed_by_others",
      applies: true, engineProbability: 0.28, engineFlagged: false, rulesHash: "rules-aaaa", modelHash: "model-bbbb", encoderFingerprint: nil,
      moderator: "li", decidedAt: Date(timeIntervalSince1970: 1_790_000_100.5), spans: [], source: nil),
  ]
  /// The order `all()` reads them in: by message id, then label.
  static let fixtureInOrder = fixtureVerdicts.sorted { ($0.messageID, $0.label) < ($1.messageID, $1.label) }
  /// The first verdict on m-002 before the moderator corrected it.
  static let fixtureFirstVerdict: Verdict = {
    var first = fixtureVerdicts[2]
    first.applies = false
    first.moderator = "sam"
    first.decidedAt = Date(timeIntervalSince1970: 1_790_000_050)
    return first
  }()

  @Test func roundTrip() throws {
    let store = try VerdictStore(path: try scratch() + "/v.sqlite")
    try store.save(Self.fixtureVerdicts)
    #expect(try store.all() == Self.fixtureInOrder)
    #expect(try store.verdicts(messageID: "m-001") == Array(Self.fixtureVerdicts[0...1]).sorted { $0.label < $1.label })
    #expect(try store.verdicts(messageID: "nope").isEmpty)
  }

  @Test func reopenedStoreReadsWhatWasSaved() throws {
    let path = try scratch() + "/v.sqlite"
    try VerdictStore(path: path).save(Self.fixtureVerdicts)
    #expect(try VerdictStore(path: path).all() == Self.fixtureInOrder)
  }

  @Test func laterVerdictReplacesEarlierAndKeepsItInHistory() throws {
    let store = try VerdictStore(path: try scratch() + "/v.sqlite")
    try store.save([Self.fixtureFirstVerdict])
    try store.save([Self.fixtureVerdicts[2]])
    #expect(try store.verdicts(messageID: "m-002") == [Self.fixtureVerdicts[2]])
    let history = try store.history(messageID: "m-002")
    #expect(history.map(\.verdict) == [Self.fixtureFirstVerdict])
    // Saving the same verdict again is no correction.
    try store.save([Self.fixtureVerdicts[2]])
    #expect(try store.history(messageID: "m-002").count == 1)
  }

  @Test func decidedAtKeptToTheMillisecond() throws {
    let store = try VerdictStore(path: try scratch() + "/v.sqlite")
    var verdict = Self.fixtureVerdicts[0]
    verdict = Verdict(
      messageID: verdict.messageID, text: verdict.text, label: verdict.label, applies: true, engineProbability: 0.5, engineFlagged: true,
      rulesHash: "r", modelHash: "m", encoderFingerprint: nil, moderator: "ana", decidedAt: Date(timeIntervalSince1970: 1_790_000_000.123_456))
    try store.save([verdict])
    #expect(try store.all() == [verdict])
    #expect(verdict.decidedAt.timeIntervalSince1970 == 1_790_000_000.123)
  }

  @Test func exportIsTheCorpusFormat() throws {
    let folder = try scratch()
    let store = try VerdictStore(path: folder + "/v.sqlite")
    try store.save(Self.fixtureVerdicts)
    try store.exportCorpusJSONL(to: folder + "/verdicts.jsonl")
    let text = try String(contentsOfFile: folder + "/verdicts.jsonl", encoding: .utf8)
    #expect(
      text == """
        {"id":"m-001","labels":{"harmed_by_others":null,"harming_others":0,"reference_to_harm":null,"self_harm":0},"orig":null,"source":"written","spans":[{"end":38,"start":25,"type":"casual_mention"}],"split":"dev","text":"this exam is going to be the end of me, honestly","weak":[]}
        {"id":"m-002","labels":{"harmed_by_others":1,"harming_others":null,"reference_to_harm":null,"self_harm":null},"orig":null,"source":"verdicts","spans":[],"split":"dev","text":"my neighbour keeps shouting threats at me and I am scared to go out","weak":[]}

        """)
    // What `discern train` and `discern eval` read.
    let rows = try Corpus.read(folder + "/verdicts.jsonl")
    #expect(rows.map(\.id) == ["m-001", "m-002"])
    #expect(rows[0].labels == ["self_harm": 0, "harming_others": 0])
    #expect(rows[1].labels == ["harmed_by_others": 1])
    #expect(rows[0].spans == [AnnotatedSet.Span(type: .casualMention, start: 25, end: 38)])
    #expect(rows.allSatisfy { $0.split == "dev" && $0.weak.isEmpty })
  }

  @Test func exportKeepsSpansOfOtherTypesApart() throws {
    let folder = try scratch()
    let store = try VerdictStore(path: folder + "/v.sqlite")
    var verdict = Self.fixtureVerdicts[1]
    verdict.spans = [VerdictSpan(start: 0, end: 4, type: "negation")]
    try store.save([verdict])
    try store.exportCorpusJSONL(to: folder + "/out.jsonl", split: "test")
    let line = try String(contentsOfFile: folder + "/out.jsonl", encoding: .utf8)
    #expect(line.contains(#""other_spans":[{"end":4,"start":0,"type":"negation"}]"#))
    #expect(line.contains(#""spans":[]"#))
    #expect(try Corpus.read(folder + "/out.jsonl")[0].split == "test")
  }

  /// The migration contract: a file this version wrote is read by every later one.
  @Test func readsTheVersion1Fixture() throws {
    let folder = try scratch()
    // A copy: opening runs the migrator, which must not need to touch the committed file.
    try FileManager.default.copyItem(atPath: Self.fixtureV1, toPath: folder + "/v1.sqlite")
    let store = try VerdictStore(path: folder + "/v1.sqlite")
    #expect(try store.all() == Self.fixtureInOrder)
    #expect(try store.history(messageID: "m-002").map(\.verdict) == [Self.fixtureFirstVerdict])
  }

  /// Writes verdicts-v1.sqlite again (DISCERN_WRITE_VERDICTS_FIXTURE=1 swift test --filter
  /// writeVersion1Fixture): only ever with the version-1 schema. A later schema keeps this file as it
  /// is and adds a fixture of its own.
  @Test(.enabled(if: ProcessInfo.processInfo.environment["DISCERN_WRITE_VERDICTS_FIXTURE"] == "1"))
  func writeVersion1Fixture() throws {
    try? FileManager.default.removeItem(atPath: Self.fixtureV1)
    try FileManager.default.createDirectory(atPath: Self.fixtures, withIntermediateDirectories: true)
    let store = try VerdictStore(path: Self.fixtureV1)
    try store.save([Self.fixtureFirstVerdict])
    try store.save(Self.fixtureVerdicts)
  }

  @Test func notADatabaseNamesThePath() throws {
    let path = try scratch() + "/notes.sqlite"
    try Data(repeating: UInt8(ascii: "x"), count: 4096).write(to: URL(fileURLWithPath: path))
    #expect {
      try VerdictStore(path: path)
    } throws: { error in
      "\(error)" == "'\(path)' is not a verdicts database (SQLite: file is not a database); pass the file the review page wrote, "
        + "or move this one aside to start a new database there"
    }
  }

  @Test func anotherProgramsDatabaseIsNotWrittenInto() throws {
    // A database with a table of its own and no migrations table.
    let other = try scratch() + "/app.sqlite"
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["sqlite3", other, "CREATE TABLE users (id INTEGER);"]
    try process.run()
    process.waitUntilExit()
    try #require(process.terminationStatus == 0, "needs the sqlite3 command")
    #expect {
      try VerdictStore(path: other)
    } throws: { error in
      "\(error)" == "'\(other)' is a SQLite database of another program (tables: users), not a verdicts database; "
        + "pass the file the review page wrote, or a new path"
    }
  }

  @Test func missingFolderSaysSo() throws {
    let path = try scratch() + "/no/such/folder/v.sqlite"
    #expect {
      try VerdictStore(path: path)
    } throws: { error in
      guard case .cannotOpen(let where_, _) = error as? VerdictStoreError else { return false }
      return where_ == path && "\(error)".hasSuffix("check that its folder exists and is writable")
    }
  }

  @Test func invalidVerdictsAreRefusedWhole() throws {
    let path = try scratch() + "/v.sqlite"
    let store = try VerdictStore(path: path)
    var bad = Self.fixtureVerdicts[0]
    bad.spans = [VerdictSpan(start: 40, end: 99, type: "casual_mention")]
    #expect {
      try store.save([Self.fixtureVerdicts[2], bad])
    } throws: { error in
      "\(error)" == "verdict on message 'm-001', label 'self_harm' not saved to '\(path)': span [40, 99) is not inside the text's 48 scalars"
    }
    var badType = Self.fixtureVerdicts[0]
    badType.spans = [VerdictSpan(start: 0, end: 4, type: "sarcasm")]
    #expect(throws: VerdictStoreError.self) { try store.save([badType]) }
    var otherText = Self.fixtureVerdicts[1]
    otherText.text = "a different text"
    #expect {
      try store.save([Self.fixtureVerdicts[0], otherText])
    } throws: { error in
      "\(error)" == "verdicts on message 'm-001' in '\(path)' are about another text; a message id names one text: give the changed text a new id"
    }
    // Nothing of a refused batch was kept.
    #expect(try store.all().isEmpty)
  }
}
