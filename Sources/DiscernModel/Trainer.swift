import DiscernEncoder
import DiscernRules
import Foundation

/// Every corpus row with what the model sees of it: its rule features and its pooled embedding.
public struct CorpusView: Sendable {
  public let rows: [CorpusRow]
  /// Per row, one value per `featureIDs` (the stable rules).
  public let features: [[Double]]
  public let featureIDs: [String]
  public let embeddings: [[Float]]
  public let files: [String]
  /// FNV-1a over the files' names and bytes, in order: what a model records it learned from.
  public let fingerprint: String
  /// Weights pinned in the rules' YAML: rule id → label → weight.
  public let pinned: [String: [String: Double]]

  /// Reads `files`, evaluates the rules and embeds every row (through the cache).
  /// Rows whose id is in `heldOut` are left out (the corpus rows behind the annotated test split, when
  /// the view is for learning), and so are the corpus's own copies of the rows in `superseded` (those the
  /// annotated set relabels; its chunks of them stay).
  public static func load(
    files: [String], ruleSet: RuleSet, encoder: BertEncoder, cache: EmbeddingCache, heldOut: Set<String> = [],
    superseded: Set<String> = [], progress: (String) -> Void
  ) throws -> CorpusView {
    let stable = ruleSet.rules.enumerated().filter { $0.element.status == .stable }
    let matcher = PCRE2Matcher()
    var rows: [CorpusRow] = [], features: [[Double]] = [], embeddings: [[Float]] = []
    var corpusHash = FNV1a()
    for file in files {
      let (fileRows, bytes) = try Corpus.load(file)
      let name = (file as NSString).lastPathComponent
      var fileHash = FNV1a()
      fileHash.mix(name.utf8)
      fileHash.mix(bytes)
      corpusHash.mix(name.utf8)
      corpusHash.mix(bytes)
      let kept = Corpus.learnable(fileRows, heldOut: heldOut, superseded: superseded)
      progress("  \(name): \(kept.count) rows" + (kept.count < fileRows.count ? " (\(fileRows.count - kept.count) left out: the annotated set holds or holds out their texts)" : ""))
      for row in kept {
        let all = ruleSet.evaluate(row.text, matcher: matcher).features
        features.append(stable.map { all[$0.offset] })
      }
      // The cache is keyed by the whole file; held-out rows are dropped after it.
      let keptIDs = Set(kept.map(\.id))
      let fileEmbeddings = cache.embeddings(
        file: file, fingerprint: fileHash.fingerprint, texts: fileRows.map(\.text), encoder: encoder, progress: progress)
      embeddings += zip(fileRows, fileEmbeddings).filter { keptIDs.contains($0.0.id) }.map(\.1)
      rows += kept
    }
    // What was held out is part of what the model learned from.
    for id in heldOut.sorted() { corpusHash.mix(id.utf8) }
    for id in superseded.subtracting(heldOut).sorted() { corpusHash.mix(id.utf8) }
    let pinned = Dictionary(uniqueKeysWithValues: stable.map { ($0.element.id, $0.element.pinnedWeights) }.filter { !$0.1.isEmpty })
    return CorpusView(
      rows: rows, features: features, featureIDs: stable.map(\.element.id), embeddings: embeddings, files: files,
      fingerprint: corpusHash.fingerprint, pinned: pinned)
  }

  /// Rows of `split` that carry `label`.
  public func indices(split: String, label: String) -> [Int] {
    rows.indices.filter { rows[$0].split == split && rows[$0].labels[label] != nil }
  }
}

/// Trains label heads, the fusion layer and its calibration.
public struct Trainer {
  public var labels: [String] = allLabels
  public var folds = 5
  public var seed: UInt64 = 17
  /// Candidates for the heads' L2 strength, chosen by dev AUROC.
  public var headPenalties: [Double] = [0.1, 1, 10]
  public var fusionPenalty = 1.0
  /// Candidates for the fusion's L2 strength when it is fitted on dev rows: chosen by 5-fold
  /// cross-validation there (out-of-fold AUROC on the annotated rows), since the same rows then
  /// calibrate it and pick its threshold.
  public var fusionPenalties: [Double] = [1, 3, 10, 30, 100, 300, 1000, 3000]
  public var calibration: Calibration.Method = .platt
  /// How much a row whose label is weak (assumed from its source) counts next to an annotated row.
  public var weakRowWeight = 0.05
  public var thresholds: [String: Double] = [:]
  /// The rows the fusion layer is fitted on: "train" (with cross-fitted encoder logits) or "dev".
  /// A tuned encoder's logits on train rows are in-sample — its layers learned from them — so the
  /// fusion would over-trust them there; its dev logits are honest, and dev is what it is fitted on.
  public var fusionSplit = "train"

