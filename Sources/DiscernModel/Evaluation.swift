import DiscernEncoder
import Foundation

/// Scores corpus rows with a trained model and measures each variant per file and label.
public struct Evaluation: Sendable {
  public static let variants = ["rules", "encoder", "fused"]

  /// One (file, label) cell: how many rows, whether their labels are weak, and each variant's metrics.
  public struct Cell: Sendable {
    public var file: String
    public var label: String
    public var weak: Bool
    public var metrics: [String: LabelMetrics]
    /// The fused model's calibrated probabilities and the truth, for plots.
    public var fusedProbabilities: [Double]
    public var truth: [Int]
    /// The view's row index behind each probability.
    public var rows: [Int]
    /// The threshold the F1 was measured at.
    public var threshold: Double
    /// The ECE a calibrated model would show on these rows by chance, for the fused model's.
    public var fusedChance: ChanceCalibration
    /// False when the model has no such label: every probability is 0 (it is never flagged).
    public var inModel: Bool
  }

  public var cells: [Cell]

  /// The fused model's errors in one category of the annotated set, for one label.
  public struct CategoryErrors: Sendable, Equatable {
    public var rows = 0
    public var positives = 0
    public var falsePositives = 0
    public var falseNegatives = 0
  }

  /// Per label, per category of the annotated set (rows that carry one), real and written apart:
  /// `[label: [category: (real, written)]]`. Empty when no row of the split has a category.
  public func categoryErrors(view: CorpusView) -> [String: [AnnotatedSet.Category: (real: CategoryErrors, written: CategoryErrors)]] {
    var table: [String: [AnnotatedSet.Category: (real: CategoryErrors, written: CategoryErrors)]] = [:]
    for cell in cells {
      for (i, row) in cell.rows.enumerated() {
        guard let category = view.rows[row].category else { continue }
        let truth = cell.truth[i], flagged = cell.fusedProbabilities[i] >= cell.threshold
        var entry = table[cell.label, default: [:]][category] ?? (CategoryErrors(), CategoryErrors())
        func count(_ errors: inout CategoryErrors) {
          errors.rows += 1
          errors.positives += truth
          if flagged && truth == 0 { errors.falsePositives += 1 }
          if !flagged && truth == 1 { errors.falseNegatives += 1 }
        }
        if view.rows[row].synthetic { count(&entry.written) } else { count(&entry.real) }
        table[cell.label, default: [:]][category] = entry
      }
    }
    return table
  }

  /// Per file and label, on the rows of `split` that carry the label. Rows whose label is weak
  /// (assumed from the source) are left out where annotated rows exist; a file with only weak
  /// labels is measured on them and marked weak.
  public init(view: CorpusView, model: FusionModel, heads: LabelHeads, split: String, thresholds: [String: Double]) {
    var cells: [Cell] = []
    let headIndex = Dictionary(uniqueKeysWithValues: heads.labels.enumerated().map { ($1, $0) })
    for file in view.files.map({ ($0 as NSString).lastPathComponent }) {
      for label in allLabels {
        let rows = view.rows.indices.filter { view.rows[$0].file == file && view.rows[$0].split == split && view.rows[$0].labels[label] != nil }
        let annotated = rows.filter { !view.rows[$0].weak.contains(label) }
        let chosen = annotated.isEmpty ? rows : annotated
        let truth = chosen.map { view.rows[$0].labels[label]! }
        // Precision, recall and the ranking figures need both classes.
        guard truth.contains(1), truth.contains(0) else { continue }
        guard let labelModel = model.labels[label], let head = headIndex[label] else {
          // A label the model does not have is never flagged: measured as a constant 0, not left out.
          let never = LabelMetrics(probabilities: truth.map { _ in 0 }, truth: truth, threshold: thresholds[label] ?? 0.5)
          cells.append(Cell(
            file: file, label: label, weak: annotated.isEmpty, metrics: Dictionary(uniqueKeysWithValues: Self.variants.map { ($0, never) }),
            fusedProbabilities: truth.map { _ in 0 }, truth: truth, rows: chosen, threshold: thresholds[label] ?? 0.5,
            fusedChance: ChanceCalibration(probabilities: truth.map { _ in 0 }, observedECE: never.ece), inModel: false))
          continue
        }
        // What every variant reads of a row, computed once.
        let encoderLogits = chosen.map { Double(heads.logits(view.embeddings[$0])[head]) }
        let features = chosen.map { featureDictionary(view, $0) }
        var metrics: [String: LabelMetrics] = [:]
        var fusedProbabilities: [Double] = []
        for variant in Self.variants {
          let linear = variant == "fused" ? labelModel.fused : variant == "rules" ? labelModel.rulesOnly : labelModel.encoderOnly
          let calibration = labelModel.calibration[variant] ?? .platt(a: 1, b: 0)
          let probabilities = chosen.indices.map { i in
            calibration.probability(linear.logit(features: features[i], encoderLogit: encoderLogits[i]))
          }
          if variant == "fused" { fusedProbabilities = probabilities }
          metrics[variant] = LabelMetrics(probabilities: probabilities, truth: truth, threshold: thresholds[label] ?? 0.5)
        }
        let chance = ChanceCalibration(probabilities: fusedProbabilities, observedECE: metrics["fused"]!.ece)
        cells.append(Cell(
          file: file, label: label, weak: annotated.isEmpty, metrics: metrics, fusedProbabilities: fusedProbabilities, truth: truth,
          rows: chosen, threshold: thresholds[label] ?? 0.5, fusedChance: chance, inModel: true))
      }
    }
    self.cells = cells
  }

  /// `{"<file>": {"<label>": {"fused"|"rules"|"encoder": {f1, precision, recall, auroc, auprc, ece, brier}}}}`;
  /// the fused entry adds `ece_chance95` and `ece_chance_p` (see `ChanceCalibration`).
  public var jsonObject: [String: [String: [String: [String: Double]]]] {
    var object: [String: [String: [String: [String: Double]]]] = [:]
    for cell in cells {
      object[cell.file, default: [:]][cell.label] = cell.metrics.mapValues { m in
        ["f1": m.f1, "precision": m.precision, "recall": m.recall, "auroc": m.auroc, "auprc": m.auprc, "ece": m.ece, "brier": m.brier]
      }
      object[cell.file]![cell.label]!["fused"]!["ece_chance95"] = cell.fusedChance.upper95
      object[cell.file]![cell.label]!["fused"]!["ece_chance_p"] = cell.fusedChance.pValue
    }
    return object
  }
}
