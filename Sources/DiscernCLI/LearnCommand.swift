import ArgumentParser
import Discern
import DiscernAudit
import DiscernVerdicts
import Foundation

struct LearnCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "learn",
    abstract: "Recalibrate a model on moderators' verdicts and write it as a new model folder.",
    discussion: """
      Each verdict's text is decided again with --model. Messages are split by id (seeded) into a fit \
      part and a held-out part (--holdout). Per label, the calibration is refitted on the fit part; \
      with at least 200 verdicts there, 30 of each kind, the fusion weights are refitted too, pulled \
      toward the model's own (the strength chosen by cross-validation on the fit part). The report \
      compares both models on the held-out verdicts: ECE (beside what a calibrated model scores by \
      chance), F1 at the policy threshold, log-loss and the decisions that would change. A model \
      worse on the held-out verdicts than --model is not written, and the command exits 1.
      """)

  @OptionGroup var rulesOptions: RulesOptions
  @OptionGroup var encoderOptions: EncoderOptions
  @OptionGroup var engineOptions: EngineOptions

  @Option(help: "The verdicts database (SQLite) the review page writes.")
  var verdicts: String

  @Option(help: "The folder to write the learned model to (must not exist).")
  var out: String

  @Option(help: "The share of messages held out to judge the learned model, between 0 and 1.")
  var holdout: Double = 0.3

  @Option(help: "Seed of the split into fit and held-out messages.")
  var seed: UInt64 = 1

  func validate() throws {
    guard holdout > 0, holdout < 1 else { throw ValidationError("--holdout is a share between 0 and 1 (exclusive), not \(holdout).") }
  }

  func run() throws {
    // Said before minutes of deciding, not after.
    if FileManager.default.fileExists(atPath: out) { throw CommandError(LearnedModelError.exists(folder: out).description) }
    guard FileManager.default.fileExists(atPath: verdicts) else {
      throw CommandError("no verdicts database at '\(verdicts)'; the review page (discern serve, /review) writes one, or 'discern verdicts import' from a corpus file")
    }
    let model = try engineOptions.model
    let all: [Verdict]
    do {
      all = try VerdictStore(path: verdicts).all()
    } catch {
      throw CommandError(error.description)
    }
    let encoder = try encoderOptions.load(model: model)
    let engine = try engineOptions.load(rules: rulesOptions.rules, encoder: encoder)
    let fingerprints = EngineFingerprints(
      rules: try rulesOptions.rules, policy: try engineOptions.policy, model: model, variant: .fused, encoder: encoder.fingerprint,
      lexicon: encoderOptions.lexicon, ruleLexicons: engine.ruleSet.lexicons)
    var learner = VerdictLearner()
    learner.holdout = holdout
    learner.seed = seed
    let result: LearnResult
    do {
      result = try learner.learn(verdicts: all, engine: engine, modelFingerprint: fingerprints.model)
    } catch {
      throw CommandError(error.description)
    }
    print(result.text)
    if let refusal = result.refusal {
      progressLine(refusal)
      throw ExitCode.failure
    }
    do {
      try result.write(to: out, from: model)
    } catch {
      throw CommandError(error.description)
    }
    print("wrote \(out); compare it with the model it started from: discern audit FILE --model \(out) --baseline-model \(model)")
  }
}
