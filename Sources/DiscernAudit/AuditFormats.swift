import Discern
import DiscernRules
import Foundation

/// One input record: the line it starts on, its raw bytes (a JSON object, or a CSV row with the
/// file's header) and their fingerprint, which its output record carries so that a resumed audit can
/// tell its own input from another.
struct AuditInput {
  let line: Int
  let bytes: [UInt8]
  /// FNV-1a of the record's bytes (see `LineReader` for a line too long to keep).
  let fingerprint: UInt64
  var header: [String]? = nil
  /// Why the reader could not hand the record over whole (over the size limit, a quote never
  /// closed): it becomes an error record saying so.
  var problem: String? = nil

  init(line: Int, bytes: [UInt8], fingerprint: UInt64? = nil, problem: String? = nil) {
    self.line = line
    self.bytes = bytes
    self.fingerprint = fingerprint ?? Fingerprint.of(bytes)
    self.problem = problem
  }

  /// The error a record over the size limit gets.
  static func overLimit(_ bytes: Int, maxBytes: Int) -> String {
    "record of \(bytes) bytes is over the size limit (\(maxBytes) bytes of text)"
  }
}

/// The input's records in order, numbered by the line each starts on: JSON lines, or CSV records
/// after the header.
final class AuditInputReader {
  let lines: LineReader
  private var csv: CSVRecordReader?
  let maxBytes: Int
  /// Records handed out so far.
  private(set) var count = 0

  init(lines: LineReader, csv: Bool, maxBytes: Int, delimiter: CSVDelimiter = .comma) {
    self.lines = lines
    self.maxBytes = maxBytes
    self.csv = csv ? CSVRecordReader(lines: lines, maxBytes: maxBytes, delimiter: delimiter) : nil
  }

  /// Reads the CSV header; throws why it is unusable (the audit cannot map columns without it).
  func readHeader(keys: RecordKeys = RecordKeys()) throws(AuditError) {
    guard csv != nil else { return }
    if let error = csv!.readHeader(keys: keys) { throw AuditError.input("\(lines.name): \(error)") }
  }

  func next() -> AuditInput? {
    let record: AuditInput?
    if csv != nil {
      var next = csv!.nextRecord()
      next?.header = csv!.header
      record = next
    } else {
      switch lines.next() {
      case nil: record = nil
      case .bytes(let bytes): record = AuditInput(line: count + 1, bytes: bytes)
      case .tooLong(let length, let fingerprint):
        record = AuditInput(line: count + 1, bytes: [], fingerprint: fingerprint, problem: AuditInput.overLimit(length, maxBytes: maxBytes))
      }
    }
    if record != nil { count += 1 }
    return record
  }
}

/// An input record's fields besides `id` and `text`, passed through to its output record as one JSON
/// object: JSONL members exactly as the input wrote them, in its order; CSV cells as strings.
struct PassThrough {
  /// The object's JSON text; empty when there is nothing to pass through.
  let json: [UInt8]

  static let none = PassThrough(json: [])

  private init(json: [UInt8]) { self.json = json }

  init(object: JSONObjectLine, leaving excluded: Set<String>) {
    self.init(object.members.filter { !excluded.contains($0.key) }, key: \.key) { $1.bytes.append(contentsOf: object.bytes[$0.value]) }
  }

  init(cells: [(String, String)]) {
    self.init(cells, key: \.0) { $1.string($0.1) }
  }

  /// `{"key": value, …}` in the members' order; nothing at all when there are none.
  private init<Member>(_ members: [Member], key: (Member) -> String, value: (Member, inout JSONText) -> Void) {
    guard !members.isEmpty else {
      self = .none
      return
    }
    var json = JSONText()
    json.raw("{")
    for (i, member) in members.enumerated() {
      if i > 0 { json.raw(",") }
      json.key(dynamic: key(member))
      value(member, &json)
    }
    json.raw("}")
    self.json = json.bytes
  }

  var isEmpty: Bool { json.isEmpty }

  /// Decoded, for what the report reads (the records' labels); only a report asks.
  var fields: [String: Any] {
    guard !json.isEmpty else { return [:] }
    return (try? JSONSerialization.jsonObject(with: Data(json))) as? [String: Any] ?? [:]
  }
}