  public init() {}

  public struct Result {
    public var model: FusionModel
    public var heads: LabelHeads
  }

  public func train(
    view: CorpusView, encoder: BertEncoder, lexiconFolder: String, progress: (String) -> Void
  ) -> Result {
    let h = encoder.config.hiddenSize
    var labelModels: [String: LabelModel] = [:]
    var headRows: [(label: String, head: LogisticRegression)] = []
    var devMetrics: [String: [String: LabelMetrics]] = [:]
    var suggestedThresholds: [String: Double] = [:]
    for label in labels {
      let train = view.indices(split: "train", label: label)
      let dev = view.indices(split: "dev", label: label)
      let positives = train.filter { view.rows[$0].labels[label] == 1 }.count
      guard positives > 0, positives < train.count, !dev.isEmpty else {
        progress("\(label): no labeled train and dev rows in this corpus; left untrained")
        continue
      }
      progress("\(label): \(train.count) train rows (\(positives) positive), \(dev.count) dev rows")
      let (y, weights) = balancedTargets(view, rows: train, label: label)
      let devTruth = dev.map { view.rows[$0].labels[label]! }
      // Model choices, calibration and the suggested threshold are made on the rows read against the
      // label guide (the annotated set's) where there are enough of them, else on the rows whose label
      // is not weak, else on every dev row. Weak rows are easy negatives from other sources and would
      // make every choice look alike; a source's own labels are its definition, not the guide's, and
      // its base rate is its sampling's (two-thirds of the hate/offensive tweets are positive, so a
      // rules-only model calibrated on them gave every message without a rule hit harming_others p 0.61).
      let selection = Self.selectionRows(dev.map { view.rows[$0] }, truth: devTruth, label: label)
      let head: LogisticRegression
      let outOfFold: [Double]
      if let tuned = encoder.tunedHeads, let row = tuned.labels.firstIndex(of: label) {
        // A task-tuned encoder brings its own head, trained with its layers on these train rows: the
        // fusion weighs its logits as they are (the teacher and student never saw dev or test).
        head = LogisticRegression(weights: tuned.weights[row].map(Double.init), bias: Double(tuned.biases[row]))
        outOfFold = train.map { head.logit(view.embeddings[$0].map(Double.init)) }
      } else {
        (head, outOfFold) = crossFittedHead(view: view, train: train, y: y, weights: weights, dev: dev, devTruth: devTruth, selection: selection, hidden: h, progress: progress)
      }
      let devHead = dev.map { head.logit(view.embeddings[$0].map(Double.init)) }
      if encoder.tunedHeads?.labels.contains(label) == true {
        let auroc = LabelMetrics.auroc(selection.map { devHead[$0] }, selection.map { devTruth[$0] })
        progress(String(format: "  tuned encoder's head: dev AUROC %.3f (%d rows)", auroc, selection.count))
      }
      // Where the fusion learns: train rows with out-of-fold logits, or dev rows (see `fusionSplit`).
      let fit: (rows: [Int], y: [Double], weights: [Double], encoder: [Double])
      if fusionSplit == "dev" {
        let (devY, devWeights) = balancedTargets(view, rows: dev, label: label)
        fit = (dev, devY, devWeights, devHead)
      } else {
        fit = (train, y, weights, outOfFold)
      }
      // Pinned rules keep their YAML weight: they enter the fit as a fixed offset, not a column.
      let pinnedWeights = view.featureIDs.map { view.pinned[$0]?[label] }
      let free = view.featureIDs.indices.filter { pinnedWeights[$0] == nil }
      let offsets = fit.rows.map { row in free.count == view.featureIDs.count ? 0 : view.featureIDs.indices.reduce(0.0) { $0 + (pinnedWeights[$1] ?? 0) * view.features[row][$1] } }
      let d = free.count
      let ruleX = fit.rows.flatMap { row in free.map { view.features[row][$0] } }
      let fusedX = fit.rows.indices.flatMap { i in free.map { view.features[fit.rows[i]][$0] } + [fit.encoder[i]] }
      var (fusedPenalty, rulesPenalty) = (fusionPenalty, fusionPenalty)
      // On dev rows the penalty shrinks the rules toward 0, never the encoder: a strong penalty
      // leaves the encoder-only model, so cross-validation can only choose rules that help.
      let encoderColumn: Set<Int> = fusionSplit == "dev" ? [d] : []
      // Out-of-fold logits of the fused and rules-only fits, per fit row, when fitted on dev: what
      // calibration learns from, so it is not fitted to logits that saw their own labels.
      var heldOut: (fused: [Double], rules: [Double])? = nil
      if fusionSplit == "dev" {
        let (chosenFused, fusedOOF, chosenRules, rulesOOF) = crossValidatedFusion(
          y: fit.y, weights: fit.weights, fusedX: fusedX, ruleX: ruleX, columns: d, encoderColumn: encoderColumn, offsets: offsets, foldOfRow: fit.rows.map { foldOf(view.rows[$0].id) },
          selection: selection, truth: devTruth, progress: progress)
        (fusedPenalty, rulesPenalty) = (chosenFused, chosenRules)
        heldOut = (fusedOOF, rulesOOF)
      }
      let fused = LogisticRegression.fit(
        x: fusedX, rows: fit.rows.count, columns: d + 1, y: fit.y, sampleWeights: fit.weights, l2: fusedPenalty, unpenalized: encoderColumn,
        offsets: offsets)
      let rulesOnly = LogisticRegression.fit(
        x: ruleX, rows: fit.rows.count, columns: d, y: fit.y, sampleWeights: fit.weights, l2: rulesPenalty, offsets: offsets)
      func keyed(_ w: ArraySlice<Double>) -> [String: Double] {
        var weights = Dictionary(uniqueKeysWithValues: zip(free.map { view.featureIDs[$0] }, w).map { ($0, ($1 * 1e6).rounded() / 1e6) })
        for (index, pin) in pinnedWeights.enumerated() { if let pin { weights[view.featureIDs[index]] = pin } }
        return weights
      }
      let variants: [String: LinearLogit] = [
        "fused": LinearLogit(bias: fused.bias, encoder: fused.weights[d], rules: keyed(fused.weights[0..<d])),
        "rules": LinearLogit(bias: rulesOnly.bias, encoder: 0, rules: keyed(rulesOnly.weights[0..<d])),
        "encoder": LinearLogit(bias: 0, encoder: 1, rules: [:]),
      ]
      // Calibrated on dev, then measured on dev at the policy threshold.
      let devFeatures = dev.map { featureDictionary(view, $0) }
      var calibrations: [String: Calibration] = [:]
      var metrics: [String: LabelMetrics] = [:]
      for (name, variant) in variants {
        let logits = dev.indices.map { variant.logit(features: devFeatures[$0], encoderLogit: devHead[$0]) }
        // Calibrated on the annotated dev rows: probabilities should match labels people gave,
        // not the base rate of negatives assumed from other sources. A fusion fitted on these rows
        // is calibrated on its out-of-fold logits.
        let honest = name == "fused" ? heldOut?.fused : name == "rules" ? heldOut?.rules : nil
        let calibration = Calibration.fit(
          calibration, logits: selection.map { (honest ?? logits)[$0] }, truth: selection.map { devTruth[$0] })
        calibrations[name] = calibration
        metrics[name] = LabelMetrics(probabilities: logits.map(calibration.probability), truth: devTruth, threshold: thresholds[label] ?? 0.5)
      }
      devMetrics[label] = metrics
      // The threshold with the best F1 on the annotated dev rows, as a suggestion for the policy.
      let fusedDev = selection.map { i in
        calibrations["fused"]!.probability(variants["fused"]!.logit(features: devFeatures[i], encoderLogit: devHead[i]))
      }
      let selectedTruth = selection.map { devTruth[$0] }
      let candidates = stride(from: 0.05, through: 0.95, by: 0.01).map { threshold in
        (threshold, LabelMetrics(probabilities: fusedDev, truth: selectedTruth, threshold: threshold).f1)
      }
      let bestThreshold = candidates.max { $0.1 < $1.1 }!
      suggestedThresholds[label] = (bestThreshold.0 * 100).rounded() / 100
      progress(String(format: "  best F1 on %d annotated dev rows: %.3f at threshold %.2f (policy: %.2f)", selection.count, bestThreshold.1, bestThreshold.0, thresholds[label] ?? 0.5))
      for name in ["rules", "encoder", "fused"] {
        let m = metrics[name]!
        progress(String(format: "  dev %-7@  F1 %.3f  P %.3f  R %.3f  AUROC %.3f  AUPRC %.3f  ECE %.3f", name, m.f1, m.precision, m.recall, m.auroc, m.auprc, m.ece))
      }
      labelModels[label] = LabelModel(
        fused: variants["fused"]!, rulesOnly: variants["rules"]!, encoderOnly: variants["encoder"]!,
        calibration: calibrations, trainingRows: train.count)
      headRows.append((label, head))
    }
    let heads = LabelHeads(
      labels: headRows.map(\.label), weights: headRows.map { $0.head.weights.map(Float.init) },
      biases: headRows.map { Float($0.head.bias) }, encoder: encoder.fingerprint)
    let model = FusionModel(
      encoder: .init(name: (encoder.folder as NSString).lastPathComponent, fingerprint: encoder.fingerprint, precision: encoder.precision.rawValue),
      labels: labelModels, ruleIDs: view.featureIDs, lexicon: folderFingerprint(lexiconFolder),
      trainingData: .init(files: view.files.map { ($0 as NSString).lastPathComponent }, fingerprint: view.fingerprint, seed: seed),
      devMetrics: devMetrics, suggestedThresholds: suggestedThresholds)
    return Result(model: model, heads: heads)
  }

