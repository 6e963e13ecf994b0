import Discern
import DiscernEncoder
import DiscernModel
import DiscernRules
import Foundation

/// Refits a model's calibration — and, with enough verdicts, its fusion weights — on moderators'
/// verdicts, keeping a held-out part of them to judge the result against the model it started from.
///
/// Each verdict's logit is recomputed by deciding its text with the engine of the starting model
/// rather than stored with the verdict: the fusion refit needs every rule feature and the encoder's
/// logit, which a decision carries (its hits and contributions) and a stored number would not, and a
/// verdict given on another model's decision is still a judgement of the text.
public struct VerdictLearner: Sendable {
  public var holdout = 0.3
  public var seed: UInt64 = 1
  /// Below these a label keeps its calibration: a Platt fit on a dozen verdicts is noise.
  public var minimumCalibrationVerdicts = 20
  public var minimumCalibrationClass = 5
  /// From these on the fusion weights are refitted too (the issue's "enough of them").
  public var minimumFusionVerdicts = 200
  public var minimumFusionClass = 30
  /// L2 strengths pulling the refit weights toward the shipped ones, chosen on the fit part by
  /// cross-validation; keeping the shipped weights is always a candidate too.
  public var fusionPenalties: [Double] = [1, 3, 10, 30, 100, 300, 1000]
  public var folds = 5

  public init() {}

