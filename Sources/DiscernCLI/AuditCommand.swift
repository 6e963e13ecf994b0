import ArgumentParser
import Discern
import DiscernEncoder
import DiscernRules
import Foundation

struct AuditCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "audit",
    abstract: "Decide every record of a JSONL file: one output record per input line, in order, errors included.",
    discussion: """
      Each input line is a JSON object with 'text' (and optionally 'id' and any other keys, passed \
      through under 'metadata'). Each output line is the 'discern explain --json' object plus 'id' and \
      the input 'line'; a line that cannot be decided (invalid JSON or UTF-8, no 'text', over the size \
      limit) gives {"line", "id", "error"} instead. Reads and writes as it goes, in batches.
      """)

  @OptionGroup var rulesOptions: RulesOptions
  @OptionGroup var encoderOptions: EncoderOptions
  @OptionGroup var engineOptions: EngineOptions

  @Argument(help: "A JSONL or CSV file (CSV when it ends in .csv or with --csv), or '-' for standard input.")
  var input: String

  @Option(help: "Write the records here instead of standard output; CSV when it ends in .csv.")
  var out: String?

  @Flag(help: "Read the input as CSV (a header row naming 'text' and optionally 'id'; other columns pass through).")
  var csv = false

  @Flag(help: "Decide with the rules alone (the model's rules-only ablation): no encoder, much faster, less accurate.")
  var rulesOnly = false

  @Option(help: "Also write report.md and report.html (self-contained, charts inline) into this folder.")
  var report: String?

  @Option(help: "Also decide with these rules (the current ones as a baseline), and report every decision that flips: into --report DIR's impact.md, else to stderr.")
  var baselineRules: String?

  @Option(help: "Also decide with this model folder as a baseline, and report every decision that flips (with --baseline-rules, both form the baseline).")
  var baselineModel: String?

  @Flag(help: "Continue an interrupted audit (JSONL or CSV --out): keep the complete records already there, check they are this input's first records, and audit only the records after them.")
  var resume = false

  @Option(help: "Messages per batch (default 64 with the encoder, 256 rules-only).")
  var batch: Int?

  @Option(help: "Longest message accepted, in bytes of UTF-8.")
  var maxBytes: Int = 100_000

  var csvInput: Bool { csv || input.lowercased().hasSuffix(".csv") }
  var csvOutput: Bool { out?.lowercased().hasSuffix(".csv") ?? false }

  func validate() throws {
    if let batch, batch < 1 { throw ValidationError("--batch must be at least 1.") }
    if resume && out == nil { throw ValidationError("--resume needs --out FILE: the records to continue from.") }
    if resume && report != nil { throw ValidationError("--report needs the whole input in one run; leave out --resume.") }
    if resume && (baselineRules != nil || baselineModel != nil) { throw ValidationError("an impact diff needs the whole input in one run; leave out --resume.") }
  }

  func run() throws {
    guard let reader = input == "-" ? LineReader(handle: .standardInput) : LineReader(path: input) else {
      throw ValidationError("Cannot read '\(input)'.")
    }
    var records = CSVRecordReader(lines: reader)
    if csvInput, !records.readHeader() {
      throw ValidationError("'\(input)': \(records.headerError ?? "unreadable CSV header")")
    }
    // Rules-only needs no encoder weights: loading them would be most of a small audit's time.
    let encoder = rulesOnly ? nil : try encoderOptions.load(model: engineOptions.model)
    let engine = try engineOptions.load(rules: rulesOptions.rules, encoder: encoder, threads: encoderOptions.threads)
    let output: FileHandle
    // The input lines of the records an interrupted run already wrote, when resuming.
    var saved: [Int] = []
    let format: AuditRecordFormat = csvOutput ? .csv(labels: engine.heads.labels) : .jsonl
    // Whether the output already starts with the CSV header (an interrupted CSV audit).
    var headerWritten = false
    if let out {
      let resuming = resume && FileManager.default.fileExists(atPath: out)
      if resuming { (saved, headerWritten) = try Self.savedRecords(in: out, csvHeader: format.header) }
      // Opened in place (created or truncated, or appended to when resuming), never replaced: the
      // path may be a device such as /dev/null, or a file another process is watching.
      let descriptor = open(out, O_WRONLY | O_CREAT | (resuming ? O_APPEND : O_TRUNC), 0o644)
      guard descriptor >= 0 else { throw ValidationError("Cannot write '\(out)': \(String(cString: strerror(errno))).") }
      output = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
    } else {
      output = .standardOutput
    }
    var auditor = Auditor(engine: engine, maxBytes: maxBytes)
    auditor.variant = rulesOnly ? .rulesOnly : .fused
    auditor.format = format
    if report != nil { auditor.report = AuditReport(engine: engine, variant: auditor.variant) }
    if baselineRules != nil || baselineModel != nil {
      let model = baselineModel ?? engineOptions.model
      var options = engineOptions
      options.model = model
      let sameEncoder = encoderOptions.tunedFolder(model: model) == encoderOptions.tunedFolder(model: engineOptions.model)
      let encoder = sameEncoder || rulesOnly ? engine.encoder : try encoderOptions.load(model: model)
      auditor.baseline = try options.load(rules: baselineRules ?? rulesOptions.rules, encoder: encoder, threads: encoderOptions.threads)
      auditor.impact = AuditImpact()
    }
    if let header = format.header, !headerWritten { output.write(Data((header + "\n").utf8)) }
    var count = 0
    let done = saved.count
    // Set when the saved records are not this input's first records (another input, or edited).
    var mismatch: String? = nil
    let batchSize = batch ?? (rulesOnly ? 256 : 64)
    let batches = BatchReader { [csvInput, out] in
      var inputs: [AuditInput] = []
      while inputs.count < batchSize {
        let next: AuditInput
        if csvInput {
          guard let (line, bytes) = records.nextRecord() else { break }
          next = AuditInput(line: line, bytes: bytes, header: records.header)
        } else {
          guard let bytes = reader.next() else { break }
          next = AuditInput(line: count + 1, bytes: bytes)
        }
        count += 1
        if count > done {
          inputs.append(next)
        } else if next.line != saved[count - 1] {
          mismatch =
            "'\(out ?? "")' record \(count) is the record of input line \(saved[count - 1]), but the input's record \(count) "
            + "starts at line \(next.line); was it written from another input? Cannot resume from it."
          return nil
        }
      }
      return inputs.isEmpty ? nil : BatchReader.Batch(inputs: inputs, bytesRead: reader.bytesRead)
    }
    let writer = BackgroundWriter(output)
    let progress = isatty(STDERR_FILENO) == 1 ? AuditProgress(totalBytes: reader.totalBytes) : nil
    var audited = 0
    while let next = batches.next() {
      for block in auditor.decide(next.inputs) { writer.write(block) }
      audited += next.inputs.count
      progress?.show(records: audited, bytes: next.bytesRead)
    }
    writer.finish()
    progress?.finish()
    if let mismatch { throw ValidationError(mismatch) }
    if count < done {
      throw ValidationError("'\(out ?? "")' holds \(done) records but the input has only \(count); was it written from another input? Cannot resume from it.")
    }
    if done > 0 { progressLine("resumed after \(done) records already in '\(out ?? "")'") }
    progressLine("audited \(audited) records: \(audited - auditor.errors) decided, \(auditor.errors) errors")
    if let folder = report, let accumulated = auditor.report {
      try accumulated.write(to: folder, input: input)
      progressLine("wrote \(folder)/report.md and \(folder)/report.html")
    }
    if let impact = auditor.impact {
      let baseline = [baselineRules.map { "rules \($0)" }, baselineModel.map { "model \($0)" }].compactMap { $0 }.joined(separator: " and ")
      progressLine(impact.summary)
      if let folder = report {
        try impact.markdown(baseline: baseline).write(toFile: folder + "/impact.md", atomically: true, encoding: .utf8)
        progressLine("wrote \(folder)/impact.md")
      } else {
        progressLine(impact.markdown(baseline: baseline))
      }
    }
  }

  /// The input line of each record an earlier run left complete in `path` — JSON lines, or CSV rows
  /// after `csvHeader` (a quoted cell may hold line breaks; the first cell is the line) — and whether
  /// the CSV header is there, after cutting off a half-written last record. The lines must rise
  /// record by record (the auditor then checks them against the input's own records), or resuming
  /// would duplicate or skip records.
  static func savedRecords(in path: String, csvHeader header: String?) throws -> (lines: [Int], header: Bool) {
    guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("Cannot read '\(path)'.") }
    // Records end at line breaks (for CSV, those outside quotes).
    var records: [Range<Int>] = []
    var start = 0
    var quoted = false
    for (offset, byte) in data.enumerated() {
      if header != nil, byte == UInt8(ascii: "\"") { quoted.toggle() }
      if byte == UInt8(ascii: "\n"), !quoted {
        if offset > start { records.append(start..<offset) }
        start = offset + 1
      }
    }
    if start < data.count {
      guard let handle = FileHandle(forWritingAtPath: path) else { throw ValidationError("Cannot write '\(path)'.") }
      handle.truncateFile(atOffset: UInt64(start))
      handle.closeFile()
    }
    let noun = header == nil ? "record" : "row"
    var lines: [Int] = []
    var sawHeader = false
    for record in records {
      if let header, !sawHeader {
        guard String(decoding: data[record], as: UTF8.self) == header else {
          throw ValidationError("'\(path)' does not start with the audit's CSV header; cannot resume from it.")
        }
        sawHeader = true
        continue
      }
      let line =
        header == nil
        ? (try? JSONSerialization.jsonObject(with: data[record]) as? [String: Any])?["line"] as? Int
        : CSV.fields(String(decoding: data[record], as: UTF8.self))?.first.flatMap { Int($0) }
      guard let line else {
        let missing = header == nil ? "no 'line'" : "no line number first"
        throw ValidationError("'\(path)' \(noun) \(lines.count + 1) is not an audit \(noun) (\(missing)); cannot resume from it.")
      }
      guard line > (lines.last ?? 0) else {
        throw ValidationError(
          "'\(path)' \(noun) \(lines.count + 1) is the \(noun) of input line \(line), after line \(lines.last ?? 0); cannot resume from it.")
      }
      lines.append(line)
    }
    return (lines, sawHeader)
  }
}

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
  var variant: Engine.Variant = .fused
  var format: AuditRecordFormat = .jsonl
  var report: AuditReport? = nil
  /// The configuration a change is compared against, and what flipped.
  var baseline: Engine? = nil
  var impact: AuditImpact? = nil
  var errors = 0

  enum Parsed {
    case message(id: String?, text: String, metadata: PassThrough)
    case error(id: String?, reason: String)
  }

  func parse(_ input: AuditInput) -> Parsed {
    let bytes = input.bytes
    // JSON escapes can take six bytes per character; past that, the text cannot be within the limit
    // and the line is not worth parsing.
    guard bytes.count <= maxBytes * 6 + 4096 else {
      return .error(id: nil, reason: "record of \(bytes.count) bytes is over the size limit (\(maxBytes) bytes of text)")
    }
    guard let string = String(validating: bytes, as: UTF8.self) else {
      let offset = firstInvalidUTF8(bytes)
      return .error(id: nil, reason: "invalid UTF-8 at byte \(offset) of the \(input.header == nil ? "line" : "record")")
    }
    let id: String?
    let text: String?
    let hasText: Bool
    let metadata: PassThrough
    if let header = input.header {
      guard let values = CSV.fields(string) else { return .error(id: nil, reason: "unclosed quote in the CSV record") }
      guard values.count == header.count else {
        return .error(id: nil, reason: "\(values.count) CSV fields where the header has \(header.count)")
      }
      let cells = zip(header, values).map { ($0, $1) }
      id = cells.first { $0.0 == "id" }.map(\.1).flatMap { $0.isEmpty ? nil : $0 }
      text = cells.first { $0.0 == "text" }?.1
      hasText = true
      metadata = PassThrough(cells: cells.filter { $0.0 != "id" && $0.0 != "text" })
    } else {
      let object: JSONObjectLine
      do {
        object = try JSONObjectLine(bytes)
      } catch {
        return .error(id: nil, reason: error.description)
      }
      id = object.member("id").flatMap { member in
        object.string(member).flatMap { $0.isEmpty ? nil : $0 } ?? (Self.isNumber(object.raw(member)) ? object.raw(member) : nil)
      }
      let textMember = object.member("text")
      hasText = textMember != nil
      text = textMember.flatMap(object.string)
      metadata = PassThrough(object: object, leaving: ["id", "text"])
    }
    guard let text else {
      return .error(id: id, reason: hasText ? "'text' is not a string" : "no 'text' field")
    }
    guard text.utf8.count <= maxBytes else {
      return .error(id: id, reason: "message of \(text.utf8.count) bytes is over the size limit (\(maxBytes))")
    }
    return .message(id: id, text: text, metadata: metadata)
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
  mutating func decide(_ inputs: [AuditInput]) -> [[UInt8]] {
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
    let readings = variant == .fused ? engine.encoder?.read(texts) : nil
    let (format, variant, engine) = (self.format, self.variant, self.engine)
    let parts = parallelParts(inputs.count, threads: threads) { range -> [Part] in
      let matcher = PCRE2Matcher()
      var part = Part()
      for index in range {
        let item = parsed?[index] ?? parse(inputs[index])
        var decision: Decision? = nil
        switch item {
        case .message(let id, let text, let metadata):
          let reading = readings?[decisionOf[index]]
          decision = engine.decide(
            text, variant: variant, encoderLogits: reading.map { engine.heads.logits($0.embedding) }, modelSpans: reading?.spans ?? [],
            matcher: matcher)
          format.write(into: &part.block, line: inputs[index].line, id: id, decision: decision, error: nil, metadata: metadata)
        case .error(let id, let reason):
          part.errors += 1
          format.write(into: &part.block, line: inputs[index].line, id: id, decision: nil, error: reason, metadata: .none)
        }
        part.block.raw("\n")
        if keep { part.kept.append((item, decision)) }
      }
      return [part]
    }
    errors += parts.reduce(0) { $0 + $1.errors }
    guard keep else { return parts.map(\.block.bytes) }
    let kept = parts.flatMap(\.kept)
    if let baseline {
      let shared = baseline.encoder === engine.encoder ? readings : nil
      let before = baseline.decide(texts, variant: variant, readings: shared)
      for (index, (item, decision)) in kept.enumerated() {
        if case .message(let id, _, _) = item, let after = decision {
          impact?.add(baseline: before[decisionOf[index]], candidate: after, id: id, line: inputs[index].line)
        }
      }
    }
    for (index, (item, decision)) in kept.enumerated() {
      switch item {
      case .message(let id, _, let metadata): report?.add(decision!, id: id, line: inputs[index].line, metadata: metadata.fields)
      case .error: report?.addError()
      }
    }
    return parts.map(\.block.bytes)
  }

  /// One thread's share of a batch: its records, how many were errors, and (for the report and the
  /// impact diff) what each record parsed to and its decision.
  struct Part {
    var block = JSONText()
    var errors = 0
    var kept: [(Parsed, Decision?)] = []
  }
}

