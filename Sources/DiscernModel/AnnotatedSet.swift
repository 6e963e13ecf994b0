import DiscernEncoder
import Foundation

/// Discern's own annotated set (`Annotations/`): real corpus texts labelled against
/// `Annotations/GUIDE.md`, kept stand-off because their text is not ours to commit, and written posts
/// kept as text. `build` joins them with `../shared/data` into files in the corpus row format, so that
/// `discern train` and `discern eval --corpus DIR` read them like any corpus file.
public enum AnnotatedSet {
  /// Stand-off records for the real texts: corpus file, row id, chunk offsets, labels, spans.
  public static let realFile = "real.jsonl"
  /// The written posts, with their text.
  public static let writtenFile = "written.jsonl"
  /// The joined files `build` writes, one per kind so that every table shows real and written apart.
  public static let joinedRealFile = "annotated_real.jsonl"
  public static let joinedWrittenFile = "annotated_written.jsonl"

  public enum SpanType: String, Codable, Sendable, CaseIterable {
    case seriousIntent = "serious_intent"
    case casualMention = "casual_mention"
  }

  /// The guide's categories, in the order the guide picks them ("the first that applies").
  public enum Category: String, Codable, Sendable, CaseIterable {
    case serious, mixedRecovery = "mixed-recovery", towardOthers = "toward-others", byOthers = "by-others"
    case thirdPerson = "third-person", betweenOthers = "between-others", casual, recoveryPast = "recovery-past"
    case distress, other
  }

  /// A span in Unicode-scalar offsets of its text (what Python and JSON consumers count).
  public struct Span: Codable, Sendable, Equatable {
    public var type: SpanType
    public var start: Int
    public var end: Int
    public init(type: SpanType, start: Int, end: Int) {
      self.type = type
      self.start = start
      self.end = end
    }
  }

  /// One real text: a chunk `[start, end)` of a corpus row's text, in Unicode scalars.
  struct RealRecord: Codable {
    var id: String
    var file: String
    var row: String
    var start: Int
    var end: Int
    var split: String
    /// FNV-1a of the chunk's UTF-8 bytes: the join refuses a corpus whose text moved.
    var textFingerprint: String
    /// Optional values so that a null is reported as a missing label, not as an unreadable line.
    var labels: [String: Int?]
    var spans: [Span]
    var category: Category

    enum CodingKeys: String, CodingKey {
      case id, file, row, start, end, split, labels, spans, category
      case textFingerprint = "text_fnv"
    }
  }

  struct WrittenRecord: Codable {
    var id: String
    var split: String
    var text: String
    var register: String
    var labels: [String: Int?]
    var spans: [Span]
    var category: Category
  }

  /// What a build wrote and what it could not.
  public struct BuildReport: Sendable {
    public var real = 0
    public var written = 0
    /// Set when the corpus folder is absent: the real texts were skipped, and why.
    public var skippedReal: String?
    public var spans = 0
    /// Rows, positives per label, and texts with each span type, per split and kind (real/written).
    public var summary: [String] = []
  }

