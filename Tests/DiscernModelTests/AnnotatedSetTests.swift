import DiscernModel
import Foundation
import Testing

/// The annotated set's stand-off format: records that point into corpus rows by offsets and a
/// fingerprint, joined back into corpus-format rows whose spans still cover the annotated words.
@Suite struct AnnotatedSetTests {
  static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/annotations").path
  static let set = fixtures + "/set"
  static let corpus = fixtures + "/corpus"

  func temporaryFolder() throws -> String {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("discern-annotated-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    return folder
  }

  func spanText(_ row: CorpusRow, _ span: AnnotatedSet.Span) -> String {
    let scalars = Array(row.text.unicodeScalars)
    var view = String.UnicodeScalarView()
    view.append(contentsOf: scalars[span.start..<span.end])
    return String(view)
  }

  @Test func joinedRowsCarryTheChunkTheLabelsAndSpansThatCoverTheAnnotatedWords() throws {
    let out = try temporaryFolder()
    let report = try AnnotatedSet.build(annotations: Self.set, corpus: Self.corpus, out: out)
    #expect(report.real == 3 && report.written == 2 && report.spans == 4 && report.skippedReal == nil)

    let real = try Corpus.read(out + "/" + AnnotatedSet.joinedRealFile)
    let chunk = try #require(real.first { $0.id == "mini-2@10-108" })
    // A chunk of a longer post, cut after an emoji: offsets count Unicode scalars, not bytes or UTF-16.
    #expect(chunk.text == "I gave my guitar to my brother 🎸 and wrote letters to everyone. I don't plan to be here next week.")
    #expect(chunk.labels == ["self_harm": 1, "harming_others": 0, "harmed_by_others": 0, "reference_to_harm": 0])
    #expect(chunk.split == "dev" && chunk.category == .serious && !chunk.synthetic && chunk.weak.isEmpty)
    #expect(chunk.spans.map { spanText(chunk, $0) } == ["wrote letters to everyone", "don't plan to be here next week"])
    let casual = try #require(real.first { $0.id == "mini-1@0-34" })
    #expect(casual.spans.map { spanText(casual, $0) } == ["kill me now"])

    let written = try Corpus.read(out + "/" + AnnotatedSet.joinedWrittenFile)
    #expect(written.map(\.id) == ["w-fix1", "w-fix2"] && written.allSatisfy(\.synthetic))
    #expect(written[0].spans.map { spanText(written[0], $0) } == ["might as well walk into the sea"])
    #expect(written[1].category == .byOthers && written[1].labels["harmed_by_others"] == 1)
  }

  @Test func aCorpusWhoseTextMovedIsRefusedAndNothingIsWritten() throws {
    let corpus = try temporaryFolder(), out = try temporaryFolder() + "/joined"
    let original = try String(contentsOfFile: Self.corpus + "/mini_tweets.jsonl", encoding: .utf8)
    try original.replacingOccurrences(of: "wrote letters to everyone", with: "wrote letters to everybody")
      .write(toFile: corpus + "/mini_tweets.jsonl", atomically: true, encoding: .utf8)
    #expect(throws: AnnotatedSet.BuildError.problems([
      "\(Self.set)/real.jsonl:2: the text of 'mini-2' [10, 108) changed (fnv1a64:8fd5fb9d08611c23, annotated as fnv1a64:b5b8efbe3b4f451b): the corpus differs from the one annotated"
    ])) { try AnnotatedSet.build(annotations: Self.set, corpus: corpus, out: out) }
    #expect(!FileManager.default.fileExists(atPath: out))
  }

  @Test func everyBrokenRecordIsListedWithItsFileAndLine() throws {
    let set = try temporaryFolder()
    let real = try String(contentsOfFile: Self.set + "/real.jsonl", encoding: .utf8)
      .replacingOccurrences(of: #""start": 66, "end": 97"#, with: #""start": 66, "end": 120"#)
      .replacingOccurrences(of: #""reference_to_harm": 1}"#, with: #""reference_to_harm": null}"#)
    try real.write(toFile: set + "/real.jsonl", atomically: true, encoding: .utf8)
    let written = try String(contentsOfFile: Self.set + "/written.jsonl", encoding: .utf8)
      .replacingOccurrences(of: #""category": "by-others""#, with: #""category": "by-other""#)
    try written.write(toFile: set + "/written.jsonl", atomically: true, encoding: .utf8)
    do {
      _ = try AnnotatedSet.build(annotations: set, corpus: Self.corpus, out: try temporaryFolder())
      Issue.record("a broken set was joined")
    } catch {
      #expect("\(error)" == """
        \(set)/written.jsonl:2: not a record of this file ('category': Cannot initialize Category from invalid String value by-other)
        \(set)/real.jsonl:2: span 2 (serious_intent [66, 120)) lies outside the text (98 scalars)
        \(set)/real.jsonl:3: label 'reference_to_harm' must be 0 or 1 (every text carries all four)
        3 problems; nothing written
        """)
    }
  }

  @Test func withoutTheCorpusTheRealTextsAreSkippedAndSaidSo() throws {
    let out = try temporaryFolder()
    let report = try AnnotatedSet.build(annotations: Self.set, corpus: "/nonexistent/corpus", out: out)
    #expect(report.skippedReal == "corpus folder '/nonexistent/corpus' not found (the public texts are not committed)")
    #expect(report.real == 0 && report.written == 2)
    #expect(!FileManager.default.fileExists(atPath: out + "/" + AnnotatedSet.joinedRealFile))
    #expect(FileManager.default.fileExists(atPath: out + "/" + AnnotatedSet.joinedWrittenFile))
  }

  @Test func theRowsBehindTheAnnotatedTestSplitAreLeftOutOfLearning() throws {
    let heldOut = try AnnotatedSet.heldOutRows(annotations: Self.set)
    #expect(heldOut == ["mini-3"])
    let rows = try Corpus.read(Self.corpus + "/mini_tweets.jsonl")
    #expect(Corpus.learnable(rows, heldOut: heldOut).map(\.id) == ["mini-1", "mini-2"])
    #expect(try AnnotatedSet.heldOutRows(annotations: "/nonexistent").isEmpty)
  }

  /// A chunk cut from a held-out corpus row is held out too, whichever file carries it.
  @Test func anAnnotatedChunkOfAHeldOutRowIsLeftOutOfLearning() throws {
    let out = try temporaryFolder()
    _ = try AnnotatedSet.build(annotations: Self.set, corpus: Self.corpus, out: out)
    let rows = try Corpus.read(out + "/" + AnnotatedSet.joinedRealFile)
    #expect(Corpus.learnable(rows, heldOut: ["mini-2"]).map(\.id) == ["mini-1@0-34", "mini-3@0-56"])
  }

  /// The people's labels replace the source's: the corpus copy of a relabelled row is left out, the
  /// annotated chunk cut from it is learned from (it was once dropped with its corpus row, so no real
  /// annotated row reached the fusion), and a chunk of a held-out row stays out.
  @Test func aRelabelledRowIsLearnedFromItsAnnotatedChunkNotItsCorpusCopy() throws {
    let out = try temporaryFolder()
    _ = try AnnotatedSet.build(annotations: Self.set, corpus: Self.corpus, out: out)
    let heldOut = try AnnotatedSet.heldOutRows(annotations: Self.set)
    let superseded = try AnnotatedSet.annotatedRows(annotations: Self.set).subtracting(heldOut)
    #expect(superseded == ["mini-1", "mini-2"])
    let corpusRows = try Corpus.read(Self.corpus + "/mini_tweets.jsonl")
    #expect(Corpus.learnable(corpusRows, heldOut: heldOut, superseded: superseded).map(\.id) == [])
    let annotatedRows = try Corpus.read(out + "/" + AnnotatedSet.joinedRealFile)
    #expect(Corpus.learnable(annotatedRows, heldOut: heldOut, superseded: superseded).map(\.id) == ["mini-1@0-34", "mini-2@10-108"])
  }

  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path
  static let sharedCorpus = root + "/../shared/data/corpus"

  /// The committed set itself: every written post passes the checks, on any machine.
  @Test func theShippedWrittenPostsPassEveryCheck() throws {
    let report = try AnnotatedSet.build(annotations: Self.root + "/Annotations", corpus: "/nonexistent", out: try temporaryFolder())
    #expect(report.written >= 1500)
  }

  /// Where ../shared is present: every real chunk still matches the corpus text it was annotated on,
  /// and the set holds what its datasheet promises.
  @Test(.enabled(if: FileManager.default.fileExists(atPath: sharedCorpus)))
  func theShippedSetJoinsWithTheCorpusAndHoldsWhatItPromises() throws {
    let out = try temporaryFolder()
    let report = try AnnotatedSet.build(annotations: Self.root + "/Annotations", corpus: Self.sharedCorpus, out: out)
    #expect(report.skippedReal == nil && report.real >= 4000 && report.written >= 1500)
    let rows = try Corpus.read(out + "/" + AnnotatedSet.joinedRealFile) + Corpus.read(out + "/" + AnnotatedSet.joinedWrittenFile)
    for label in allLabels {
      #expect(rows.filter { $0.labels[label] == 1 }.count >= 300, "\(label)")
    }
    #expect(rows.filter { $0.spans.contains { $0.type == .casualMention } }.count >= 600)
    #expect(rows.filter { $0.spans.contains { $0.type == .seriousIntent } }.count >= 800)
    #expect(rows.filter { !$0.synthetic && $0.split == "test" }.count >= 600)
  }
}
