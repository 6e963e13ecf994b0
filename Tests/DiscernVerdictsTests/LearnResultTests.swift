import DiscernModel
import Foundation
import Testing

@testable import DiscernVerdicts

/// The learner's judgement of a new model, on held-out scores given directly (the binary's tests
/// drive the whole path with the encoder).
@Suite struct LearnResultTests {
  func score(ece: Double, chance: Double, logLoss: Double) -> HeldOutScore {
    var score = HeldOutScore(probabilities: [0.5], truth: [1], threshold: 0.5)
    score.ece = ece
    score.chanceECE95 = chance
    score.logLoss = logLoss
    return score
  }

  static let shipped = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Models/default").path

  func result(_ reports: [LabelReport]) throws -> LearnResult {
    LearnResult(
      model: try FusionModel.load(folder: Self.shipped),
      labels: reports, verdicts: 100, messages: 50, heldOutMessages: 15, verdictsOnOtherModel: 0, holdout: 0.3, seed: 1,
      minimumVerdicts: 20, minimumPerClass: 5)
  }

  func report(_ label: String, a: Double = 1, before: HeldOutScore, after: HeldOutScore) -> LabelReport {
    var report = LabelReport(label: label, verdicts: 40, outcome: .calibration)
    report.calibration = .platt(a: a, b: 0)
    report.before = before
    report.after = after
    return report
  }

  @Test func betterModelIsWritten() throws {
    let better = report("self_harm", before: score(ece: 0.2, chance: 0.1, logLoss: 0.6), after: score(ece: 0.08, chance: 0.1, logLoss: 0.4))
    #expect(try result([better]).refusal == nil)
  }

  @Test func higherMeanLogLossIsRefused() throws {
    let a = report("self_harm", before: score(ece: 0.2, chance: 0.1, logLoss: 0.5), after: score(ece: 0.1, chance: 0.1, logLoss: 0.45))
    let b = report("harming_others", before: score(ece: 0.1, chance: 0.2, logLoss: 0.3), after: score(ece: 0.15, chance: 0.2, logLoss: 0.5))
    #expect(
      try result([a, b]).refusal
        == "Not written: the new model is worse than the starting one on the held-out verdicts: its mean log-loss on the held-out verdicts is 0.475 against the starting model's 0.400. The verdicts may disagree with each other or with the label guide; review them, or gather more."
    )
  }

  @Test func eceWorseBeyondChanceIsRefused() throws {
    let worse = report("harmed_by_others", before: score(ece: 0.05, chance: 0.06, logLoss: 0.5), after: score(ece: 0.12, chance: 0.07, logLoss: 0.45))
    #expect(
      try result([worse]).refusal
        == "Not written: the new model is worse than the starting one on the held-out verdicts: harmed_by_others's held-out ECE is 0.120 against 0.050, beyond the 0.070 a calibrated model reaches by chance. The verdicts may disagree with each other or with the label guide; review them, or gather more."
    )
    // Worse, but within what chance gives on these rows: written.
    let noisy = report("harmed_by_others", before: score(ece: 0.05, chance: 0.2, logLoss: 0.5), after: score(ece: 0.12, chance: 0.2, logLoss: 0.45))
    #expect(try result([noisy]).refusal == nil)
  }

  @Test func nothingRefittedIsNotWritten() throws {
    var few = LabelReport(label: "self_harm", verdicts: 8, outcome: .tooFew(minimum: 20, perClass: 5))
    few.fit = (6, 1)
    #expect(
      try result([few]).refusal
        == "Not written: no label had enough verdicts on the fit part to refit (each needs 20, with 5 that apply and 5 that do not). Gather more verdicts, or lower --holdout."
    )
  }

  @Test func reportSaysWhenVerdictsCameFromAnotherModel() throws {
    var learned = try result([report("self_harm", before: score(ece: 0.2, chance: 0.1, logLoss: 0.6), after: score(ece: 0.1, chance: 0.1, logLoss: 0.4))])
    #expect(!learned.text.contains("another model"))
    learned.verdictsOnOtherModel = 7
    #expect(learned.text.contains("\n7 verdicts were given on another model's decisions; their logits are recomputed with this model.\n"))
  }

  @Test func fusionCorrectionAddsToTheShippedWeights() {
    let correction = FusionCorrection(columns: ["rule.a", "encoder"], weights: [0.5, -0.25], bias: 0.125)
    let shipped = LinearLogit(bias: -1, encoder: 1.5, rules: ["rule.a": 0.2, "rule.b": 0.7])
    let refit = correction.applied(to: shipped)
    #expect(refit == LinearLogit(bias: -0.875, encoder: 1.25, rules: ["rule.a": 0.7, "rule.b": 0.7]))
    // On a row: the shipped logit plus the correction's terms.
    let row = LabelRow(id: "m", truth: 1, logit: 2, probability: 0.8, features: ["rule.a": 2], encoderLogit: 4)
    #expect(abs(correction.logit(row) - (2 + 0.125 + 0.5 * 2 - 0.25 * 4)) < 1e-12)
  }
}
