import ArgumentParser
import Discern
import DiscernEncoder
import DiscernModel
import DiscernRules
import Foundation

extension Calibration.Method: ExpressibleByArgument {}

/// Loads the policy or prints its diagnostics and fails.
func loadPolicy(_ path: String) throws -> Policy {
  let (policy, diagnostics) = Policy.load(path: path)
  for diagnostic in diagnostics { FileHandle.standardError.write(Data("\(diagnostic)\n".utf8)) }
  guard let policy else { throw ExitCode.failure }
  return policy
}

/// Loads an emoji lexicon or prints its diagnostics and fails.
func loadLexicon(_ path: String) throws -> Lexicon {
  var diagnostics = DiagnosticList()
  guard let lexicon = LexiconLoader.load(path: path, diagnostics: &diagnostics) else {
    for diagnostic in diagnostics.items { progressLine("\(diagnostic)") }
    throw ExitCode.failure
  }
  return lexicon
}

func progressLine(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }

struct TrainCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "train",
    abstract: "Train label heads, the fusion layer and its calibration on a labeled corpus.",
    discussion: """
      On frozen embeddings, heads and fusion learn from the corpus 'train' splits (heads cross-fitted, \
      so the fusion weighs out-of-fold encoder logits). With a tuned encoder (--tuned, or OUT/encoder), \
      its own heads give the encoder logit and the fusion is fitted on the annotated 'dev' rows it never \
      saw. Calibration and the heads' penalty are chosen on 'dev'; 'test' is never read. Progress goes \
      to stderr; the dev metrics and where the files went to stdout.
      """)

  @OptionGroup var rulesOptions: RulesOptions
  @OptionGroup var encoderOptions: EncoderOptions

  @Option(help: "Folder of corpus .jsonl files.")
  var corpus: String = "../shared/data/corpus"

  @Option(help: "The annotated set's folder: the corpus rows behind its test split are left out of training, fitting and calibration.")
  var annotations: String = "Annotations"

  @Option(help: "The joined annotated set (make annotations) to learn from beside the corpus: its train and dev rows join the corpus's, and the corpus rows it relabels are left out. 'none' to train on the corpus alone.")
  var annotated: String = "Annotations/build"

  @Option(help: "Labels to train, comma-separated (default: all four).")
  var labels: String?

  @Option(help: "Output folder for model.json and heads.safetensors.")
  var out: String

  @Option(help: "Calibration fitted on dev: platt or isotonic.")
  var calibration: Calibration.Method = .platt

  @Option(help: "The policy whose thresholds the dev metrics use (default: Rules/policy.yaml, \(searchOrderHelp)).")
  var policy: String?

  @Option(help: "How much a row with a weak label (assumed from its source) counts next to an annotated row.")
  var weakWeight: Double = 0.05

  @Option(help: "Rows the fusion layer is fitted on: train (cross-fitted encoder logits) or dev. Default: dev with a tuned encoder (its train-row logits are in-sample), train otherwise.")
  var fusionSplit: String?

  @Option(help: "The lexicon folder the rules read (recorded in the model; default: Lexicons/, \(searchOrderHelp)).")
  var lexicons: String?

  func run() throws {
    let ruleSet = try rulesOptions.ruleSet()
    let policy = try loadPolicy(try locate(.policy, flag: policy))
    let encoder = try encoderOptions.load(model: out)
    var files = try Corpus.files(in: corpus)
    let heldOut = try AnnotatedSet.heldOutRows(annotations: annotations)
    if !heldOut.isEmpty { progressLine("leaving out \(heldOut.count) corpus rows behind the annotated test split (\(annotations))") }
    var superseded: Set<String> = []
    if annotated != "none", FileManager.default.fileExists(atPath: annotated) {
      files += try Corpus.files(in: annotated)
      superseded = try AnnotatedSet.annotatedRows(annotations: annotations).subtracting(heldOut)
      progressLine("learning from the annotated set in \(annotated) too; its labels replace the source's on the \(superseded.count) other corpus rows it relabels")
    }
    progressLine("reading \(files.count) corpus files, evaluating \(ruleSet.rules.count) rules, embedding (cached in .models/cache)")
    let view = try CorpusView.load(
      files: files, ruleSet: ruleSet, encoder: encoder, cache: EmbeddingCache(), heldOut: heldOut, superseded: superseded, progress: progressLine)
    var trainer = Trainer()
    if let labels {
      let chosen = labels.split(separator: ",").map(String.init)
      for label in chosen where !allLabels.contains(label) {
        throw ValidationError("unknown label '\(label)' (one of: \(allLabels.joined(separator: ", ")))")
      }
      trainer.labels = chosen
    }
    trainer.calibration = calibration
    trainer.weakRowWeight = weakWeight
    if let fusionSplit, !["train", "dev"].contains(fusionSplit) {
      throw ValidationError("--fusion-split is train or dev, not '\(fusionSplit)'.")
    }
    trainer.fusionSplit = fusionSplit ?? (encoder.tunedHeads == nil ? "train" : "dev")
    progressLine("fusion fitted on \(trainer.fusionSplit) rows")
    trainer.thresholds = Dictionary(uniqueKeysWithValues: policy.labels.map { ($0.name, $0.threshold) })
    let result = trainer.train(view: view, encoder: encoder, lexiconFolder: try locate(.lexicons, flag: lexicons), progress: progressLine)
    try result.model.save(folder: out)
    try result.heads.save(to: out + "/heads.safetensors")
    // The model folder carries the tuned encoder it was trained on, so it alone says what it needs.
    if let tuned = encoder.tunedFolder, URL(fileURLWithPath: tuned).standardized != URL(fileURLWithPath: out + "/encoder").standardized {
      try? FileManager.default.removeItem(atPath: out + "/encoder")
      try FileManager.default.createDirectory(atPath: out + "/encoder", withIntermediateDirectories: true)
      for file in ["config.json", "model.safetensors"] {
        try FileManager.default.copyItem(atPath: tuned + "/" + file, toPath: out + "/encoder/" + file)
      }
      print("copied the tuned encoder \(tuned) to \(out)/encoder")
    }
    print("dev metrics (calibrated, at the policy thresholds):")
    for label in allLabels {
      guard let metrics = result.model.devMetrics[label] else { continue }
      for variant in ["rules", "encoder", "fused"] {
        let m = metrics[variant]!
        print(String(format: "  %-18@ %-7@ F1 %.3f  AUROC %.3f  ECE %.3f", label, variant, m.f1, m.auroc, m.ece))
      }
    }
    print("wrote \(out)/model.json and \(out)/heads.safetensors")
  }
}
