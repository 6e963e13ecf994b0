import Discern
import Foundation

/// One input record: the line it starts on and its raw bytes (a JSON object, or a CSV row with the
/// file's header).
struct AuditInput {
  let line: Int
  let bytes: [UInt8]
  var header: [String]? = nil
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
/// breaks, so one record can span several lines; it is numbered by the line it starts on.
struct CSVRecordReader {
  let lines: LineReader
  private(set) var header: [String]?
  private(set) var lineNumber = 0
  /// Set when the header itself is unusable: the audit cannot map columns and stops.
  private(set) var headerError: String?

  init(lines: LineReader) { self.lines = lines }

  /// The next record's first line and bytes (line breaks inside quotes kept).
  mutating func nextRecord() -> (line: Int, bytes: [UInt8])? {
    guard var record = lines.next() else { return nil }
    lineNumber += 1
    let start = lineNumber
    // An odd number of quote characters so far means a quoted field continues on the next line.
    func quotes(_ bytes: [UInt8]) -> Int { bytes.reduce(0) { $0 + ($1 == UInt8(ascii: "\"") ? 1 : 0) } }
    var open = quotes(record) % 2 == 1
    while open, let more = lines.next() {
      lineNumber += 1
      record.append(UInt8(ascii: "\n"))
      record.append(contentsOf: more)
      open = open != (quotes(more) % 2 == 1)
    }
    return (start, record)
  }

  /// Reads the header row; it must name a `text` column.
  mutating func readHeader() -> Bool {
    guard let (_, bytes) = nextRecord() else {
      headerError = "the CSV input is empty: it needs a header row with a 'text' column"
      return false
    }
    guard let line = String(validating: bytes, as: UTF8.self), let fields = CSV.fields(line) else {
      headerError = "line 1: the CSV header is not valid UTF-8 or has an unclosed quote"
      return false
    }
    let names = fields.map { $0.hasPrefix("\u{FEFF}") ? String($0.dropFirst()) : $0 }
    guard names.contains("text") else {
      headerError = "line 1: the CSV header has no 'text' column (columns: \(names.joined(separator: ", ")))"
      return false
    }
    header = names
    return true
  }
}

enum CSV {
  /// The fields of one record, or nil when a quote is left open.
  static func fields(_ record: String) -> [String]? {
    var fields: [String] = []
    var field = ""
    var quoted = false
    var iterator = record.makeIterator()
    var pending: Character? = nil
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
      } else if c == "," {
        fields.append(field)
        field = ""
      } else {
        field.append(c)
      }
    }
    guard !quoted else { return nil }
    fields.append(field)
    return fields
  }

  static func escape(_ value: String) -> String {
    guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
    return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
  }
}

/// How audit records are written: JSON lines (the explain object plus id, line and metadata) or CSV
/// (one row per record, a fixed set of columns).
enum AuditRecordFormat {
  case jsonl
  case csv(labels: [String])

  var header: String? {
    guard case .csv(let labels) = self else { return nil }
    let perLabel = labels.flatMap { ["\($0)_probability", "\($0)_flagged"] }
    return (["line", "id", "error"] + perLabel + ["top_contributions", "spans", "rationale", "metadata"]).joined(separator: ",")
  }

  /// Appends one record (without its line break) to `json`.
  func write(into json: inout JSONText, line: Int, id: String?, decision: Decision?, error: String?, metadata: PassThrough) {
    switch self {
    case .jsonl:
      // The decision's own JSON with id, line and metadata put in front.
      json.raw("{\"id\":")
      if let id { json.string(id) } else { json.raw("null") }
      json.raw(",\"line\":\(line)")
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
    case .csv(let labels):
      var cells = [String(line), id ?? "", error ?? ""]
      for label in labels {
        let decided = decision?.label(label)
        cells += [decided.map { String(format: "%.4f", $0.probability) } ?? "", decided.map { $0.flagged ? "1" : "0" } ?? ""]
      }
      let top = decision?.labels.flatMap { label in
        label.contributions.prefix(3).map { String(format: "%@ %@ %+.2f", label.label, $0.feature, $0.contribution) }
      } ?? []
      cells += [
        top.joined(separator: "; "), decision?.spans.map { "\($0.type):\($0.text)" }.joined(separator: "; ") ?? "",
        decision?.rationale ?? "", String(decoding: metadata.json, as: UTF8.self),
      ]
      json.raw(cells.map(CSV.escape).joined(separator: ","))
    }
  }
}
