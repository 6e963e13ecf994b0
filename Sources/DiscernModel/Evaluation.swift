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
    /// The ECE a calibrated model would show on these rows by chance, for the fused model's.
    public var fusedChance: ChanceCalibration
  }

  public var cells: [Cell]

  /// Per file and label, on the rows of `split` that carry the label. Rows whose label is weak
  /// (assumed from the source) are left out where annotated rows exist; a file with only weak
  /// labels is measured on them and marked weak.
  public init(view: CorpusView, model: FusionModel, heads: LabelHeads, split: String, thresholds: [String: Double]) {
    var cells: [Cell] = []
    let headIndex = Dictionary(uniqueKeysWithValues: heads.labels.enumerated().map { ($1, $0) })
    for file in view.files.map({ ($0 as NSString).lastPathComponent }) {
      for label in allLabels {
        guard let labelModel = model.labels[label], let head = headIndex[label] else { continue }
        let rows = view.rows.indices.filter { view.rows[$0].file == file && view.rows[$0].split == split && view.rows[$0].labels[label] != nil }
        let annotated = rows.filter { !view.rows[$0].weak.contains(label) }
        let chosen = annotated.isEmpty ? rows : annotated
        let truth = chosen.map { view.rows[$0].labels[label]! }
        // Precision, recall and the ranking figures need both classes.
        guard truth.contains(1), truth.contains(0) else { continue }
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
          fusedChance: chance))
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