/// Lines of a file or stream as raw bytes (no decoding, so invalid UTF-8 reaches the auditor), read
/// in 1 MB chunks: memory holds one chunk and the current line.
final class LineReader {
  private let handle: FileHandle
  /// Bytes of the lines handed out so far, and the input's size when it is a regular file (for the ETA).
  private(set) var bytesRead = 0
  let totalBytes: Int?
  private var buffer: [UInt8] = []
  /// Where the unread part of `buffer` starts (consumed lines are not copied away one by one).
  private var start = 0
  private var finished = false

  init(handle: FileHandle, totalBytes: Int? = nil) {
    self.handle = handle
    self.totalBytes = totalBytes
  }

  convenience init?(path: String) {
    guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
    let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
    self.init(handle: handle, totalBytes: size)
  }

  func next() -> [UInt8]? {
    while true {
      if let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
        var end = newline
        if end > start, buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        defer { start = newline + 1 }
        bytesRead += newline + 1 - start
        return Array(buffer[start..<end])
      }
      if finished {
        guard start < buffer.count else { return nil }
        defer { buffer = []; start = 0 }
        bytesRead += buffer.count - start
        return Array(buffer[start...])
      }
      // Drop what was consumed, then read on.
      buffer.removeFirst(start)
      start = 0
      let chunk = handle.readData(ofLength: 1 << 20)
      if chunk.isEmpty { finished = true } else { buffer.append(contentsOf: chunk) }
    }
  }
}
