import Discern
import DiscernRules
import Foundation

/// What an audit reads, writes and keeps: the plain settings behind `discern audit`'s options, for
/// any caller (the command, a service, a test).
public struct AuditConfiguration {
  /// A JSONL or CSV file, or "-" for standard input.
  public var input: String
  /// Where the records go (CSV when it ends in .csv); nil for standard output.
  public var out: String?
  /// Read the input as CSV with a header row.
  public var csvInput: Bool
  public var keys: RecordKeys
  /// The CSV field delimiter, of the input and of a CSV `out`.
  public var delimiter: CSVDelimiter
  /// Fused (rules and encoder) or rules-only.
  public var variant: Engine.Variant
  /// Keep what a report needs (`AuditSummary.report`).
  public var report: Bool
  /// Continue the records already in `out` after checking them.
  public var resume: Bool
  /// The tiers whose decisions are written (every error record is); nil for all.
  public var tiers: Set<UrgencyTier>?
  public var sort: AuditSort
  /// Messages decided per batch.
  public var batch: Int
  /// Longest message accepted, in bytes of UTF-8.
  public var maxBytes: Int
  /// Draw a status line on standard error as records are decided.
  public var progress: Bool

  /// Bounds that keep every size the audit computes from them far from overflow.
  public static let maxBytesRange = 1...(1 << 30)
  public static let batchRange = 1...65_536

  public init(
    input: String, out: String? = nil, csvInput: Bool? = nil, keys: RecordKeys = RecordKeys(), delimiter: CSVDelimiter = .comma,
    variant: Engine.Variant = .fused, report: Bool = false, resume: Bool = false, tiers: Set<UrgencyTier>? = nil, sort: AuditSort = .input,
    batch: Int? = nil, maxBytes: Int = 100_000, progress: Bool = false
  ) {
    self.input = input
    self.out = out
    self.csvInput = csvInput ?? input.lowercased().hasSuffix(".csv")
    self.keys = keys
    self.delimiter = delimiter
    self.variant = variant
    self.report = report
    self.resume = resume
    self.tiers = tiers
    self.sort = sort
    self.batch = batch ?? 256
    self.maxBytes = maxBytes
    self.progress = progress
  }

  public var csvOutput: Bool { out?.lowercased().hasSuffix(".csv") ?? false }

  /// Longest input line or record read whole: JSON escapes can take six bytes per character, so past
  /// this the text cannot be within `maxBytes` and the line is skipped unread, as an error record.
  public var maxRecordBytes: Int { maxBytes * 6 + 4096 }
}

/// What an audit did, for its summary lines; the report and the impact diff when they were asked for.
public struct AuditSummary {
  /// Records already in `out` that a resumed audit kept.
  public let resumed: Int
  public let audited: Int
  public let errors: Int
  /// Records written (all of them unless `tiers` left some out).
  public let written: Int
  public let report: AuditReport?
  public let impact: AuditImpact?
}

/// One audit: input and output opened (and a CSV header read) before any engine loads, so that a
/// refusal comes at once; then every record decided, one output record per input record.
public final class AuditRun {
  public let configuration: AuditConfiguration
  private let lines: LineReader
  private let inputs: AuditInputReader
  private let output: OutputFile

  /// Opens and checks the input and the output. Nothing in the output is emptied before the checks:
  /// the same file as the input, or a file another audit is writing, is refused as it was found.
  public init(_ configuration: AuditConfiguration) throws(AuditError) {
    self.configuration = configuration
    let input = configuration.input
    let descriptor = input == "-" ? STDIN_FILENO : open(input, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { throw AuditError.input("cannot read '\(input)': \(String(cString: strerror(errno))).") }
    var info = stat()
    if fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
      if input != "-" { close(descriptor) }
      throw AuditError.input("'\(input)' is a directory; give a JSONL or CSV file, or '-' for standard input.")
    }
    let name = input == "-" ? "standard input" : "'\(input)'"
    // Standard input may be a regular file too: then it is checked against --out as well.
    let inputFile = FileIdentity(descriptor: descriptor)
    lines = LineReader(descriptor: descriptor, name: name, maxLineBytes: configuration.maxRecordBytes, owned: input != "-")
    output = try configuration.out.map { (path) throws(AuditError) in
      try OutputFile.audit(path: path, input: inputFile, inputName: input == "-" ? "on standard input" : "'\(input)'", keep: configuration.resume)
    } ?? .standardOutput
    inputs = AuditInputReader(lines: lines, csv: configuration.csvInput, maxBytes: configuration.maxBytes, delimiter: configuration.delimiter)
    try inputs.readHeader(keys: configuration.keys)
  }

  /// Decides every record with `engine` and writes its record, in batches, reading and writing as it
  /// goes. `fingerprints` name what decided (every JSONL record carries them; a resume checks them);
  /// with a `baseline` engine, every decision that flips against it goes into the summary's impact.
  public func run(engine: Engine, fingerprints: EngineFingerprints, baseline: Engine? = nil) throws(AuditError) -> AuditSummary {
    let configuration = configuration
    let format: AuditRecordFormat =
      configuration.csvOutput ? .csv(labels: engine.heads.labels, delimiter: configuration.delimiter) : .jsonl(fingerprints)
    var auditor = Auditor(engine: engine, maxBytes: configuration.maxBytes, format: format, keys: configuration.keys, delimiter: configuration.delimiter)
    auditor.variant = configuration.variant
    auditor.selection = TierSelection(tiers: configuration.tiers, sort: configuration.sort)
    if configuration.report { auditor.report = AuditReport(engine: engine, variant: auditor.variant) }
    if let baseline {
      auditor.baseline = baseline
      auditor.impact = AuditImpact()
    }
    let (done, headerWritten) = try configuration.resume ? resumeAfterSaved(auditor: auditor, engine: fingerprints) : (0, false)
    if let header = format.header, !headerWritten { try output.write(header + "\n") }
    let (inputs, lines, batchSize) = (self.inputs, self.lines, configuration.batch)
    let batches = BatchReader {
      var next: [AuditInput] = []
      while next.count < batchSize, let record = inputs.next() { next.append(record) }
      return next.isEmpty ? nil : BatchReader.Batch(inputs: next, bytesRead: lines.bytesRead)
    }
    let writer = BackgroundWriter(output)
    let progress = configuration.progress ? AuditProgress(totalBytes: lines.totalBytes) : nil
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
      throw AuditError.input("cannot read \(lines.name) past its first \(inputs.count) records: \(failure); their records were written.")
    }
    return AuditSummary(
      resumed: done, audited: audited, errors: auditor.errors, written: auditor.written, report: auditor.report, impact: auditor.impact)
  }

  /// Checks the records an interrupted audit left in `out` against this input and engine, reading
  /// the input up to just after them, and only once they pass cuts off the half-written record at
  /// the end. Returns how many records are done and whether the CSV header is there.
  private func resumeAfterSaved(auditor: Auditor, engine: EngineFingerprints) throws(AuditError) -> (Int, Bool) {
    // A record repeats its text (escaped) with spans and rationale: far past the input's limit a
    // complete line cannot be an audit record, and is not read whole.
    var saved = try SavedRecords(
      path: configuration.out ?? "", csvHeader: auditor.format.header, delimiter: configuration.delimiter,
      maxRecordBytes: max(4 << 20, configuration.maxRecordBytes * 32))
    let done = try ResumeCheck(auditor: auditor, engine: engine).run(&saved, against: inputs)
    if output.isRegularFile { try output.truncate(to: saved.completeBytes) }
    return (done, saved.sawHeader)
  }
}