  public enum BuildError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String)
    case problems([String])

    public var description: String {
      switch self {
      case .unreadable(let path): "cannot read '\(path)'"
      case .problems(let list):
        list.joined(separator: "\n") + "\n\(list.count) problem\(list.count == 1 ? "" : "s"); nothing written"
      }
    }
  }

  /// The FNV-1a fingerprint `text_fnv` records for a chunk.
  public static func fingerprint(_ text: String) -> String {
    var hash = FNV1a()
    hash.mix(text.utf8)
    return hash.fingerprint
  }

  /// The corpus row ids behind the annotated `test` split. Wherever Discern learns, these rows are
  /// left out of the corpus, so no text of the annotated test split reaches a fit, a calibration or
  /// a selection under any label. Empty when the folder has no stand-off file.
  /// The rows that hold a test chunk's text under another id (`duplicatesFile`, written by
  /// Annotations/tools/test_duplicates.py) are held out too.
  public static func heldOutRows(annotations folder: String) throws(BuildError) -> Set<String> {
    var rows = Set(try realRecords(folder).filter { $0.split == "test" }.map(\.row))
    let path = folder + "/" + duplicatesFile
    if FileManager.default.fileExists(atPath: path) {
      var problems: [String] = []
      let duplicates: [Duplicate] = decodeLines(path, problems: &problems)
      guard problems.isEmpty else { throw .problems(problems) }
      rows.formUnion(duplicates.map(\.row))
    }
    return rows
  }

  /// Corpus rows holding an annotated test chunk's text under another id.
  public static let duplicatesFile = "heldout-duplicates.jsonl"
  struct Duplicate: Decodable { var row: String }

  /// Every corpus row id the annotated set draws a text from, whatever its split: where Discern learns
  /// from the annotated set, these rows' own (source) labels are superseded and left out.
  public static func annotatedRows(annotations folder: String) throws(BuildError) -> Set<String> {
    Set(try realRecords(folder).map(\.row))
  }

  /// The stand-off records of `folder`; none when it has no stand-off file.
  static func realRecords(_ folder: String) throws(BuildError) -> [RealRecord] {
    let path = folder + "/" + realFile
    guard FileManager.default.fileExists(atPath: path) else { return [] }
    var problems: [String] = []
    let records: [RealRecord] = decodeLines(path, problems: &problems)
    guard problems.isEmpty else { throw .problems(problems) }
    return records
  }

  /// Joins the stand-off records with the corpus and writes the two joined files into `out`. Every
  /// record is checked (labels, category, span bounds and types, the chunk's fingerprint); on any
  /// problem nothing is written and every problem is listed with its file and line.
  public static func build(annotations folder: String, corpus: String, out: String) throws(BuildError) -> BuildReport {
    var problems: [String] = []
    var report = BuildReport()
    let realPath = folder + "/" + realFile, writtenPath = folder + "/" + writtenFile
    guard FileManager.default.fileExists(atPath: writtenPath) else { throw .unreadable(path: writtenPath) }
    let written: [WrittenRecord] = decodeLines(writtenPath, problems: &problems)
    var writtenRows: [[String: Any]] = []
    for (index, record) in written.enumerated() {
      let scalars = Array(record.text.unicodeScalars)
      check(labels: record.labels, spans: record.spans, category: record.category, scalars: scalars, split: record.split,
        at: "\(writtenPath):\(index + 1)", problems: &problems)
      writtenRows.append(joined(id: record.id, split: record.split, text: record.text, labels: record.labels, spans: record.spans,
        category: record.category, synthetic: true, extra: ["register": record.register]))
    }

    var realRows: [[String: Any]] = []
    let corpusPresent = FileManager.default.fileExists(atPath: corpus)
    if !corpusPresent {
      report.skippedReal = "corpus folder '\(corpus)' not found (the public texts are not committed)"
    } else {
      let real: [RealRecord] = decodeLines(realPath, problems: &problems)
      var texts: [String: [String: String]] = [:]  // file → row id → text
      for (index, record) in real.enumerated() {
        let at = "\(realPath):\(index + 1)"
        if texts[record.file] == nil {
          texts[record.file] = corpusTexts(corpus + "/" + record.file, problems: &problems)
        }
        guard let text = texts[record.file]?[record.row] else {
          problems.append("\(at): row '\(record.row)' is not in \(corpus)/\(record.file)")
          continue
        }
        let scalars = Array(text.unicodeScalars)
        guard 0 <= record.start, record.start < record.end, record.end <= scalars.count else {
          problems.append("\(at): chunk [\(record.start), \(record.end)) lies outside row '\(record.row)' (\(scalars.count) scalars)")
          continue
        }
        var chunk = String.UnicodeScalarView()
        chunk.append(contentsOf: scalars[record.start..<record.end])
        let chunkText = String(chunk)
        let found = fingerprint(chunkText)
        guard found == record.textFingerprint else {
          problems.append(
            "\(at): the text of '\(record.row)' [\(record.start), \(record.end)) changed (\(found), annotated as \(record.textFingerprint)): the corpus differs from the one annotated")
          continue
        }
        check(labels: record.labels, spans: record.spans, category: record.category, scalars: Array(chunk), split: record.split,
          at: at, problems: &problems)
        realRows.append(joined(id: record.id, split: record.split, text: chunkText, labels: record.labels, spans: record.spans,
          category: record.category, synthetic: false, extra: ["corpus_file": record.file, "corpus_row": record.row]))
      }
    }
    guard problems.isEmpty else { throw .problems(problems) }

    do {
      try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
      try write(writtenRows, to: out + "/" + joinedWrittenFile)
      if corpusPresent { try write(realRows, to: out + "/" + joinedRealFile) }
    } catch {
      throw .unreadable(path: out)
    }
    report.real = realRows.count
    report.written = writtenRows.count
    report.spans = (realRows + writtenRows).reduce(0) { $0 + (($1["spans"] as? [[String: Any]])?.count ?? 0) }
    report.summary = summary(kind: "real", realRows) + summary(kind: "written", writtenRows)
    return report
  }

  // MARK: - Checks

  static func check(
    labels: [String: Int?], spans: [Span], category: Category, scalars: [Unicode.Scalar], split: String, at: String,
    problems: inout [String]
  ) {
    let labels = labels.compactMapValues { $0 }
    if !["train", "dev", "test"].contains(split) { problems.append("\(at): split is train, dev or test, not '\(split)'") }
    for label in allLabels where labels[label] != 0 && labels[label] != 1 {
      problems.append("\(at): label '\(label)' must be 0 or 1 (every text carries all four)")
    }
    for label in labels.keys where !allLabels.contains(label) {
      problems.append("\(at): unknown label '\(label)' (one of: \(allLabels.joined(separator: ", ")))")
    }
    let selfHarm = labels["self_harm"] == 1
    if selfHarm != [.serious, .mixedRecovery].contains(category) {
      problems.append("\(at): category '\(category.rawValue)' does not agree with self_harm \(labels["self_harm"] ?? -1)")
    }
    for (number, span) in spans.enumerated() {
      let name = "span \(number + 1) (\(span.type.rawValue) [\(span.start), \(span.end)))"
      guard 0 <= span.start, span.start < span.end, span.end <= scalars.count else {
        problems.append("\(at): \(name) lies outside the text (\(scalars.count) scalars)")
        continue
      }
      if scalars[span.start].properties.isWhitespace || scalars[span.end - 1].properties.isWhitespace {
        problems.append("\(at): \(name) starts or ends on whitespace")
      }
      if span.type == .seriousIntent && !selfHarm {
        problems.append("\(at): \(name): serious_intent spans belong to self_harm texts only")
      }
    }
    for type in SpanType.allCases where spans.filter({ $0.type == type }).count > 3 {
      problems.append("\(at): more than three \(type.rawValue) spans")
    }
  }

  // MARK: - Reading and writing

  static func decodeLines<T: Decodable>(_ path: String, problems: inout [String]) -> [T] {
    guard let data = FileManager.default.contents(atPath: path) else {
      problems.append("cannot read '\(path)'")
      return []
    }
    let decoder = JSONDecoder()
    var records: [T] = []
    for (index, line) in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
      do {
        records.append(try decoder.decode(T.self, from: Data(line)))
      } catch {
        problems.append("\(path):\(index + 1): not a record of this file (\(Self.reason(error)))")
      }
    }
    return records
  }

  private static func reason(_ error: Error) -> String {
    switch error {
    case DecodingError.keyNotFound(let key, _): "missing '\(key.stringValue)'"
    case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
      "'\(context.codingPath.map(\.stringValue).joined(separator: "."))': \(context.debugDescription)"
    case DecodingError.dataCorrupted(let context):
      context.codingPath.isEmpty ? "not valid JSON" : "'\(context.codingPath.map(\.stringValue).joined(separator: "."))': \(context.debugDescription)"
    default: "\(error)"
    }
  }

  private static func corpusTexts(_ path: String, problems: inout [String]) -> [String: String] {
    do {
      return Dictionary(try Corpus.read(path).map { ($0.id, $0.text) }, uniquingKeysWith: { first, _ in first })
    } catch {
      problems.append("\(error)")
      return [:]
    }
  }

  private static func joined(
    id: String, split: String, text: String, labels: [String: Int?], spans: [Span], category: Category, synthetic: Bool,
    extra: [String: String]
  ) -> [String: Any] {
    var row: [String: Any] = [
      "id": id, "source": "annotated", "split": split, "text": text, "labels": labels.compactMapValues { $0 }, "weak": [String](),
      "spans": spans.map { ["type": $0.type.rawValue, "start": $0.start, "end": $0.end] as [String: Any] },
      "category": category.rawValue, "synthetic": synthetic,
    ]
    for (key, value) in extra { row[key] = value }
    return row
  }

  private static func write(_ rows: [[String: Any]], to path: String) throws {
    var data = Data()
    for row in rows {
      data.append(try JSONSerialization.data(withJSONObject: row, options: [.sortedKeys, .withoutEscapingSlashes]))
      data.append(UInt8(ascii: "\n"))
    }
    try data.write(to: URL(fileURLWithPath: path), options: .atomic)
  }

  private static func summary(kind: String, _ rows: [[String: Any]]) -> [String] {
    ["train", "dev", "test"].compactMap { split in
      let part = rows.filter { $0["split"] as? String == split }
      guard !part.isEmpty else { return nil }
      let positives = allLabels.map { label in
        "\(label) \(part.filter { ($0["labels"] as? [String: Int])?[label] == 1 }.count)"
      }
      let withType = SpanType.allCases.map { type in
        "\(type.rawValue) \(part.filter { (($0["spans"] as? [[String: Any]]) ?? []).contains { $0["type"] as? String == type.rawValue } }.count)"
      }
      return "\(kind) \(split): \(part.count) text\(part.count == 1 ? "" : "s"); positives: \(positives.joined(separator: ", ")); texts with spans: \(withType.joined(separator: ", "))"
    }
  }
}
