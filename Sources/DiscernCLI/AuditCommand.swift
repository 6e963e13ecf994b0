import ArgumentParser
import Discern
import DiscernAudit
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

  @Option(help: "Messages per batch (default 256).")
  var batch: Int?

  @Option(help: "Longest message accepted, in bytes of UTF-8.")
  var maxBytes: Int = 100_000

  var csvInput: Bool { csv || input.lowercased().hasSuffix(".csv") }
  var csvOutput: Bool { out?.lowercased().hasSuffix(".csv") ?? false }

  func validate() throws {
    if let batch, !AuditConfiguration.batchRange.contains(batch) {
      throw ValidationError("--batch must be between \(AuditConfiguration.batchRange.lowerBound) and \(AuditConfiguration.batchRange.upperBound) messages; got \(batch).")
    }
    guard AuditConfiguration.maxBytesRange.contains(maxBytes) else {
      throw ValidationError(
        "--max-bytes must be between \(AuditConfiguration.maxBytesRange.lowerBound) and \(AuditConfiguration.maxBytesRange.upperBound) (1 GiB); got \(maxBytes).")
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

  var configuration: AuditConfiguration {
    AuditConfiguration(
      input: input, out: out, csvInput: csvInput, keys: RecordKeys(text: textColumn, id: idColumn ?? "id", idRequired: idColumn != nil),
      delimiter: delimiter, variant: rulesOnly ? .rulesOnly : .fused, report: report != nil, resume: resume,
      tiers: tiers.isEmpty ? nil : Set(tiers), sort: sort, batch: batch, maxBytes: maxBytes, progress: isatty(STDERR_FILENO) == 1)
  }

  func run() throws {
    do {
      try audit()
    } catch let error as AuditError {
      throw CommandError(error)
    }
  }

  func audit() throws {
    // The input and output are opened (the output locked) before the engine loads, so that a
    // refusal comes at once.
    let run = try AuditRun(configuration)
    // Rules-only needs no encoder weights: loading them would be most of a small audit's time.
    let encoder = rulesOnly ? nil : try encoderOptions.load(model: engineOptions.model)
    let engine = try engineOptions.load(rules: rulesOptions.rules, encoder: encoder, threads: encoderOptions.threads)
    let fingerprints = try EngineFingerprints(
      rules: rulesOptions.rules, policy: engineOptions.policy, model: engineOptions.model, variant: run.configuration.variant,
      encoder: engine.encoder?.fingerprint, lexicon: encoderOptions.lexicon, ruleLexicons: engine.ruleSet.lexicons)
    var baselineEngine: Engine? = nil
    if baselineRules != nil || baselineModel != nil {
      let model = try baselineModel ?? engineOptions.model
      var options = engineOptions
      options.modelFlag = model
      let sameEncoder = try encoderOptions.tunedFolder(model: model) == encoderOptions.tunedFolder(model: engineOptions.model)
      let encoder = sameEncoder || rulesOnly ? engine.encoder : try encoderOptions.load(model: model)
      baselineEngine = try options.load(rules: baselineRules ?? rulesOptions.rules, encoder: encoder, threads: encoderOptions.threads)
    }
    let summary = try run.run(engine: engine, fingerprints: fingerprints, baseline: baselineEngine)
    if summary.resumed > 0 { progressLine("resumed after \(summary.resumed) records already in '\(out ?? "")'") }
    progressLine("audited \(summary.audited) records: \(summary.audited - summary.errors) decided, \(summary.errors) errors")
    if !tiers.isEmpty {
      let names = UrgencyTier.allCases.filter(tiers.contains).map(\.rawValue).joined(separator: ", ")
      progressLine("wrote \(summary.written) records (--tier \(names) and every error record): \(summary.audited - summary.written) decisions of other tiers left out")
    }
    let baseline = [baselineRules.map { "rules \($0)" }, baselineModel.map { "model \($0)" }].compactMap { $0 }.joined(separator: " and ")
    if let folder = report, let accumulated = summary.report {
      try accumulated.write(to: folder, input: input, impact: summary.impact.map { ($0, baseline) })
      progressLine("wrote \(folder)/report.md and \(folder)/report.html")
    }
    if let impact = summary.impact {
      progressLine(impact.summary)
      if let folder = report {
        try impact.markdown(baseline: baseline).write(toFile: folder + "/impact.md", atomically: true, encoding: .utf8)
        progressLine("wrote \(folder)/impact.md")
      } else {
        progressLine(impact.markdown(baseline: baseline))
      }
    }
  }
}

extension CSVDelimiter: ExpressibleByArgument {
  public init?(argument: String) { self.init(argument) }
  public var defaultValueDescription: String { name }
}

extension UrgencyTier: ExpressibleByArgument {}
extension AuditSort: ExpressibleByArgument {}
