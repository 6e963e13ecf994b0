import Discern
import DiscernRules
import Foundation

/// What decided an audit's records, as every JSONL record carries it: a fingerprint of the rules
/// (the rule packs and the policy), one of the model (its files, the variant, and for the fused
/// variant the encoder and the gloss lexicon), and the encoder's own fingerprint (nil for
/// rules-only), named apart so a reviewer sees which encoder read the message. A resumed audit must
/// decide as the interrupted one did.
public struct EngineFingerprints: Equatable, Sendable {
  public let rules: String
  public let model: String
  public let encoder: String?
  /// `"encoder":"…","model":"…","rules":"…"`, written into every record; no `encoder` for rules-only
  /// (every fingerprint stays a string, as readers of older records expect).
  let members: String

  init(rules: String, model: String, encoder: String?) {
    self.rules = rules
    self.model = model
    self.encoder = encoder
    members = (encoder.map { "\"encoder\":\"\($0)\"," } ?? "") + "\"model\":\"\(model)\",\"rules\":\"\(rules)\""
  }

  /// The same engine: the model's fingerprint already covers the encoder, so records written before
  /// the encoder was named apart still resume.
  public static func == (a: EngineFingerprints, b: EngineFingerprints) -> Bool { a.rules == b.rules && a.model == b.model }

  public init(
    rules folder: String, policy: String, model: String, variant: Engine.Variant, encoder: String?, lexicon: String?,
    ruleLexicons: [Lexicon] = []
  ) {
    let contents = { (path: String) in FileManager.default.contents(atPath: path) ?? Data() }
    var rules = Fingerprint()
    let packs = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }
    for name in packs.sorted() {
      rules.mix(name)
      rules.mix(contents(folder + "/" + name))
    }
    rules.mix(contents(policy))
    // A pack names its lexicon by path, outside the folder: its rows change decisions as a rule does.
    for lexicon in ruleLexicons {
      rules.mix(lexicon.name + lexicon.version)
      let encoder = JSONEncoder()
      encoder.outputFormatting = .sortedKeys  // the same bytes in every process
      if let rows = try? encoder.encode(lexicon.entries) { rules.mix(rows) }
    }
    var hash = Fingerprint()
    for name in ["model.json", "heads.safetensors"] { hash.mix(contents(model + "/" + name)) }
    hash.mix(variant.rawValue)
    if variant == .fused {
      hash.mix(encoder ?? "")
      if let lexicon { hash.mix(contents(lexicon)) }
    }
    self.init(rules: Fingerprint.text(rules.value), model: Fingerprint.text(hash.value), encoder: variant == .fused ? encoder : nil)
  }
}

/// One complete record an interrupted audit left in its output: what it says about the input record
/// and the engine it came from.
struct SavedRecord {
  let line: Int
  /// JSONL records: the fingerprints written with it. CSV rows have no column for them.
  var input: String? = nil
  var engine: EngineFingerprints? = nil
  /// CSV rows: the id and the metadata cell, what the row repeats of its input.
  var id: String? = nil
  var metadata: String? = nil
}

/// The complete records an interrupted audit left in its `--out` file — JSON lines, or CSV rows after
/// the audit's header (a quoted cell may hold line breaks) — read one at a time, so memory holds one
/// record however long the file. The half-written record an interruption leaves last is not one of them.
struct SavedRecords {
  let path: String
  let csvHeader: String?
  let delimiter: CSVDelimiter
  private let lines: LineReader
  /// Complete records handed out so far.
  private(set) var count = 0
  /// Bytes of the header and the complete records read so far: the file is cut here once the
  /// resume is accepted.
  private(set) var completeBytes = 0
  /// Whether the file starts with the audit's CSV header.
  private(set) var sawHeader = false
  private var lastLine = 0

  init(path: String, csvHeader: String?, delimiter: CSVDelimiter, maxRecordBytes: Int) throws(AuditError) {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { throw AuditError.resume("cannot read '\(path)' to resume from it: \(String(cString: strerror(errno)))") }
    self.path = path
    self.csvHeader = csvHeader
    self.delimiter = delimiter
    lines = LineReader(descriptor: descriptor, name: "'\(path)'", maxLineBytes: maxRecordBytes, owned: true)
  }

  var noun: String { csvHeader == nil ? "record" : "row" }

  /// The next complete record; nil after the last.
  mutating func next() throws(AuditError) -> SavedRecord? {
    while let bytes = try nextComplete() {
      completeBytes = lines.bytesRead
      if let csvHeader, !sawHeader {
        guard String(decoding: bytes, as: UTF8.self) == csvHeader else {
          throw AuditError.resume("'\(path)' does not start with the audit's CSV header; cannot resume from it.")
        }
        sawHeader = true
        continue
      }
      if bytes.isEmpty { continue }
      let record = try parse(bytes)
      guard record.line > lastLine else {
        throw AuditError.resume(
          "'\(path)' \(noun) \(count + 1) is the \(noun) of input line \(record.line), after line \(lastLine); cannot resume from it.")
      }
      lastLine = record.line
      count += 1
      return record
    }
    return nil
  }

