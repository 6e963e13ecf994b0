import ArgumentParser
import Discern
import DiscernEncoder
import DiscernModel
import DiscernRules
import Foundation

struct EvalCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "eval",
    abstract: "Measure a trained model per corpus file and label: rules-only, encoder-only and fused.",
    discussion: """
      Precision, recall and F1 at the policy threshold, AUROC, AUPRC, ECE (15 bins) and Brier score, \
      on the calibrated probabilities. Rows whose label is weak (assumed from the source) are left out \
      where annotated rows exist; a file with only weak labels is marked (weak).
      """)

  @OptionGroup var rulesOptions: RulesOptions
  @OptionGroup var encoderOptions: EncoderOptions
  @OptionGroup var engineOptions: EngineOptions

  @Option(help: "Folder of corpus .jsonl files.")
  var corpus: String = "../shared/data/corpus"

  @Option(help: "The split to measure: test for reporting, dev for tuning.")
  var split: String = "test"

  @Flag(help: "Measure F1 at the model's own suggested thresholds (its best F1 on dev) instead of the policy's: for comparing models trained on different encoders.")
  var modelThresholds = false


  @Flag(help: "Print the figures as JSON: {file: {label: {fused|rules|encoder: {f1, precision, recall, auroc, auprc, ece, brier}}}}.")
  var json = false

  @Option(help: "Also draw the fused model's reliability diagram and precision–recall curve per label into this SVG.")
  var plot: String?

  func validate() throws {
    try SplitOption.validate(split)
  }

  func run() throws {
    let encoder = try encoderOptions.load(model: engineOptions.model)
    let engine = try engineOptions.load(rules: rulesOptions.rules, encoder: encoder)
    let view = try CorpusView.load(
      files: try Corpus.files(in: corpus), ruleSet: engine.ruleSet, encoder: encoder, cache: EmbeddingCache(), progress: { _ in })
    let evaluation = Evaluation(
      view: view, model: engine.model, heads: engine.heads, split: split,
      thresholds: modelThresholds
        ? engine.model.suggestedThresholds
        : Dictionary(uniqueKeysWithValues: engine.policy.labels.map { ($0.name, $0.threshold) }))
    if let plot {
      try EvaluationPlot.svg(evaluation, split: split).write(toFile: plot, atomically: true, encoding: .utf8)
      progressLine("wrote \(plot)")
    }
    let spanScores = spanMetrics(view: view, engine: engine, encoder: encoder)
    if json {
      var object: [String: Any] = evaluation.jsonObject
      if !spanScores.isEmpty {
        object["spans"] = Dictionary(grouping: spanScores, by: \.file).mapValues { rows in
          Dictionary(uniqueKeysWithValues: rows.map { ($0.type, ["texts": Double($0.texts), "model": $0.model, "rules": $0.rules] as [String: Any]) })
        }
      }
      let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])
      print(String(decoding: data, as: UTF8.self))
      return
    }
    print("split: \(split); model: \(try engineOptions.model); probabilities calibrated; F1 at the \(modelThresholds ? "model's suggested" : "policy") threshold")
    print("file                           label              variant    rows   pos     P      R      F1   AUROC  AUPRC   ECE  Brier")
    for cell in evaluation.cells {
      for variant in Evaluation.variants {
        let m = cell.metrics[variant]!
        print(
          Self.fileAndLabel(cell) + variant.padding(toLength: 8, withPad: " ", startingAt: 0)
            + String(format: "%6d %5d  %5.3f  %5.3f  %5.3f  %5.3f  %5.3f  %5.3f  %5.3f", m.count, m.positives, m.precision, m.recall, m.f1, m.auroc, m.auprc, m.ece, m.brier))
      }
    }
    let missing = Set(evaluation.cells.filter { !$0.inModel }.map(\.label)).sorted()
    if !missing.isEmpty {
      print("* not a label of this model (\(missing.joined(separator: ", "))): never flagged, measured as probability 0")
    }
    printCategoryErrors(evaluation.categoryErrors(view: view))
    if !spanScores.isEmpty {
      print("\nspans (\(split) split): CMSE and SISE, the token-bag F1 of the predicted spans against the best-matching gold span,")
      print("averaged over the texts with gold spans of the type; the encoder's tagger (model) and the rules' spans")
      print("file                           type               texts   model   rules")
      for score in spanScores {
        print(
          score.file.replacingOccurrences(of: ".jsonl", with: "").padding(toLength: 31, withPad: " ", startingAt: 0)
            + score.type.padding(toLength: 17, withPad: " ", startingAt: 0) + String(format: "%7d  %6.3f  %6.3f", score.texts, score.model, score.rules))
      }
    }
    // An ECE only says "miscalibrated" when it is beyond what a calibrated model scores on as many rows.
    print("\ncalibration of the fused model against chance: the ECE a model with exactly right probabilities")
    print("would score on the same rows (median, 95th percentile of 1,000 draws), and how often it reaches the observed one")
    print("file                           label               rows    ECE  chance median  chance 95%   p      verdict")
    for cell in evaluation.cells {
      let chance = cell.fusedChance
      print(
        Self.fileAndLabel(cell) + String(format: "%6d  %5.3f  %13.3f  %10.3f  %5.3f  ", cell.truth.count, cell.metrics["fused"]!.ece, chance.median, chance.upper95, chance.pValue)
          + (chance.miscalibrated ? "beyond chance" : "within chance"))
    }
    // The reliability table of the fused model per label, over the annotated rows of every file.
    for label in allLabels {
      let cells = evaluation.cells.filter { $0.label == label && !$0.weak }
      guard !cells.isEmpty else { continue }
      let table = Reliability(probabilities: cells.flatMap(\.fusedProbabilities), truth: cells.flatMap(\.truth))
      print("\nreliability, \(label), fused (\(cells.map { $0.file.replacingOccurrences(of: ".jsonl", with: "") }.joined(separator: ", "))): ECE \(String(format: "%.3f", table.ece))")
      print("  bin          rows   mean p   positive rate")
      for bin in table.bins where bin.count > 0 {
        print(String(format: "  %.2f–%.2f  %6d   %6.3f   %6.3f", bin.lower, bin.upper, bin.count, bin.meanProbability, bin.positiveRate))
      }
    }
  }
}

