import DiscernModel
import DiscernRules
import Foundation
import Testing

@Suite struct LogisticRegressionTests {
  /// Rows drawn from a known logistic model; Newton's method must find it again.
  @Test func newtonRecoversTheWeightsThatMadeTheData() {
    var state: UInt64 = 42
    func uniform() -> Double {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return Double(state >> 11) / Double(1 << 53)
    }
    let n = 20_000, truth = [1.5, -2.0], bias = 0.5
    var x: [Double] = [], y: [Double] = []
    for _ in 0..<n {
      let row = [uniform() * 2 - 1, uniform() * 2 - 1]
      let p = 1 / (1 + exp(-(bias + truth[0] * row[0] + truth[1] * row[1])))
      x += row
      y.append(uniform() < p ? 1 : 0)
    }
    let fit = LogisticRegression.fit(x: x, rows: n, columns: 2, y: y, sampleWeights: Array(repeating: 1, count: n), l2: 0.01)
    #expect(abs(fit.weights[0] - 1.5) < 0.1 && abs(fit.weights[1] + 2.0) < 0.1 && abs(fit.bias - 0.5) < 0.1, "\(fit)")
  }

  @Test func aStrongerPenaltyShrinksTheWeights() {
    let x: [Double] = [0, 1, 2, 3, 4, 5], y: [Double] = [0, 0, 1, 0, 1, 1]
    let weak = LogisticRegression.fit(x: x, rows: 6, columns: 1, y: y, sampleWeights: Array(repeating: 1, count: 6), l2: 0.01)
    let strong = LogisticRegression.fit(x: x, rows: 6, columns: 1, y: y, sampleWeights: Array(repeating: 1, count: 6), l2: 100)
    #expect(abs(strong.weights[0]) < abs(weak.weights[0]) / 5)
  }

  /// The fusion on dev shrinks rule weights, never the encoder's: however strong the penalty, an
  /// unpenalized column keeps the weight the data gives it while the others go to zero.
  @Test func anUnpenalizedColumnKeepsItsWeightUnderAStrongPenalty() {
    var state: UInt64 = 7
    func uniform() -> Double {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return Double(state >> 11) / Double(1 << 53)
    }
    let n = 5_000
    var x: [Double] = [], y: [Double] = []
    for _ in 0..<n {
      let row = [uniform() * 2 - 1, uniform() * 2 - 1]
      x += row
      y.append(uniform() < 1 / (1 + exp(-(2 * row[0] + 1 * row[1]))) ? 1 : 0)
    }
    let weights = [Double](repeating: 1, count: n)
    let fit = LogisticRegression.fit(x: x, rows: n, columns: 2, y: y, sampleWeights: weights, l2: 1e5, unpenalized: [0])
    #expect(abs(fit.weights[0] - 2) < 0.3 && abs(fit.weights[1]) < 0.05, "\(fit)")
  }
}

@Suite struct MetricsTests {
  @Test func precisionRecallF1AndRankingFiguresOnAWorkedExample() {
    // Flagged at 0.5: rows 0, 1, 2 → TP 2 (rows 0, 2), FP 1; FN 1 (row 4).
    let p = [0.9, 0.8, 0.6, 0.3, 0.2, 0.1], y = [1, 0, 1, 0, 1, 0]
    let m = LabelMetrics(probabilities: p, truth: y, threshold: 0.5)
    #expect(abs(m.precision - 2.0 / 3) < 1e-12 && abs(m.recall - 2.0 / 3) < 1e-12 && abs(m.f1 - 2.0 / 3) < 1e-12)
    // Positive–negative pairs in order: 0.9 beats all three negatives, 0.6 beats two, 0.2 one: 6 of 9.
    #expect(abs(m.auroc - 6.0 / 9) < 1e-12)
    #expect(abs(m.auprc - (1 + 2.0 / 3 + 3.0 / 5) / 3) < 1e-12)
  }

  @Test func eceIsZeroWhenEveryBinIsRightAndLargeWhenConfidentlyWrong() {
    let calibrated = Reliability(probabilities: [0.25, 0.25, 0.25, 0.25], truth: [1, 0, 0, 0])
    #expect(abs(calibrated.ece) < 1e-12)
    let wrong = Reliability(probabilities: [0.95, 0.95], truth: [0, 0])
    #expect(abs(wrong.ece - 0.95) < 1e-12)
  }

  @Test func onSixtyRowsEvenExactProbabilitiesScoreAnECEWellAboveFivePercent() {
    // 60 rows at 0.7, 42 of them positive: exactly calibrated, ECE 0 as observed.
    let p = [Double](repeating: 0.7, count: 60)
    let chance = ChanceCalibration(probabilities: p, observedECE: 0)
    // Redrawn truth: 60 coin flips at 0.7 land 42 ± 3.5 positives, so |rate − 0.7| is ~0.05 typically.
    #expect(chance.median > 0.03 && chance.median < 0.08, "\(chance)")
    #expect(chance.upper95 > 0.09, "\(chance)")
    #expect(chance.pValue == 1 && !chance.miscalibrated)
    #expect(ChanceCalibration(probabilities: p, observedECE: 0) == chance, "seeded: the same figures every run")
  }

