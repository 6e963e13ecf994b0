import DiscernEncoder
import Foundation

/// A logit that is linear in the rule features and the encoder's logit for one label:
/// `bias + Σ rules[id]·feature(id) + encoder·encoderLogit`. Weights are keyed by rule id, so a rule
/// edited or added since training never shifts another rule's weight.
public struct LinearLogit: Sendable, Codable, Equatable {
  public var bias: Double
  public var encoder: Double
  public var rules: [String: Double]

  public init(bias: Double, encoder: Double, rules: [String: Double]) {
    self.bias = bias
    self.encoder = encoder
    self.rules = rules
  }

  /// `features` by rule id (rules absent from `rules` count 0: untrained).
  public func logit(features: [String: Double], encoderLogit: Double) -> Double {
    // Summed in rule-id order: a dictionary's order changes from run to run, and the last bits of
    // the sum with it; a model must retrain to the same file.
    features.keys.sorted().reduce(bias + encoder * encoderLogit) { $0 + (rules[$1] ?? 0) * features[$1]! }
  }
}

/// Everything learned for one label.
public struct LabelModel: Sendable, Codable, Equatable {
  /// Rules and encoder together: what Discern decides with.
  public var fused: LinearLogit
  /// The ablations the evaluation reports beside it.
  public var rulesOnly: LinearLogit
  public var encoderOnly: LinearLogit
  /// Per variant ("fused", "rules", "encoder"), fitted on dev.
  public var calibration: [String: Calibration]
  /// Rows it was trained on (train split, label not null).
  public var trainingRows: Int
}

/// A trained Discern model: `model.json` plus `heads.safetensors` in one folder (Models/NAME).
public struct FusionModel: Sendable, Codable, Equatable {
  public static let format = "discern-model-1"

  public struct EncoderInfo: Sendable, Codable, Equatable {
    public var name: String
    public var fingerprint: String
    public var precision: String
  }

  public struct TrainingData: Sendable, Codable, Equatable {
    public var files: [String]
    public var fingerprint: String
    public var seed: UInt64
  }

  public var format: String = Self.format
  public var encoder: EncoderInfo
  public var labels: [String: LabelModel]
  /// The stable rules at training time; a rule not listed counts 0 and is reported as untrained.
  public var ruleIDs: [String]
  /// Fingerprint of the Lexicons folder the rules read.
  public var lexicon: String
  public var trainingData: TrainingData
  /// The metrics on dev the model was accepted with: label → variant → metrics.
  public var devMetrics: [String: [String: LabelMetrics]]
  /// Per label, the fused model's best-F1 threshold on the annotated dev rows: a suggestion for
  /// Rules/policy.yaml, which staff own.
  public var suggestedThresholds: [String: Double]

  /// Reads `folder`/model.json and refuses a model that cannot decide: no labels, a weight or
  /// calibration value that is not finite or absurdly large (see `maxMagnitude`), or — when the folder
  /// holds its heads.safetensors — heads for other labels than the model's. (A folder without heads
  /// is refused by the engine, which loads them next and names the missing file.)
  public static func load(folder: String) throws -> FusionModel {
    let path = folder + "/model.json"
    guard let data = FileManager.default.contents(atPath: path) else { throw ModelError.missing(path: path) }
    let model: FusionModel
    do {
      model = try JSONDecoder().decode(FusionModel.self, from: data)
    } catch {
      throw ModelError.bad(path: path, reason: "\(error)")
    }
    guard model.format == Self.format else { throw ModelError.bad(path: path, reason: "format '\(model.format)', expected '\(Self.format)'") }
    try model.validate(path: path, folder: folder)
    let headsPath = folder + "/heads.safetensors"
    if FileManager.default.fileExists(atPath: headsPath) {
      let heads: LabelHeads
      do {
        heads = try LabelHeads(path: headsPath)
      } catch {
        throw ModelError.heads(error)
      }
      // A label the heads lack is dropped from every decision, and one model.json lacks is never
      // decided: either way the output would be silently short ("labels": {}).
      guard Set(heads.labels) == Set(model.labels.keys) else {
        throw ModelError.labelsDisagree(model: path, modelLabels: model.labels.keys.sorted(), heads: headsPath, headLabels: heads.labels)
      }
    }
    return model
  }

  /// The largest magnitude a weight, bias or Platt parameter in model.json may have. Features are
  /// counts and scores of order 1–10 and the encoder's logit is a few units; fitted weights (L2
  /// regularised) stay near 1 — the shipped model's largest is 2. A logit past ±40 is already a
  /// probability within 1e-17 of 0 or 1, so 1e4 leaves room for any real model while a value like
  /// 1e308 — no training result but a corrupt or hand-edited file — would overflow the sum to ±inf and
  /// the probability to NaN.
  public static let maxMagnitude = 1e4

