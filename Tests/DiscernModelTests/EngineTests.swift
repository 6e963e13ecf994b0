import Discern
import DiscernEncoder
import DiscernModel
import Foundation
import Testing

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .deletingLastPathComponent().path
let encoderFolder = repositoryRoot + "/.models/all-MiniLM-L6-v2"
let hasEncoder = FileManager.default.fileExists(atPath: encoderFolder + "/model.safetensors")

/// The shipped model on the shipped rules and policy, as `discern` loads them.
@Suite(.enabled(if: hasEncoder, "needs the encoder: run 'make model'"))
struct EngineTests {
  static let encoder = try? BertEncoder(folder: encoderFolder, precision: .int8)

  func engine(model: String = repositoryRoot + "/Models/default") throws -> Engine {
    try Engine(
      rules: repositoryRoot + "/Rules", policy: repositoryRoot + "/Rules/policy.yaml", encoder: try #require(Self.encoder), model: model)
  }

  @Test func theShippedModelLoadsWithoutWarningsAndRanksIntentAboveHyperbole() throws {
    let engine = try engine()
    #expect(engine.warnings.isEmpty, "\(engine.warnings)")
    let scores = engine.scores([
      "I have written my goodbye letters and I plan to end my life tonight",
      "this group project will be the death of me lol 😂",
    ])
    let serious = try #require(scores[0].first { $0.label == "self_harm" })
    let casual = try #require(scores[1].first { $0.label == "self_harm" })
    #expect(serious.flagged && !casual.flagged, "serious p \(serious.probability), casual p \(casual.probability)")
    #expect(serious.probability > casual.probability)
  }

  @Test func aModelTrainedOnAnotherEncoderIsRefused() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("model-\(UUID().uuidString)").path
    var model = try FusionModel.load(folder: repositoryRoot + "/Models/default")
    model.encoder.fingerprint = "fnv1a64:0"
    try model.save(folder: folder)
    #expect {
      try engine(model: folder)
    } throws: { error in
      "\(error)" == "model '\(folder)' was trained on encoder fnv1a64:0, but '\(encoderFolder)' is \(Self.encoder!.fingerprint); "
        + "pass the encoder it was trained with (--encoder PATH) or retrain it (discern train)"
    }
  }
}