  /// The L2 strengths of the fusion and of the rules-only ablation for a fit on dev rows, each by
  /// `folds`-fold cross-validation (folds by row id), with their out-of-fold logits at the chosen
  /// strength. Ties go to the stronger penalty.
  func crossValidatedFusion(
    y: [Double], weights: [Double], fusedX: [Double], ruleX: [Double], columns d: Int, encoderColumn: Set<Int>, offsets: [Double],
    foldOfRow: [Int], selection: [Int], truth: [Int], progress: (String) -> Void
  ) -> (fusedPenalty: Double, fused: [Double], rulesPenalty: Double, rules: [Double]) {
    func choose(_ name: String, _ x: [Double], columns: Int, unpenalized: Set<Int>) -> (penalty: Double, logits: [Double]) {
      var best: (penalty: Double, auroc: Double, logits: [Double])?
      for penalty in fusionPenalties.sorted(by: >) {
        let logits = outOfFold(
          x: x, columns: columns, y: y, weights: weights, foldOfRow: foldOfRow, penalty: penalty, unpenalized: unpenalized, offsets: offsets)
        let auroc = LabelMetrics.auroc(selection.map { logits[$0] }, selection.map { truth[$0] })
        progress(String(format: "  %@, L2 %.3g: out-of-fold dev AUROC %.4f", name, penalty, auroc))
        if best == nil || auroc > best!.auroc { best = (penalty, auroc, logits) }
      }
      return (best!.penalty, best!.logits)
    }
    let fused = choose("fusion", fusedX, columns: d + 1, unpenalized: encoderColumn)
    let rules = choose("rules-only", ruleX, columns: d, unpenalized: [])
    return (fused.penalty, fused.logits, rules.penalty, rules.logits)
  }