  /// Learns from `verdicts` with `engine` (the starting model, loaded with its encoder).
  /// `modelFingerprint` is the starting model's fingerprint as audits record it: verdicts given on
  /// another model's decisions are counted in the report.
  public func learn(verdicts: [Verdict], engine: Engine, modelFingerprint: String?) throws(LearnError) -> LearnResult {
    guard !verdicts.isEmpty else { throw .noVerdicts }
    let policyLabels = engine.policy.labels.map(\.name)
    let unknown = Dictionary(grouping: verdicts.filter { !policyLabels.contains($0.label) }, by: \.label).mapValues(\.count)
    guard unknown.isEmpty else { throw .unknownLabels(unknown, policy: policyLabels) }
    // One text per message, decided once.
    var texts: [String: String] = [:]
    for verdict in verdicts where texts[verdict.messageID] == nil { texts[verdict.messageID] = verdict.text }
    let ids = texts.keys.sorted()
    let heldOutIDs = Set(ids.filter { unit($0, seed: seed) < holdout })
    let decisions = Dictionary(uniqueKeysWithValues: zip(ids, engine.decide(ids.map { texts[$0]! })))
    let stable = engine.ruleSet.rules.filter { $0.status == .stable }
    var model = engine.model
    var reports: [LabelReport] = []
    for label in policyLabels {
      let labelVerdicts = verdicts.filter { $0.label == label }.sorted { $0.messageID < $1.messageID }
      guard !labelVerdicts.isEmpty else { continue }
      guard let labelModel = model.labels[label], let threshold = engine.policy.label(label)?.threshold else {
        reports.append(LabelReport(label: label, verdicts: labelVerdicts.count, outcome: .notInModel))
        continue
      }
      let fit = labelVerdicts.filter { !heldOutIDs.contains($0.messageID) }
      let held = labelVerdicts.filter { heldOutIDs.contains($0.messageID) }
      let pinned = Set(stable.filter { $0.pinnedWeights[label] != nil }.map(\.id))
      let free = Set(stable.map(\.id)).subtracting(pinned)
      func row(_ verdict: Verdict) -> LabelRow {
        let decided = decisions[verdict.messageID]!.label(label)!
        let encoder = decided.contributions.first { $0.feature == "encoder" }?.value
        let features = decisions[verdict.messageID]!.hits.filter { free.contains($0.key) }
        return LabelRow(
          id: verdict.messageID, truth: verdict.applies ? 1 : 0, logit: decided.logit, probability: decided.probability,
          features: features, encoderLogit: encoder)
      }
      let fitRows = fit.map(row), heldRows = held.map(row)
      let positives = fitRows.filter { $0.truth == 1 }.count
      var report = LabelReport(label: label, verdicts: labelVerdicts.count, outcome: .kept)
      report.fit = (fitRows.count, positives)
      report.heldOut = (heldRows.count, heldRows.filter { $0.truth == 1 }.count)
      guard fitRows.count >= minimumCalibrationVerdicts, positives >= minimumCalibrationClass,
        fitRows.count - positives >= minimumCalibrationClass
      else {
        report.outcome = .tooFew(minimum: minimumCalibrationVerdicts, perClass: minimumCalibrationClass)
        reports.append(report)
        continue
      }
      // The fusion, refitted as a correction δ on top of the shipped logit (L2 on δ pulls toward the
      // shipped weights), and the logits calibration learns from: out-of-fold ones when refitted.
      var fused = labelModel.fused
      var calibrationLogits = fitRows.map(\.logit)
      var correction: FusionCorrection? = nil
      if fitRows.count >= minimumFusionVerdicts, positives >= minimumFusionClass, fitRows.count - positives >= minimumFusionClass {
        let columns = FusionCorrection.columns(fitRows, encoderWeighted: fused.encoder != 0)
        let chosen = chooseCorrection(fitRows, columns: columns)
        report.fusionPenalty = chosen.penalty
        if let chosenCorrection = chosen.correction {
          correction = chosenCorrection
          fused = chosenCorrection.applied(to: fused)
          calibrationLogits = chosen.outOfFold
        }
        report.outcome = .calibrationAndFusion
      } else {
        report.outcome = .calibration
      }
      let method: Calibration.Method
      if case .isotonic = labelModel.calibration["fused"] { method = .isotonic } else { method = .platt }
      let calibration = Calibration.fit(method, logits: calibrationLogits, truth: fitRows.map(\.truth))
      report.calibration = calibration
      // On the held-out verdicts: the starting model as it decided, and the new one.
      let truth = heldRows.map(\.truth)
      let before = heldRows.map(\.probability)
      let after = heldRows.map { calibration.probability(correction?.logit($0) ?? $0.logit) }
      if !heldRows.isEmpty {
        report.before = HeldOutScore(probabilities: before, truth: truth, threshold: threshold)
        report.after = HeldOutScore(probabilities: after, truth: truth, threshold: threshold)
        report.changed = zip(heldRows, zip(before, after)).filter { ($1.0 >= threshold) != ($1.1 >= threshold) }.map(\.0.id)
      }
      var refitted = labelModel
      refitted.fused = fused
      refitted.calibration["fused"] = calibration
      model.labels[label] = refitted
      reports.append(report)
    }
    var learned = verdicts.map(\.messageID)
    learned.sort()
    var hash = FNV1a()
    hash.mix(model.trainingData.fingerprint.utf8)
    for id in learned { hash.mix(id.utf8) }
    model.trainingData.fingerprint = hash.fingerprint
    let otherModel = modelFingerprint.map { fingerprint in verdicts.filter { $0.modelHash != fingerprint }.count } ?? 0
    return LearnResult(
      model: model, labels: reports, verdicts: verdicts.count, messages: ids.count, heldOutMessages: heldOutIDs.count,
      verdictsOnOtherModel: otherModel, holdout: holdout, seed: seed,
      minimumVerdicts: minimumCalibrationVerdicts, minimumPerClass: minimumCalibrationClass)
  }

  /// A message id's place in [0, 1), from the seed: the same split on every run and machine.
  func unit(_ id: String, seed: UInt64) -> Double {
    var hash = FNV1a(seed: seed)
    hash.mix(id.utf8)
    return Double(hash.value % 1_000_000) / 1_000_000
  }