/// CSV records (RFC 4180) over raw lines: a quoted field may hold commas, doubled quotes and line
/// breaks, so one record can span several lines; it is numbered by the line it starts on. A quoted
/// field must close within `maxLines` lines and the record's size limit, with nothing but ',' or the
/// line's end after its closing quote: otherwise the quote was most likely a stray '"' at the start of a
/// field, and reading on would swallow every row after it into one record. The record's first line
/// then becomes an error record and the lines after it are read again as records of their own.
struct CSVRecordReader {
  let lines: LineReader
  let maxBytes: Int
  let delimiter: CSVDelimiter
  /// Longest a record may be, as long as a line may be.
  let maxRecordBytes: Int
  static let maxLines = 1000
  private(set) var header: [String]?
  /// The number of the last line taken from `lines`.
  private var lineNumber = 0
  /// Lines read ahead looking for a quote's end and given back when it did not come: read again first.
  private var returned: [(number: Int, line: LineReader.Line)] = []

  init(lines: LineReader, maxBytes: Int, delimiter: CSVDelimiter = .comma) {
    self.lines = lines
    self.maxBytes = maxBytes
    self.delimiter = delimiter
    maxRecordBytes = lines.maxLineBytes
  }

  private mutating func nextLine() -> (number: Int, line: LineReader.Line)? {
    if !returned.isEmpty { return returned.removeFirst() }
    guard let line = lines.next() else { return nil }
    lineNumber += 1
    return (lineNumber, line)
  }

  /// The next record: its first line and bytes (line breaks inside quotes kept), or an error record.
  mutating func nextRecord() -> AuditInput? {
    guard let (start, first) = nextLine() else { return nil }
    guard case .bytes(let firstBytes) = first else {
      guard case .tooLong(let length, let fingerprint) = first else { return nil }
      return AuditInput(line: start, bytes: [], fingerprint: fingerprint, problem: AuditInput.overLimit(length, maxBytes: maxBytes))
    }
    var quotes = CSVQuotes(delimiter: delimiter)
    quotes.scan(firstBytes)
    var record = firstBytes
    var more: [(number: Int, line: LineReader.Line)] = []
    while quotes.open {
      let why: String
      if let next = nextLine() {
        more.append(next)
        if case .bytes(let bytes) = next.line, record.count + 1 + bytes.count <= maxRecordBytes, more.count < Self.maxLines {
          quotes.scan(bytes)
          if !quotes.textAfterClosing {
            record.append(UInt8(ascii: "\n"))
            record.append(contentsOf: bytes)
            continue
          }
          why = "closes on line \(next.number) with more text after its closing quote"
        } else {
          why = "does not close within \(Self.maxLines) lines (\(maxRecordBytes) bytes)"
        }
      } else {
        why = "does not close before the end of the input"
      }
      returned.insert(contentsOf: more, at: 0)
      return AuditInput(
        line: start, bytes: firstBytes,
        problem: "unclosed quote: the quoted field that starts on this line \(why); the lines after it are read as records "
          + "of their own (a '\"' inside a field is written '\"\"', in a quoted field)")
    }
    return AuditInput(line: start, bytes: record)
  }

  /// Reads the header row; it must name the text column (and the id column, when one was asked
  /// for). Returns why it cannot be used, if it cannot.
  mutating func readHeader(keys: RecordKeys) -> String? {
    guard let record = nextRecord() else { return "the CSV input is empty: it needs a header row with a '\(keys.text)' column" }
    guard record.problem == nil, let line = String(validating: record.bytes, as: UTF8.self), let fields = CSV.fields(line, delimiter: delimiter)
    else {
      return "line 1: the CSV header is not valid UTF-8, has an unclosed quote or is over the size limit"
    }
    let names = fields.map { $0.hasPrefix("\u{FEFF}") ? String($0.dropFirst()) : $0 }
    if let missing = keys.missing(in: names, delimiter: delimiter) { return "line 1: " + missing }
    header = names
    return nil
  }
}

/// RFC 4180's quoting followed byte by byte across a record's lines: a '"' opens a quoted field only
/// at the start of a field (elsewhere it is text, as `CSV.fields` reads it), and inside one '""' is a
/// quote and a lone '"' closes it.
struct CSVQuotes {
  let delimiter: CSVDelimiter
  /// A quoted field is open at the end of the last line scanned: the record goes on.
  private(set) var open = false
  /// In the last line scanned, a closing quote was followed by more than the delimiter or the line's end.
  private(set) var textAfterClosing = false
  private var fieldStart = true
  private var justClosed = false