  /// Each row's logit from a fit that did not see it: `x` (row-major, `columns` wide) split into
  /// `folds` folds by `foldOfRow`, each fold scored by a fit on the others.
  func outOfFold(
    x: [Double], columns: Int, y: [Double], weights: [Double], foldOfRow: [Int], penalty: Double, unpenalized: Set<Int> = [],
    offsets: [Double]? = nil
  ) -> [Double] {
    let n = foldOfRow.count
    var logits = [Double](repeating: 0, count: n)
    for fold in 0..<folds {
      let rest = (0..<n).filter { foldOfRow[$0] != fold }
      let model = LogisticRegression.fit(
        x: rest.flatMap { x[$0 * columns..<($0 + 1) * columns] }, rows: rest.count, columns: columns, y: rest.map { y[$0] },
        sampleWeights: rest.map { weights[$0] }, l2: penalty, unpenalized: unpenalized, offsets: offsets.map { o in rest.map { o[$0] } })
      for i in 0..<n where foldOfRow[i] == fold { logits[i] = model.logit(Array(x[i * columns..<(i + 1) * columns])) + (offsets?[i] ?? 0) }
    }
    return logits
  }

  /// A logistic head on the frozen embeddings (its penalty chosen by dev AUROC) and, for each train
  /// row, the logit of a head that did not see it (cross-fitting), so the fusion learns how far to
  /// trust the encoder on unseen text.
  func crossFittedHead(
    view: CorpusView, train: [Int], y: [Double], weights: [Double], dev: [Int], devTruth: [Int], selection: [Int],
    hidden h: Int, progress: (String) -> Void
  ) -> (head: LogisticRegression, outOfFold: [Double]) {
    func embeddingMatrix(_ rows: [Int]) -> [Double] { rows.flatMap { view.embeddings[$0].map(Double.init) } }
    let trainX = embeddingMatrix(train)
    // The head's penalty, by dev AUROC.
    var best: (penalty: Double, auroc: Double, head: LogisticRegression)?
    for penalty in headPenalties {
      let head = LogisticRegression.fit(x: trainX, rows: train.count, columns: h, y: y, sampleWeights: weights, l2: penalty)
      let auroc = LabelMetrics.auroc(
        selection.map { head.logit(view.embeddings[dev[$0]].map(Double.init)) }, selection.map { devTruth[$0] })
      progress(String(format: "  head, L2 %.3g: dev AUROC %.3f (%d rows)", penalty, auroc, selection.count))
      if best == nil || auroc > best!.auroc { best = (penalty, auroc, head) }
    }
    let head = best!.head
    // Cross-fitting: each train row's encoder logit comes from a head that did not see it, so the
    // fusion learns how far to trust the encoder on unseen text.
    let outOfFold = outOfFold(
      x: trainX, columns: h, y: y, weights: weights, foldOfRow: train.map { foldOf(view.rows[$0].id) }, penalty: best!.penalty)
    return (head, outOfFold)
  }

