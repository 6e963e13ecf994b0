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
      the input 'line', and 'fingerprints' of the input line, the rules and the model (what --resume \
      checks); a line that cannot be decided (invalid JSON or UTF-8, no 'text', over the size limit) \
      gives {"line", "id", "fingerprints", "error"} instead. Reads and writes as it goes, in batches.

      CSV input has a header row; --text-column and --id-column name the columns that hold the \
      message and its id (by name: a header is required, and a column that moves between exports is \
      still found), and --delimiter the separator (';' or tab exports). A CSV --out is written with \
      the same delimiter, so that it opens in the tool the input came from.
      """)

  @OptionGroup var rulesOptions: RulesOptions
  @OptionGroup var encoderOptions: EncoderOptions
  @OptionGroup var engineOptions: EngineOptions

  @Argument(help: "A JSONL or CSV file (CSV when it ends in .csv or with --csv), or '-' for standard input.")
  var input: String

  @Option(help: "Write the records here instead of standard output; CSV when it ends in .csv.")
  var out: String?

  @Flag(help: "Read the input as CSV (a header row naming the text column and optionally the id column; other columns pass through).")
  var csv = false

  @Option(help: ArgumentHelp("The column (CSV) or key (JSONL) that holds the message.", valueName: "name"))
  var textColumn: String = "text"

  @Option(help: ArgumentHelp("The column (CSV) or key (JSONL) that holds the record's id (default: 'id', when there is one).", valueName: "name"))
  var idColumn: String?

  @Option(help: ArgumentHelp("The CSV field delimiter, of the input and of a CSV --out: ',', ';', tab (as 'tab' or '\\t') or another single character.", valueName: "char"))
  var delimiter: CSVDelimiter = .comma

  @Flag(help: "Decide with the rules alone (the model's rules-only ablation): no encoder, much faster, less accurate.")
  var rulesOnly = false

  @Option(help: "Also write report.md and report.html (self-contained, charts inline) into this folder.")
  var report: String?

  @Option(help: "Also decide with these rules (the current ones as a baseline), and report every decision that flips: into --report DIR's impact.md, else to stderr.")
  var baselineRules: String?

  @Option(help: "Also decide with this model folder as a baseline, and report every decision that flips (with --baseline-rules, both form the baseline).")
  var baselineModel: String?

  @Flag(help: "Continue an interrupted audit (JSONL or CSV --out): keep the complete records already there, check they are this input's first records decided by these rules and this model, and audit only the records after them.")
  var resume = false

  @Option(
    name: .customLong("tier"),
    help: "Write only the decisions of this urgency tier (repeat it for more: --tier urgent --tier review) and every error record; the summary says how many decisions were left out. Default: every record.")
  var tiers: [UrgencyTier] = []

  @Option(help: "The records' order: 'input' (the default), or 'urgency': most urgent tier first, the input's order within a tier, error records last (all but the urgent records wait in temporary files until the input ends).")
  var sort: AuditSort = .input

  @Option(help: "Messages per batch (default 64 with the encoder, 256 rules-only).")
  var batch: Int?

  @Option(help: "Longest message accepted, in bytes of UTF-8.")
  var maxBytes: Int = 100_000

  var csvInput: Bool { csv || input.lowercased().hasSuffix(".csv") }
  var keys: RecordKeys { RecordKeys(text: textColumn, id: idColumn ?? "id", idRequired: idColumn != nil) }
  var csvOutput: Bool { out?.lowercased().hasSuffix(".csv") ?? false }

  /// Bounds that keep every size the audit computes from them far from overflow.
  static let maxBytesRange = 1...(1 << 30)
  static let batchRange = 1...65_536

  /// Longest input line or record read whole: JSON escapes can take six bytes per character, so past
  /// this the text cannot be within --max-bytes and the line is skipped unread, as an error record.
  var maxRecordBytes: Int { maxBytes * 6 + 4096 }

  func validate() throws {
    if let batch, !Self.batchRange.contains(batch) {
      throw ValidationError("--batch must be between \(Self.batchRange.lowerBound) and \(Self.batchRange.upperBound) messages; got \(batch).")
    }
    guard Self.maxBytesRange.contains(maxBytes) else {
      throw ValidationError(
        "--max-bytes must be between \(Self.maxBytesRange.lowerBound) and \(Self.maxBytesRange.upperBound) (1 GiB); got \(maxBytes).")
    }
    if resume && out == nil { throw ValidationError("--resume needs --out FILE: the records to continue from.") }
    if delimiter != .comma && !csvInput && !csvOutput {
      throw ValidationError("--delimiter is for CSV: the input is read as JSONL (give --csv, or a file ending in .csv) and --out is not a .csv file.")
    }
    if textColumn == idColumn { throw ValidationError("--text-column and --id-column are both '\(textColumn)'; the id needs a column of its own.") }
    if resume && report != nil { throw ValidationError("--report needs the whole input in one run; leave out --resume.") }
    if resume && (!tiers.isEmpty || sort != .input) {
      throw ValidationError("--resume continues after the records already written, in the input's order; leave out --tier and --sort.")
    }
    if resume && (baselineRules != nil || baselineModel != nil) { throw ValidationError("an impact diff needs the whole input in one run; leave out --resume.") }
  }

  func run() throws {
    let (lines, inputFile) = try openInput()
    // The output is opened and locked before the engine loads, so that a refusal comes at once, and
    // nothing in it is emptied before the checks.
    let output = try out.map { try OutputFile.audit(path: $0, input: inputFile, inputName: input == "-" ? "on standard input" : "'\(input)'", keep: resume) }
      ?? .standardOutput
    let inputs = AuditInputReader(lines: lines, csv: csvInput, maxBytes: maxBytes, delimiter: delimiter)
    try inputs.readHeader(keys: keys)
    // Rules-only needs no encoder weights: loading them would be most of a small audit's time.
    let encoder = rulesOnly ? nil : try encoderOptions.load(model: engineOptions.model)
    let engine = try engineOptions.load(rules: rulesOptions.rules, encoder: encoder, threads: encoderOptions.threads)
    let variant: Engine.Variant = rulesOnly ? .rulesOnly : .fused
    let fingerprints = try EngineFingerprints(
      rules: rulesOptions.rules, policy: engineOptions.policy, model: engineOptions.model, variant: variant, encoder: engine.encoder?.fingerprint,
      lexicon: encoderOptions.lexicon, ruleLexicons: engine.ruleSet.lexicons)
    let format: AuditRecordFormat = csvOutput ? .csv(labels: engine.heads.labels, delimiter: delimiter) : .jsonl(fingerprints)
    var auditor = Auditor(engine: engine, maxBytes: maxBytes, format: format, keys: keys, delimiter: delimiter)
    auditor.variant = variant
    auditor.selection = TierSelection(tiers: tiers.isEmpty ? nil : Set(tiers), sort: sort)
    if report != nil { auditor.report = AuditReport(engine: engine, variant: auditor.variant) }
    if baselineRules != nil || baselineModel != nil {
      let model = try baselineModel ?? engineOptions.model
      var options = engineOptions
      options.modelFlag = model
      let sameEncoder = try encoderOptions.tunedFolder(model: model) == encoderOptions.tunedFolder(model: engineOptions.model)
      let encoder = sameEncoder || rulesOnly ? engine.encoder : try encoderOptions.load(model: model)
      auditor.baseline = try options.load(rules: baselineRules ?? rulesOptions.rules, encoder: encoder, threads: encoderOptions.threads)
      auditor.impact = AuditImpact()
    }
    let (done, headerWritten) = try resume ? resumeAfterSaved(in: output, auditor: auditor, engine: fingerprints, inputs: inputs) : (0, false)
    if let header = format.header, !headerWritten { try output.write(header + "\n") }
    let batchSize = batch ?? (rulesOnly ? 256 : 64)
    let batches = BatchReader {
      var next: [AuditInput] = []
      while next.count < batchSize, let record = inputs.next() { next.append(record) }
      return next.isEmpty ? nil : BatchReader.Batch(inputs: next, bytesRead: lines.bytesRead)
    }
    let writer = BackgroundWriter(output)
    let progress = isatty(STDERR_FILENO) == 1 ? AuditProgress(totalBytes: lines.totalBytes) : nil
    var audited = 0
    let held = HeldRecords()
    while writer.failure == nil, let next = batches.next() {
      for block in auditor.decide(next.inputs) {
        if let group = block.group, !auditor.selection.writesAtOnce(group) { try held.hold(block.bytes, as: group) } else { writer.write(block.bytes) }
      }
      audited += next.inputs.count
      progress?.show(records: audited, bytes: next.bytesRead)
    }
    if writer.failure == nil { try held.release(to: writer) }
    try writer.finish()
    progress?.finish()
    if let failure = lines.failure {
      throw CommandError("cannot read \(lines.name) past its first \(inputs.count) records: \(failure); their records were written.")
    }
    if done > 0 { progressLine("resumed after \(done) records already in '\(out ?? "")'") }
    progressLine("audited \(audited) records: \(audited - auditor.errors) decided, \(auditor.errors) errors")
    if let kept = auditor.selection.tiers {
      let names = UrgencyTier.allCases.filter(kept.contains).map(\.rawValue).joined(separator: ", ")
      progressLine("wrote \(auditor.written) records (--tier \(names) and every error record): \(audited - auditor.written) decisions of other tiers left out")
    }
    let baseline = [baselineRules.map { "rules \($0)" }, baselineModel.map { "model \($0)" }].compactMap { $0 }.joined(separator: " and ")
    if let folder = report, let accumulated = auditor.report {
      try accumulated.write(to: folder, input: input, impact: auditor.impact.map { ($0, baseline) })
      progressLine("wrote \(folder)/report.md and \(folder)/report.html")
    }
    if let impact = auditor.impact {
      progressLine(impact.summary)
      if let folder = report {
        try impact.markdown(baseline: baseline).write(toFile: folder + "/impact.md", atomically: true, encoding: .utf8)
        progressLine("wrote \(folder)/impact.md")
      } else {
        progressLine(impact.markdown(baseline: baseline))
      }
    }
  }

  /// Checks the records an interrupted audit left in `--out` against this input and engine, reading
  /// the input up to just after them, and only once they pass cuts off the half-written record at
  /// the end. Returns how many records are done and whether the CSV header is there.
  func resumeAfterSaved(in output: OutputFile, auditor: Auditor, engine: EngineFingerprints, inputs: AuditInputReader) throws -> (Int, Bool) {
    // A record repeats its text (escaped) with spans and rationale: far past the input's limit a
    // complete line cannot be an audit record, and is not read whole.
    var saved = try SavedRecords(
      path: out ?? "", csvHeader: auditor.format.header, delimiter: delimiter, maxRecordBytes: max(4 << 20, maxRecordBytes * 32))
    let done = try ResumeCheck(auditor: auditor, engine: engine).run(&saved, against: inputs)
    if output.isRegularFile { try output.truncate(to: saved.completeBytes) }
    return (done, saved.sawHeader)
  }

  /// The input's lines, and which file it is when it is a regular file (standard input may be one).
  func openInput() throws -> (LineReader, FileIdentity?) {
    let descriptor = input == "-" ? STDIN_FILENO : open(input, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { throw CommandError("cannot read '\(input)': \(String(cString: strerror(errno))).") }
    var info = stat()
    if fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
      throw CommandError("'\(input)' is a directory; give a JSONL or CSV file, or '-' for standard input.")
    }
    let name = input == "-" ? "standard input" : "'\(input)'"
    return (LineReader(descriptor: descriptor, name: name, maxLineBytes: maxRecordBytes, owned: input != "-"), FileIdentity(descriptor: descriptor))
  }
}

extension CSVDelimiter: ExpressibleByArgument {
  init?(argument: String) { self.init(argument) }
  var defaultValueDescription: String { name }
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
    let parts = parallelParts(inputs.count, threads: threads) { range -> [Part] in
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