  /// The L2 strength whose correction has the best out-of-fold AUROC on the fit part (folds by
  /// message id), or no correction when the shipped logits rank at least as well. Ties go to the
  /// stronger penalty, and keeping the shipped weights is the strongest of all.
  func chooseCorrection(_ rows: [LabelRow], columns: [String]) -> (penalty: Double?, correction: FusionCorrection?, outOfFold: [Double]) {
    let truth = rows.map(\.truth)
    let x = rows.flatMap { FusionCorrection.values($0, columns: columns) }
    let offsets = rows.map(\.logit)
    let fold = rows.map { Int(unit($0.id, seed: seed &+ 1) * Double(folds)) }
    var best: (penalty: Double?, auroc: Double, outOfFold: [Double]) = (nil, auroc(offsets, truth), offsets)
    for penalty in fusionPenalties.sorted(by: >) {
      var outOfFold = [Double](repeating: 0, count: rows.count)
      for k in 0..<folds {
        let rest = rows.indices.filter { fold[$0] != k }
        guard !rest.isEmpty else { continue }
        let model = LogisticRegression.fit(
          x: rest.flatMap { x[$0 * columns.count..<($0 + 1) * columns.count] }, rows: rest.count, columns: columns.count,
          y: rest.map { Double(truth[$0]) }, sampleWeights: rest.map { _ in 1 }, l2: penalty, offsets: rest.map { offsets[$0] })
        for i in rows.indices where fold[i] == k {
          outOfFold[i] = model.logit(Array(x[i * columns.count..<(i + 1) * columns.count])) + offsets[i]
        }
      }
      let score = auroc(outOfFold, truth)
      if score > best.auroc { best = (penalty, score, outOfFold) }
    }
    guard let penalty = best.penalty else { return (nil, nil, offsets) }
    let model = LogisticRegression.fit(
      x: x, rows: rows.count, columns: columns.count, y: truth.map(Double.init), sampleWeights: rows.map { _ in 1 }, l2: penalty,
      offsets: offsets)
    return (penalty, FusionCorrection(columns: columns, weights: model.weights, bias: model.bias), best.outOfFold)
  }

  func auroc(_ scores: [Double], _ truth: [Int]) -> Double {
    LabelMetrics(probabilities: scores.map { 1 / (1 + exp(-$0)) }, truth: truth, threshold: 0.5).auroc
  }
}

/// One verdict of one label as the learner sees it.
struct LabelRow {
  let id: String
  let truth: Int
  /// The starting model's fused logit and calibrated probability for the message.
  let logit: Double
  let probability: Double
  /// The free (not pinned) stable rules that fired, with their values.
  let features: [String: Double]
  /// Nil when the model gives the encoder no weight (its logit is then not in the decision).
  let encoderLogit: Double?
}

/// What the fusion refit adds to the shipped logit: a bias and a weight per rule (and the encoder).
struct FusionCorrection {
  static let encoderColumn = "encoder"
  let columns: [String]
  let weights: [Double]
  let bias: Double

  /// The free rules that fired on any row, by id, then the encoder when it has a weight.
  static func columns(_ rows: [LabelRow], encoderWeighted: Bool) -> [String] {
    Set(rows.flatMap(\.features.keys)).sorted() + (encoderWeighted ? [encoderColumn] : [])
  }

  static func values(_ row: LabelRow, columns: [String]) -> [Double] {
    columns.map { $0 == encoderColumn ? row.encoderLogit ?? 0 : row.features[$0] ?? 0 }
  }

  func logit(_ row: LabelRow) -> Double {
    zip(weights, Self.values(row, columns: columns)).reduce(row.logit + bias) { $0 + $1.0 * $1.1 }
  }

  /// The shipped weights plus the correction, rounded as `discern train` rounds them.
  func applied(to logit: LinearLogit) -> LinearLogit {
    var result = logit
    result.bias += bias
    for (column, weight) in zip(columns, weights) {
      if column == Self.encoderColumn {
        result.encoder += weight
      } else {
        result.rules[column] = (((logit.rules[column] ?? 0) + weight) * 1e6).rounded() / 1e6
      }
    }
    return result
  }
}

/// A model's figures on the held-out verdicts of one label.
public struct HeldOutScore: Sendable, Equatable {
  public var ece: Double
  /// The ECE a calibrated model would stay under 95% of the time on these rows (ChanceCalibration).
  public var chanceECE95: Double
  public var f1: Double
  /// Mean log-loss (probabilities kept within 1e-6 of 0 and 1).
  public var logLoss: Double
  public var flagged: Int

