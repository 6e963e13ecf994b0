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

  public static func load(folder: String) throws -> FusionModel {
    let path = folder + "/model.json"
    guard let data = FileManager.default.contents(atPath: path) else { throw ModelError.missing(path: path) }
    do {
      let model = try JSONDecoder().decode(FusionModel.self, from: data)
      guard model.format == Self.format else { throw ModelError.bad(path: path, reason: "format '\(model.format)', expected '\(Self.format)'") }
      return model
    } catch let error as ModelError {
      throw error
    } catch {
      throw ModelError.bad(path: path, reason: "\(error)")
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

  public var description: String {
    switch self {
    case .missing(let path): "no model at '\(path)'; train one with 'discern train --corpus DIR --out Models/NAME'"
    case .bad(let path, let reason): "'\(path)' is not a Discern model: \(reason)"
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