  /// Positives (and negatives) the guide-read rows need before they decide alone.
  static let minimumGuideClassRows = 30

  /// Indices into `rows` (one label's dev rows) on which model choices and calibration are made: the
  /// annotated set's when each class has `minimumGuideClassRows`, else the non-weak ones when both
  /// classes are there, else all.
  static func selectionRows(_ rows: [CorpusRow], truth: [Int], label: String) -> [Int] {
    func usable(_ indices: [Int]) -> Bool {
      let positives = indices.filter { truth[$0] == 1 }.count
      return positives > 0 && positives < indices.count
    }
    // Only the annotated set's rows carry the guide's category.
    let guide = rows.indices.filter { rows[$0].category != nil }
    let positives = guide.filter { truth[$0] == 1 }.count
    if positives >= minimumGuideClassRows, guide.count - positives >= minimumGuideClassRows { return guide }
    let nonWeak = rows.indices.filter { !rows[$0].weak.contains(label) }
    return usable(nonWeak) ? nonWeak : Array(rows.indices)
  }

  /// Targets and sample weights for `rows`: weak rows count less than annotated ones, then each
  /// class carries half the total weight.
  func balancedTargets(_ view: CorpusView, rows: [Int], label: String) -> (y: [Double], weights: [Double]) {
    let y = rows.map { Double(view.rows[$0].labels[label]!) }
    let trust = rows.map { view.rows[$0].weak.contains(label) ? weakRowWeight : 1 }
    let positiveMass = zip(y, trust).filter { $0.0 == 1 }.reduce(0) { $0 + $1.1 }
    let negativeMass = zip(y, trust).filter { $0.0 == 0 }.reduce(0) { $0 + $1.1 }
    let total = positiveMass + negativeMass
    return (y, zip(y, trust).map { $0 == 1 ? $1 * total / (2 * positiveMass) : $1 * total / (2 * negativeMass) })
  }

  /// A row's fold, from its id: stable across runs and machines.
  func foldOf(_ id: String) -> Int {
    var hash = FNV1a(seed: seed)
    hash.mix(id.utf8)
    return Int(hash.value % UInt64(folds))
  }
}

func featureDictionary(_ view: CorpusView, _ row: Int) -> [String: Double] {
  var features: [String: Double] = [:]
  for (id, value) in zip(view.featureIDs, view.features[row]) where value != 0 { features[id] = value }
  return features
}