  init(probabilities: [Double], truth: [Int], threshold: Double) {
    let metrics = LabelMetrics(probabilities: probabilities, truth: truth, threshold: threshold)
    ece = metrics.ece
    chanceECE95 = ChanceCalibration(probabilities: probabilities, observedECE: metrics.ece).upper95
    f1 = metrics.f1
    logLoss =
      zip(probabilities, truth).reduce(0.0) { total, pair in
        let p = min(1 - 1e-6, max(1e-6, pair.0))
        return total - (pair.1 == 1 ? log(p) : log(1 - p))
      } / Double(max(1, truth.count))
    flagged = probabilities.filter { $0 >= threshold }.count
  }
}

/// What learning did for one label.
public struct LabelReport: Sendable {
  public enum Outcome: Sendable, Equatable {
    /// Calibration refitted on the verdicts.
    case calibration
    /// Calibration and fusion weights refitted (the weights may stay the shipped ones when
    /// cross-validation prefers them: `fusionPenalty` is then nil).
    case calibrationAndFusion
    /// Too few verdicts, or only one class, on the fit part: the label is kept as it was.
    case tooFew(minimum: Int, perClass: Int)
    /// The model has no such label.
    case notInModel
    /// Nothing refitted (the initial state).
    case kept
  }

  public var label: String
  public var verdicts: Int
  public var outcome: Outcome
  public var fit: (count: Int, positives: Int) = (0, 0)
  public var heldOut: (count: Int, positives: Int) = (0, 0)
  public var fusionPenalty: Double? = nil
  public var calibration: Calibration? = nil
  /// Nil without held-out verdicts.
  public var before: HeldOutScore? = nil
  public var after: HeldOutScore? = nil
  /// Held-out messages whose flag for this label the new model would change.
  public var changed: [String] = []

  init(label: String, verdicts: Int, outcome: Outcome) {
    self.label = label
    self.verdicts = verdicts
    self.outcome = outcome
  }

  /// A calibration that falls as the engine's logit rises: the verdicts say the label applies less
  /// the more evidence the engine finds for it.
  public var inverted: Bool {
    if case .platt(let a, _)? = calibration { return a <= 0 }
    return false
  }

  /// Worse beyond chance: the new ECE is above the old one and above what a calibrated model
  /// scores on these rows 95% of the time.
  public var eceWorse: Bool {
    guard let before, let after else { return false }
    return after.ece > before.ece && after.ece > after.chanceECE95
  }
}

/// The learned model and the report on it.
public struct LearnResult: Sendable {
  public var model: FusionModel
  public var labels: [LabelReport]
  public var verdicts: Int
  public var messages: Int
  public var heldOutMessages: Int
  /// Verdicts recorded against another model's decisions (their logits were recomputed with this one).
  public var verdictsOnOtherModel: Int
  public var holdout: Double
  public var seed: UInt64
  /// The learner's minimum for refitting a label's calibration.
  public var minimumVerdicts: Int
  public var minimumPerClass: Int

  /// The labels compared on held-out verdicts.
  var compared: [LabelReport] { labels.filter { $0.before != nil && $0.after != nil } }

  /// Mean held-out log-loss over the compared labels, before and after.
  public var meanLogLoss: (before: Double, after: Double)? {
    let compared = compared
    guard !compared.isEmpty else { return nil }
    let n = Double(compared.count)
    return (compared.reduce(0) { $0 + $1.before!.logLoss } / n, compared.reduce(0) { $0 + $1.after!.logLoss } / n)
  }