  @Test func aConfidentlyWrongSetIsMiscalibratedBeyondChance() {
    let p = [Double](repeating: 0.9, count: 200), y = [Int](repeating: 0, count: 150) + [Int](repeating: 1, count: 50)
    let observed = Reliability(probabilities: p, truth: y).ece
    let chance = ChanceCalibration(probabilities: p, observedECE: observed)
    #expect(abs(observed - 0.65) < 1e-12)
    #expect(chance.pValue == 0 && chance.miscalibrated && chance.upper95 < 0.06, "\(chance)")
  }

  @Test func plattScalingFixesAnOverconfidentLogitAndIsotonicIsMonotone() {
    // Logits twice as large as they should be: Platt finds a ≈ 0.5.
    var z: [Double] = [], y: [Int] = []
    var state: UInt64 = 9
    for i in 0..<20_000 {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      let trueLogit = Double(i % 200) / 25 - 4
      z.append(2 * trueLogit)
      y.append(Double(state >> 11) / Double(1 << 53) < 1 / (1 + exp(-trueLogit)) ? 1 : 0)
    }
    guard case .platt(let a, let b) = Calibration.fit(.platt, logits: z, truth: y) else { Issue.record("not Platt"); return }
    #expect(abs(a - 0.5) < 0.05 && abs(b) < 0.1, "a \(a), b \(b)")
    let isotonic = Calibration.fit(.isotonic, logits: z, truth: y)
    let probabilities = stride(from: -8.0, through: 8, by: 0.5).map(isotonic.probability)
    #expect(zip(probabilities, probabilities.dropFirst()).allSatisfy { $0 <= $1 })
  }
}

@Suite struct PolicyTests {
  func write(_ text: String) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("policy-\(UUID().uuidString).yaml").path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  @Test func theShippedPolicyLoadsWithAllFourLabels() throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let (policy, diagnostics) = Policy.load(path: root.path + "/Rules/policy.yaml")
    #expect(diagnostics.isEmpty)
    #expect(policy?.labels.map(\.name) == Policy.labelNames)
    #expect(policy?.label("self_harm")?.author == ["offer crisis resources"])
    #expect(policy?.action(for: .unsupportedLanguage) == "route to a human moderator who reads the language")
  }

  @Test func aPolicyWithoutScopesSaysWhatToAdd() throws {
    // The shipped policy with its `scopes` section (the file's last) cut off, so that nothing else is missing.
    let shipped = try String(contentsOfFile: repositoryRoot + "/Rules/policy.yaml", encoding: .utf8)
    let withoutScopes = try #require(shipped.range(of: "\n# Messages Discern cannot read").map { String(shipped[..<$0.lowerBound]) })
    let path = try write(withoutScopes + "\n")
    let labelsLine = try #require(withoutScopes.split(separator: "\n", omittingEmptySubsequences: false).firstIndex(of: "labels:")) + 1
    let (policy, diagnostics) = Policy.load(path: path)
    #expect(policy == nil)
    #expect(diagnostics.map(\.description) == [
      "\(path):\(labelsLine):1: error: the policy needs 'scopes', the action for messages Discern cannot read (unsupported_language, too_little_text), e.g. 'action: route to a human moderator'\nlabels:\n^"
    ])
  }

  @Test func mistakesAreReportedWithPositionsAndSuggestions() throws {
    let path = try write("""
      labels:
        self_harm:
          threshhold: 0.4
        harming_other:
          threshold: 0.5

      """)
    let (policy, diagnostics) = Policy.load(path: path)
    #expect(policy == nil)
    #expect(diagnostics.map(\.description) == [
      "\(path):3:5: error: unknown key 'threshhold' in label 'self_harm'; did you mean 'threshold'?\n    threshhold: 0.4\n    ^",
      "\(path):2:3: error: label 'self_harm' needs a 'threshold' between 0 and 1\n  self_harm:\n  ^",
      "\(path):4:3: error: unknown label 'harming_other'; did you mean 'harming_others'? (one of: self_harm, harming_others, harmed_by_others, reference_to_harm)\n  harming_other:\n  ^",
    ])
  }
}

@Suite struct ModelFileTests {
  @Test func aModelForAnotherEncoderIsRefusedWithTheFix() {
    #expect(
      ModelError.otherEncoder(model: "Models/default", trainedOn: "fnv1a64:1", loaded: "fnv1a64:2", folder: "enc").description
        == "model 'Models/default' was trained on encoder fnv1a64:1, but 'enc' is fnv1a64:2; "
        + "pass the encoder it was trained with (--encoder PATH) or retrain it (discern train)")
  }

  @Test func weightsAreKeyedByRuleIdSoUnknownRulesCountZero() {
    let logit = LinearLogit(bias: -1, encoder: 0.5, rules: ["a.one": 2, "gone.rule": 7])
    // 'new.rule' was added since training: it counts 0; 'gone.rule' is not among the features.
    #expect(logit.logit(features: ["a.one": 1, "new.rule": 1], encoderLogit: 2) == -1 + 2 + 1)
  }
}
