import Discern
import DiscernEncoder
import DiscernRules
import Foundation

/// One status line on a terminal: records, rate and, for a file, the time left.
final class AuditProgress {
  let totalBytes: Int?
  let start = Date()

  init(totalBytes: Int?) { self.totalBytes = totalBytes }

  func show(records: Int, bytes: Int) {
    let elapsed = max(0.001, Date().timeIntervalSince(start))
    var line = String(format: "\r  %d records, %.0f msg/s", records, Double(records) / elapsed)
    if let totalBytes, totalBytes > 0, bytes > 0 {
      let fraction = min(1, Double(bytes) / Double(totalBytes))
      line += String(format: ", %3.0f%%, about %.0f s left", fraction * 100, elapsed / fraction - elapsed)
    }
    FileHandle.standardError.write(Data((line + "\u{1B}[K").utf8))
  }

  func finish() { FileHandle.standardError.write(Data("\n".utf8)) }
}

/// Turns input lines into output records, keeping their order.
struct Auditor {
  let engine: Engine
  let maxBytes: Int
  let format: AuditRecordFormat
  /// Which columns or keys hold the message and the id, and what separates a CSV input's fields.
  var keys = RecordKeys()
  var delimiter = CSVDelimiter.comma
  var variant: Engine.Variant = .fused
  var report: AuditReport? = nil
  /// The configuration a change is compared against, and what flipped.
  var baseline: Engine? = nil
  var impact: AuditImpact? = nil
  /// Which records are written, and in what order (`--tier`, `--sort`).
  var selection = TierSelection.all
  var errors = 0
  /// Records written (all of them unless `--tier` leaves some out).
  var written = 0

  enum Parsed {
    case message(id: String?, text: String, metadata: PassThrough)
    case error(id: String?, reason: String)
  }

  func parse(_ input: AuditInput) -> Parsed {
    let bytes = input.bytes
    if let problem = input.problem { return .error(id: nil, reason: problem) }
    guard let string = String(validating: bytes, as: UTF8.self) else {
      let offset = firstInvalidUTF8(bytes)
      return .error(id: nil, reason: "invalid UTF-8 at byte \(offset) of the \(input.header == nil ? "line" : "record")")
    }
    let id: String?
    let text: String?
    let hasText: Bool
    let metadata: PassThrough
    if let header = input.header {
      guard let values = CSV.fields(string, delimiter: delimiter) else { return .error(id: nil, reason: "unclosed quote in the CSV record") }
      guard values.count == header.count else {
        return .error(id: nil, reason: "\(values.count) CSV fields where the header has \(header.count)")
      }
      let cells = zip(header, values).map { ($0, $1) }
      id = cells.first { $0.0 == keys.id }.map(\.1).flatMap { $0.isEmpty ? nil : $0 }
      text = cells.first { $0.0 == keys.text }?.1
      hasText = true
      metadata = PassThrough(cells: cells.filter { $0.0 != keys.id && $0.0 != keys.text })
    } else {
      let object: JSONObjectLine
      do {
        object = try JSONObjectLine(bytes)
      } catch {
        return .error(id: nil, reason: error.description)
      }
      id = object.member(keys.id).flatMap { member in
        object.string(member).flatMap { $0.isEmpty ? nil : $0 } ?? (Self.isNumber(object.raw(member)) ? object.raw(member) : nil)
      }
      let textMember = object.member(keys.text)
      hasText = textMember != nil
      text = textMember.flatMap(object.string)
      metadata = PassThrough(object: object, leaving: [keys.id, keys.text])
    }
    guard let text else {
      return .error(id: id, reason: hasText ? "'\(keys.text)' is not a string" : "no '\(keys.text)' field")
    }
    guard text.utf8.count <= maxBytes else {
      return .error(id: id, reason: "message of \(text.utf8.count) bytes is over the size limit (\(maxBytes))")
    }
    return .message(id: id, text: text, metadata: metadata)
  }

  /// The id and metadata cell a CSV row repeats of `input` (an error row has no metadata).
  func identity(_ input: AuditInput) -> (id: String?, metadata: String) {
    switch parse(input) {
    case .message(let id, _, let metadata): (id, String(decoding: metadata.json, as: UTF8.self))
    case .error(let id, _): (id, "")
    }
  }

  static func isNumber(_ raw: String) -> Bool { raw.first.map { $0 == "-" || $0.isASCII && $0.isNumber } ?? false }