  /// Why the new model must not be written, or nil when it may. Worse means: a calibration that
  /// inverts the engine's ranking, a mean held-out log-loss above the starting model's, or a
  /// label's held-out ECE worse beyond chance (`LabelReport.eceWorse`); and a model that changed
  /// nothing, or could not be judged on held-out verdicts, is not written either.
  public var refusal: String? {
    let refitted = labels.filter { $0.calibration != nil }
    guard !refitted.isEmpty else {
      return "Not written: no label had enough verdicts on the fit part to refit (each needs \(minimumVerdicts), with \(minimumPerClass) that apply and \(minimumPerClass) that do not). Gather more verdicts, or lower --holdout."
    }
    if let inverted = refitted.first(where: \.inverted) {
      return "Not written: the verdicts on \(inverted.label) say it applies less the more evidence the engine finds for it (the refitted calibration falls as the engine's logit rises). A model learned from them would flag the messages the engine reads as least likely; check that the verdicts' labels are not flipped (applies true for 'the label applies')."
    }
    guard let loss = meanLogLoss else {
      return "Not written: no refitted label has held-out verdicts to judge it on. Raise --holdout or gather more verdicts."
    }
    let worse = compared.filter(\.eceWorse)
    if loss.after > loss.before || !worse.isEmpty {
      var reasons: [String] = []
      if loss.after > loss.before { reasons.append(String(format: "its mean log-loss on the held-out verdicts is %.3f against the starting model's %.3f", loss.after, loss.before)) }
      for label in worse {
        reasons.append(String(format: "%@'s held-out ECE is %.3f against %.3f, beyond the %.3f a calibrated model reaches by chance", label.label, label.after!.ece, label.before!.ece, label.after!.chanceECE95))
      }
      return "Not written: the new model is worse than the starting one on the held-out verdicts: " + reasons.joined(separator: "; ") + ". The verdicts may disagree with each other or with the label guide; review them, or gather more."
    }
    return nil
  }

  /// The report `discern learn` prints.
  public var text: String {
    var lines = [
      "\(verdicts) verdicts on \(messages) messages, \(heldOutMessages) of them held out (--holdout \(String(format: "%g", holdout)), --seed \(seed))."
    ]
    if verdictsOnOtherModel > 0 {
      lines.append("\(verdictsOnOtherModel) verdicts were given on another model's decisions; their logits are recomputed with this model.")
    }
    func pad(_ text: String, _ width: Int) -> String { text.padding(toLength: max(width, text.count + 1), withPad: " ", startingAt: 0) }
    let widths = [18, 11, 11, 26, 33, 19]
    func row(_ cells: [String]) -> String { zip(cells, widths).map { pad($0, $1) }.joined() + (cells.count > widths.count ? cells.last! : "") }
    lines.append(row(["label", "fit (pos)", "held (pos)", "refit", "ECE before → after (chance 95%)", "F1 before → after", "log-loss before → after"]))
    for report in labels {
      let refit: String
      switch report.outcome {
      case .calibration: refit = "calibration"
      case .calibrationAndFusion: refit = report.fusionPenalty.map { String(format: "fusion (L2 %g)", $0) } ?? "calibration (fusion kept)"
      case .tooFew: refit = "kept: too few"
      case .notInModel: refit = "not in model"
      case .kept: refit = "kept"
      }
      var cells = [
        report.label, "\(report.fit.count) (\(report.fit.positives))", "\(report.heldOut.count) (\(report.heldOut.positives))", refit,
      ]
      if let before = report.before, let after = report.after {
        cells += [
          String(format: "%.3f → %.3f (%.3f)", before.ece, after.ece, after.chanceECE95), String(format: "%.3f → %.3f", before.f1, after.f1),
          String(format: "%.3f → %.3f", before.logLoss, after.logLoss),
        ]
      }
      lines.append(cells.count > 4 ? row(cells) : row(cells).trimmingCharacters(in: .whitespaces))
    }
    for report in labels where report.before != nil {
      let more = report.changed.count > 5 ? ", …" : ""
      let first = report.changed.isEmpty ? "." : " (" + report.changed.prefix(5).joined(separator: ", ") + more + ")."
      lines.append("\(report.label): \(report.changed.count) of \(report.heldOut.count) held-out decisions would change" + first)
    }
    return lines.joined(separator: "\n")
  }
}

/// Why learning could not start.
public enum LearnError: Error, CustomStringConvertible, Equatable {
  case noVerdicts
  case unknownLabels([String: Int], policy: [String])

  public var description: String {
    switch self {
    case .noVerdicts: "the verdicts database holds no verdicts; moderators' verdicts come from the review page (discern serve, /review)"
    case .unknownLabels(let counts, let policy):
      "verdicts on labels the policy does not have: "
        + counts.keys.sorted().map { "'\($0)' (\(counts[$0]!))" }.joined(separator: ", ")
        + "; the policy's labels are \(policy.joined(separator: ", ")): fix the verdicts or pass the policy they were given under (--policy)"
    }
  }
}