  /// The bytes of the next record that ends in a line break (outside quotes, for CSV); nil at the
  /// end, and for a last record cut short.
  private mutating func nextComplete() throws(AuditError) -> [UInt8]? {
    var record: [UInt8] = []
    // Our own CSV doubles every quote inside a cell, so an odd count so far means a cell is open.
    var open = false
    repeat {
      guard let line = lines.next() else {
        if let failure = lines.failure { throw AuditError.resume("cannot read '\(path)': \(failure)") }
        return nil
      }
      guard case .bytes(let bytes) = line else {
        guard lines.lastLineEnded else { return nil }
        throw AuditError.resume("'\(path)' \(noun) \(count + 1) is longer than any audit \(noun); cannot resume from it.")
      }
      if open { record.append(UInt8(ascii: "\n")) }
      record.append(contentsOf: bytes)
      if csvHeader != nil, bytes.reduce(0, { $0 + ($1 == UInt8(ascii: "\"") ? 1 : 0) }) % 2 == 1 { open.toggle() }
    } while open
    return lines.lastLineEnded ? record : nil
  }

  private func parse(_ bytes: [UInt8]) throws(AuditError) -> SavedRecord {
    if csvHeader != nil {
      let cells = CSV.fields(String(decoding: bytes, as: UTF8.self), delimiter: delimiter) ?? []
      guard cells.count >= 3, let line = Int(cells[0]) else {
        throw AuditError.resume("'\(path)' row \(count + 1) is not an audit row (no line number first); cannot resume from it.")
      }
      return SavedRecord(line: line, id: cells[1].isEmpty ? nil : cells[1], metadata: cells.last)
    }
    guard let object = try? JSONObjectLine(bytes), let lineMember = object.member("line"), let line = Int(object.raw(lineMember)) else {
      throw AuditError.resume("'\(path)' record \(count + 1) is not an audit record (no 'line'); cannot resume from it.")
    }
    var record = SavedRecord(line: line)
    if let member = object.member("fingerprints"), let prints = try? JSONObjectLine(Array(object.bytes[member.value])) {
      let value = { (key: String) in prints.member(key).flatMap(prints.string) }
      record.input = value("input")
      if let rules = value("rules"), let model = value("model") { record.engine = EngineFingerprints(rules: rules, model: model, encoder: value("encoder")) }
    }
    return record
  }
}

/// Whether an interrupted audit's records are this input's first records, decided as this engine
/// decides: read record by record beside the input, nothing kept. Refusing touches nothing.
struct ResumeCheck {
  let auditor: Auditor
  let engine: EngineFingerprints
  let fix = "Cannot resume from it; audit into a new --out, or resume with the input, rules and model it was started with."

  /// How many records are done; the input is read up to just after them.
  func run(_ saved: inout SavedRecords, against inputs: AuditInputReader) throws(AuditError) -> Int {
    let path = saved.path
    // A record that came from other text is reported after any record whose line numbers disagree:
    // those say more plainly that the output is another input's.
    var otherText: String? = nil
    while let record = try saved.next() {
      let number = saved.count, noun = saved.noun
      if let prints = record.engine, prints != engine {
        throw AuditError.resume(
          prints.rules != engine.rules
            ? "'\(path)' \(noun) \(number) was decided with other rules or policy (\(prints.rules)) than this audit's (\(engine.rules)). \(fix)"
            : "'\(path)' \(noun) \(number) was decided by another model (\(prints.model)) than this audit's (\(engine.model): "
              + "another --model, encoder or --rules-only). \(fix)")
      }
      if saved.csvHeader == nil, record.input == nil || record.engine == nil {
        throw AuditError.resume(
          "'\(path)' record \(number) has no fingerprints (written by an earlier discern), so it cannot be checked against this input. "
            + "Audit into a new --out.")
      }
      guard let input = inputs.next() else {
        if let failure = inputs.lines.failure { throw AuditError.input("cannot read \(inputs.lines.name): \(failure)") }
        while try saved.next() != nil {}
        throw otherText.map(AuditError.resume)
          ?? AuditError.resume(
            "'\(path)' holds \(saved.count) records but the input has only \(number - 1); was it written from another input? Cannot resume from it.")
      }
      guard input.line == record.line else {
        throw AuditError.resume(
          "'\(path)' record \(number) is the record of input line \(record.line), but the input's record \(number) "
            + "starts at line \(input.line); was it written from another input? Cannot resume from it.")
      }
      if otherText == nil, let difference = difference(record, input) {
        otherText = "'\(path)' \(noun) \(number) is not the \(noun) of this input's line \(input.line): \(difference); was it written from another input, or was the input edited? \(fix)"
      }
    }
    if let otherText { throw AuditError.resume(otherText) }
    return saved.count
  }

  /// How the saved record differs from what `input` gives, if it does.
  func difference(_ record: SavedRecord, _ input: AuditInput) -> String? {
    if let saved = record.input {
      let fingerprint = Fingerprint.text(input.fingerprint)
      return saved == fingerprint ? nil : "it was audited from other text (input fingerprint \(saved), the line's is \(fingerprint))"
    }
    let (id, metadata) = auditor.identity(input)
    if record.id != id { return "it holds id '\(record.id ?? "")', the line has id '\(id ?? "")'" }
    if record.metadata != metadata { return "its metadata cell differs from the line's other cells" }
    return nil
  }
}