  func firstInvalidUTF8(_ bytes: [UInt8]) -> Int {
    var low = 0, high = bytes.count
    // The longest valid prefix, by bisection on whole-prefix validity (cut points inside a scalar
    // count as invalid, which only moves the answer to that scalar's start).
    while low < high {
      let middle = (low + high + 1) / 2
      if String(validating: bytes.prefix(middle), as: UTF8.self) != nil { low = middle } else { high = middle - 1 }
    }
    return low
  }

  /// The records for a batch, newline-terminated, as one block of bytes per thread (in input order).
  /// Each thread takes a contiguous part and parses, decides and writes it on its own: one fork and
  /// join per batch. With the encoder the batch is parsed first and embedded in one batched pass on
  /// all the encoder's threads.
  mutating func decide(_ inputs: [AuditInput]) -> [AuditBlock] {
    let threads = engine.threads
    // Decisions are kept only for what reads them afterwards: the report and the impact diff.
    let keep = report != nil || baseline != nil
    var parsed: [Parsed]? = nil
    var texts: [String] = []
    var decisionOf = [Int](repeating: -1, count: inputs.count)
    if variant == .fused || baseline != nil {
      let all = parallelMap(inputs.count, threads: threads) { parse(inputs[$0]) }
      for (index, item) in all.enumerated() {
        if case .message(_, let text, _) = item {
          decisionOf[index] = texts.count
          texts.append(text)
        }
      }
      parsed = all
    }
    // One encoder pass gives each message's embedding and its tagger's spans (none without a tagger).
    let readings = variant == .fused && engine.encoder != nil ? engine.read(texts) : nil
    let (format, variant, engine, selection) = (self.format, self.variant, self.engine, self.selection)
    let parts = parallelParts(inputs.count, threads: threads, partsPerThread: 4) { range -> [Part] in
      let matcher = PCRE2Matcher()
      var part = Part()
      for index in range {
        let item = parsed?[index] ?? parse(inputs[index])
        var decision: Decision? = nil
        let record: (id: String?, error: String?, metadata: PassThrough)
        switch item {
        case .message(let id, let text, let metadata):
          let reading = readings?[decisionOf[index]]
          decision = engine.decide(
            text, variant: variant, encoderLogits: reading.map { engine.heads.logits($0.embedding) }, modelSpans: reading?.spans ?? [],
            matcher: matcher)
          record = (id, nil, metadata)
        case .error(let id, let reason):
          part.errors += 1
          record = (id, reason, .none)
        }
        let group: RecordGroup = decision.map { .tier($0.urgency.tier) } ?? .error
        if selection.keeps(group) {
          part.written += 1
          func put(_ json: inout JSONText) {
            format.write(into: &json, input: inputs[index], id: record.id, decision: decision, error: record.error, metadata: record.metadata)
            json.raw("\n")
          }
          if selection.sort == .urgency { put(&part.groups[group, default: JSONText()]) } else { put(&part.block) }
        }
        if keep { part.kept.append((item, decision)) }
      }
      return [part]
    }
    errors += parts.reduce(0) { $0 + $1.errors }
    written += parts.reduce(0) { $0 + $1.written }
    // Sorted: each part's records by group, parts in order, so each group keeps the input's order.
    let blocks = parts.flatMap { part in
      selection.sort == .urgency
        ? part.groups.sorted { $0.key < $1.key }.map { AuditBlock(group: $0.key, bytes: $0.value.bytes) }
        : [AuditBlock(group: nil, bytes: part.block.bytes)]
    }
    guard keep else { return blocks }
    let kept = parts.flatMap(\.kept)
    if let baseline {
      let shared = baseline.encoder === engine.encoder ? readings : nil
      let before = baseline.decide(texts, variant: variant, readings: shared)
      for (index, (item, decision)) in kept.enumerated() {
        if case .message(let id, _, let metadata) = item, let after = decision {
          impact?.add(
            baseline: before[decisionOf[index]], candidate: after, id: id, line: inputs[index].line,
            truth: { AuditReport.truth(metadata.fields, $0) })
        }
      }
    }
    for (index, (item, decision)) in kept.enumerated() {
      switch item {
      case .message(let id, _, let metadata): report?.add(decision!, id: id, line: inputs[index].line, metadata: metadata.fields)
      case .error: report?.addError()
      }
    }
    return blocks
  }

  /// One thread's share of a batch: its records, how many were errors, and (for the report and the
  /// impact diff) what each record parsed to and its decision.
  struct Part {
    var block = JSONText()
    /// With `--sort urgency`, the records by group instead.
    var groups: [RecordGroup: JSONText] = [:]
    var errors = 0
    var written = 0
    var kept: [(Parsed, Decision?)] = []
  }
}