  init(delimiter: CSVDelimiter = .comma) { self.delimiter = delimiter }

  mutating func scan(_ line: [UInt8]) {
    textAfterClosing = false
    let quote = UInt8(ascii: "\""), comma = delimiter.byte
    for byte in line {
      if open {
        if byte == quote {
          open = false
          justClosed = true
        }
      } else if justClosed {
        justClosed = false
        if byte == quote {
          open = true
        } else if byte == comma {
          fieldStart = true
        } else {
          textAfterClosing = true
          fieldStart = false
        }
      } else if byte == quote && fieldStart {
        open = true
        fieldStart = false
      } else {
        fieldStart = byte == comma
      }
    }
    justClosed = false
  }
}

enum CSV {
  /// The fields of one record, or nil when a quote is left open. Read scalar by scalar, as
  /// `CSVQuotes` finds the record's end byte by byte: by Character, a quote or comma followed by a
  /// combining mark or a zero-width joiner was one grapheme that was neither.
  static func fields(_ record: String, delimiter: CSVDelimiter = .comma) -> [String]? {
    let separator = delimiter.scalar
    var fields: [String] = []
    var field = String.UnicodeScalarView()
    var quoted = false
    var iterator = record.unicodeScalars.makeIterator()
    var pending: Unicode.Scalar? = nil
    while let c = pending ?? iterator.next() {
      pending = nil
      if quoted {
        if c == "\"" {
          if let next = iterator.next() {
            if next == "\"" { field.append("\"") } else {
              quoted = false
              pending = next
            }
          } else {
            quoted = false
          }
        } else {
          field.append(c)
        }
      } else if c == "\"" && field.isEmpty {
        quoted = true
      } else if c == separator {
        fields.append(String(field))
        field = String.UnicodeScalarView()
      } else {
        field.append(c)
      }
    }
    guard !quoted else { return nil }
    fields.append(String(field))
    return fields
  }