extension EvalCommand {
  struct SpanScore {
    let file: String
    let type: String
    let texts: Int
    let model: Double
    let rules: Double
  }

  /// CMSE and SISE per annotated file of the split, for the encoder's tagger (0 without one) and the rules.
  func spanMetrics(view: CorpusView, engine: Engine, encoder: BertEncoder) -> [SpanScore] {
    let rows = view.rows.filter { $0.split == split && $0.category != nil }
    var scores: [SpanScore] = []
    for file in Array(Set(rows.map(\.file))).sorted() {
      let part = rows.filter { $0.file == file }
      let tagged = encoder.tagger == nil ? part.map { _ in [TaggedSpan]() } : encoder.read(part.map(\.text)).map(\.spans)
      let matcher = PCRE2Matcher()
      let ruled = part.map { engine.ruleSet.evaluate($0.text, matcher: matcher).evidence }
      for type in AnnotatedSet.SpanType.allCases {
        func items(_ predicted: (Int) -> [Range<Int>]) -> [SpanMetrics.Item] {
          part.indices.map { i in
            SpanMetrics.Item(
              text: part[i].text, gold: part[i].spans.filter { $0.type == type }.map { $0.start..<$0.end }, predicted: predicted(i))
          }
        }
        let model = SpanMetrics.score(items { i in tagged[i].filter { $0.type == type.rawValue }.map(\.scalars) })
        let rules = SpanMetrics.score(items { i in ruled[i].filter { $0.type?.rawValue == type.rawValue }.map { $0.start..<$0.end } })
        scores.append(SpanScore(file: file, type: type.rawValue, texts: model.texts, model: model.score, rules: rules.score))
      }
    }
    return scores
  }

  /// Where the fused model errs on the annotated set: per label and category, real and written apart.
  func printCategoryErrors(_ table: [String: [AnnotatedSet.Category: (real: Evaluation.CategoryErrors, written: Evaluation.CategoryErrors)]]) {
    guard !table.isEmpty else { return }
    print("\nerrors of the fused model per category of the annotated set (\(split) split): false positives and false negatives")
    print("label              category          real: rows   pos    FP    FN   written: rows   pos    FP    FN")
    for label in allLabels {
      guard let categories = table[label] else { continue }
      for category in AnnotatedSet.Category.allCases {
        guard let (real, written) = categories[category] else { continue }
        print(
          label.padding(toLength: 19, withPad: " ", startingAt: 0) + category.rawValue.padding(toLength: 16, withPad: " ", startingAt: 0)
            + String(format: "%12d %5d %5d %5d %15d %5d %5d %5d", real.rows, real.positives, real.falsePositives, real.falseNegatives,
              written.rows, written.positives, written.falsePositives, written.falseNegatives))
      }
    }
  }

  /// The first two columns of both tables: the file (marked when its labels are weak) and the label.
  static func fileAndLabel(_ cell: Evaluation.Cell) -> String {
    let file = cell.file.replacingOccurrences(of: ".jsonl", with: "") + (cell.weak ? " (weak)" : "")
    let label = cell.label + (cell.inModel ? "" : "*")
    return file.padding(toLength: 31, withPad: " ", startingAt: 0) + label.padding(toLength: 19, withPad: " ", startingAt: 0)
  }
}

/// Options every command that decides shares: the trained model and the policy.
struct EngineOptions: ParsableArguments {
  @Option(name: .customLong("model"), help: "The model folder (model.json, heads.safetensors; default: Models/default, \(searchOrderHelp)).")
  var modelFlag: String?

  @Option(name: .customLong("policy"), help: "The policy file (labels, thresholds, responses, urgency tiers; default: Rules/policy.yaml, \(searchOrderHelp)).")
  var policyFlag: String?

  var model: String { get throws { try locate(.model, flag: modelFlag) } }
  var policy: String { get throws { try locate(.policy, flag: policyFlag) } }

  /// The engine (rules, policy, encoder, model checked against each other), warnings on stderr;
  /// on failure the reason on stderr and exit status 1.
  func load(rules: String, encoder: BertEncoder?, threads: Int? = nil) throws -> Engine {
    let policy = try policy, model = try model
    do {
      let engine = try Engine(rules: rules, policy: policy, encoder: encoder, model: model, threads: threads)
      for warning in engine.warnings { progressLine("warning: \(warning)") }
      return engine
    } catch {
      switch error {
      // Diagnostics carry their own file:line:col and severity.
      case .rules, .policy: progressLine(error.description)
      case .model, .encoder: progressLine("error: \(error)")
      }
      throw ExitCode.failure
    }
  }
}