  /// Refuses the faults `load` lists in model.json itself.
  func validate(path: String, folder: String) throws(ModelError) {
    guard !labels.isEmpty else { throw .noLabels(path: path, folder: folder) }
    func check(_ value: Double, _ field: @autoclosure () -> String) throws(ModelError) {
      guard value.isFinite, abs(value) <= Self.maxMagnitude else {
        throw .badValue(path: path, field: field(), value: value, expected: "a finite number of magnitude at most \(Int(Self.maxMagnitude))", folder: folder)
      }
    }
    for label in labels.keys.sorted() {
      let model = labels[label]!
      for (variant, logit) in [("fused", model.fused), ("rulesOnly", model.rulesOnly), ("encoderOnly", model.encoderOnly)] {
        let field = "labels.\(label).\(variant)"
        try check(logit.bias, "\(field).bias")
        try check(logit.encoder, "\(field).encoder")
        for rule in logit.rules.keys.sorted() { try check(logit.rules[rule]!, "\(field).rules[\"\(rule)\"]") }
      }
      for variant in model.calibration.keys.sorted() {
        let field = "labels.\(label).calibration.\(variant)"
        switch model.calibration[variant]! {
        case .platt(let a, let b):
          try check(a, "\(field).platt.a")
          try check(b, "\(field).platt.b")
        case .isotonic(let steps):
          guard !steps.isEmpty else {
            throw .badValue(path: path, field: "\(field).isotonic.steps", value: nil, expected: "at least one step", folder: folder)
          }
          for (index, step) in steps.enumerated() {
            // A step's bound is a logit compared against, never multiplied: any finite value is safe.
            guard step.upTo.isFinite else {
              throw .badValue(path: path, field: "\(field).isotonic.steps[\(index)].upTo", value: step.upTo, expected: "a finite number", folder: folder)
            }
            guard step.probability >= 0, step.probability <= 1 else {
              throw .badValue(
                path: path, field: "\(field).isotonic.steps[\(index)].probability", value: step.probability, expected: "a probability from 0 to 1",
                folder: folder)
            }
          }
        }
      }
    }
  }

  public func save(folder: String) throws {
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    var data = try encoder.encode(self)
    data.append(UInt8(ascii: "\n"))
    try data.write(to: URL(fileURLWithPath: folder + "/model.json"), options: .atomic)
  }
}

public enum ModelError: Error, CustomStringConvertible, Equatable {
  case missing(path: String)
  case bad(path: String, reason: String)
  case otherEncoder(model: String, trainedOn: String, loaded: String, folder: String)
  /// model.json trains no label: every decision would be empty.
  case noLabels(path: String, folder: String)
  /// A number in model.json the decisions cannot use (nil `value` when it is missing altogether).
  case badValue(path: String, field: String, value: Double?, expected: String, folder: String)
  /// The model's heads.safetensors is itself unusable.
  case heads(EncoderError)
  /// heads.safetensors has heads for other labels than model.json has models for.
  case labelsDisagree(model: String, modelLabels: [String], heads: String, headLabels: [String])

  public var description: String {
    switch self {
    case .missing(let path): "no model at '\(path)'; train one with 'discern train --corpus DIR --out Models/NAME'"
    case .bad(let path, let reason): "'\(path)' is not a Discern model: \(reason)"
    case .noLabels(let path, let folder):
      "'\(path)' has no labels, so every decision would be empty; retrain it (discern train --corpus DIR --out \(folder))"
    case .badValue(let path, let field, let value, let expected, let folder):
      "'\(path)': \(field) is \(value.map { "\($0)" } ?? "empty"), expected \(expected); the file is corrupt or hand-edited: "
        + "restore it or retrain it (discern train --corpus DIR --out \(folder))"
    case .heads(let error): error.description
    case .labelsDisagree(let model, let modelLabels, let heads, let headLabels):
      "'\(heads)' has heads for \(headLabels.joined(separator: ", ")) but '\(model)' has models for "
        + "\(modelLabels.joined(separator: ", ")); both files must come from one 'discern train' run: restore them together or retrain"
    case .otherEncoder(let model, let trainedOn, let loaded, let folder):
      "model '\(model)' was trained on encoder \(trainedOn), but '\(folder)' is \(loaded); "
        + "pass the encoder it was trained with (--encoder PATH) or retrain it (discern train)"
    }
  }
}

/// FNV-1a over the .yaml files of a folder (names and bytes): the lexicon version a model records.
public func folderFingerprint(_ folder: String) -> String {
  let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".yaml") }.sorted()
  var hash = FNV1a()
  for name in names {
    hash.mix(name.utf8)
    hash.mix(FileManager.default.contents(atPath: folder + "/" + name) ?? Data())
  }
  return hash.fingerprint
}