  static func escape(_ value: String, delimiter: CSVDelimiter = .comma) -> String {
    guard value.unicodeScalars.contains(where: { $0 == delimiter.scalar || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
    return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
  }
}

/// The byte between a CSV record's fields: ',' unless told otherwise. Spreadsheets in locales whose
/// decimal mark is ',' export with ';', and many tools export tab-separated text.
public struct CSVDelimiter: Equatable, Sendable {
  let byte: UInt8

  public static let comma = CSVDelimiter(byte: UInt8(ascii: ","))
  public static let semicolon = CSVDelimiter(byte: UInt8(ascii: ";"))
  public static let tab = CSVDelimiter(byte: 9)

  private init(byte: UInt8) { self.byte = byte }

  /// From an option's value: a single character such as ',' ';' '|', or a tab as `tab`, `\t` or the
  /// character itself. Not a quote, a line break, a space, a letter or a digit: those are text.
  public init?(_ text: String) {
    switch text {
    case "tab", "\\t", "\t": self = .tab
    case "comma": self = .comma
    case "semicolon": self = .semicolon
    default:
      guard text.utf8.count == 1, let byte = text.utf8.first, byte > 0x20, byte < 0x7F, byte != UInt8(ascii: "\""),
        !Character(Unicode.Scalar(byte)).isLetter, !Character(Unicode.Scalar(byte)).isNumber
      else { return nil }
      self.init(byte: byte)
    }
  }

  var scalar: Unicode.Scalar { Unicode.Scalar(byte) }

  /// As messages show it: `','`, `';'`, `tab`.
  public var name: String { self == .tab ? "tab" : "'\(Character(scalar))'" }
}

/// Which CSV columns, or JSON keys, hold a record's message and its id: `text` and `id` unless the
/// audit is told other names. Chosen by name, never by position: a header is required, and a column
/// that moves between two exports is still found by its name, where a number would quietly audit
/// whatever column came to stand there.
public struct RecordKeys: Sendable {
  public var text = "text"
  public var id = "id"
  /// The id column was named on the command line, so a header without it is an error; the default
  /// `id` may be absent (the records then have no id).
  public var idRequired = false

  public init(text: String = "text", id: String = "id", idRequired: Bool = false) {
    self.text = text
    self.id = id
    self.idRequired = idRequired
  }

  /// Why a CSV header with these column names cannot be audited with these keys, as one line: the
  /// column missing, the columns there are, a likely fix, and the option that names the column.
  func missing(in names: [String], delimiter: CSVDelimiter) -> String? {
    let wanted = [(text, "the message text", "--text-column", true), (id, "the record ids", "--id-column", idRequired)]
    guard let (name, role, option, _) = wanted.first(where: { $0.3 && !names.contains($0.0) }) else { return nil }
    let columns = names.map { "'\($0)'" }.joined(separator: ", ")
    let said = "the CSV header has no column '\(name)' for \(role) (its columns: \(columns))"
    if names.count == 1, let other = [CSVDelimiter.semicolon, .tab, .comma].first(where: { $0 != delimiter && names[0].utf8.contains($0.byte) }) {
      return "\(said); it looks separated by \(other.name), not \(delimiter.name): give --delimiter \(other.name)."
    }
    if let near = Suggestions.nearest(to: name, in: names) { return "\(said); did you mean '\(near)'? Give it with \(option) \(near)." }
    if let position = Int(name), names.indices.contains(position - 1) {
      return "\(said); columns are chosen by name, not position: column \(position) is '\(names[position - 1])' (\(option) \(names[position - 1]))."
    }
    return "\(said). Name the column with \(option)."
  }
}

/// How audit records are written: JSON lines (the explain object plus id, line, the fingerprints a
/// resumed audit checks, and metadata) or CSV (one row per record, a fixed set of columns).
enum AuditRecordFormat {
  case jsonl(EngineFingerprints)
  case csv(labels: [String], delimiter: CSVDelimiter)

  var header: String? {
    guard case .csv(let labels, let delimiter) = self else { return nil }
    let perLabel = labels.flatMap { ["\($0)_probability", "\($0)_flagged"] }
    return (["line", "id", "error"] + perLabel + ["urgency", "urgency_reasons", "top_contributions", "spans", "rationale", "scope", "language", "scope_action", "metadata"]).joined(separator: String(delimiter.scalar))
  }

  /// Appends the record of `input` (without its line break) to `json`.
  func write(into json: inout JSONText, input: AuditInput, id: String?, decision: Decision?, error: String?, metadata: PassThrough) {
    switch self {
    case .jsonl(let engine):
      // The decision's own JSON with id, line, fingerprints and metadata put in front.
      json.raw("{\"id\":")
      if let id { json.string(id) } else { json.raw("null") }
      json.raw(",\"line\":\(input.line),\"fingerprints\":{\"input\":\"\(Fingerprint.text(input.fingerprint))\",")
      json.raw(engine.members)
      json.raw("}")
      if !metadata.isEmpty {
        json.raw(",\"metadata\":")
        json.bytes.append(contentsOf: metadata.json)
      }
      if let error {
        json.raw(",\"error\":")
        json.string(error)
        json.raw("}")
        return
      }
      json.raw(",")
      json.decision(decision!, opened: true)
    case .csv(let labels, let delimiter):
      var cells = [String(input.line), id ?? "", error ?? ""]
      for label in labels {
        let decided = decision?.label(label)
        cells += [decided.map { String(format: "%.4f", $0.probability) } ?? "", decided.map { $0.flagged ? "1" : "0" } ?? ""]
      }
      cells += [decision?.urgency.tier.rawValue ?? "", decision?.urgency.reasons ?? ""]
      let top = decision?.labels.flatMap { label in
        label.contributions.prefix(3).map { String(format: "%@ %@ %+.2f", label.label, $0.feature, $0.contribution) }
      } ?? []
      cells += [
        top.joined(separator: "; "), decision?.spans.map { "\($0.type):\($0.text)" }.joined(separator: "; ") ?? "",
        decision?.rationale ?? "", decision?.scope.scope.rawValue ?? "", decision?.scope.language ?? "", decision?.scope.action ?? "",
        String(decoding: metadata.json, as: UTF8.self),
      ]
      json.raw(cells.map { CSV.escape($0, delimiter: delimiter) }.joined(separator: String(delimiter.scalar)))
    }
  }
}
