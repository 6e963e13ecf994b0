import Foundation
import Testing

/// Issue 18, item 2: what the rationale says about an emoji comes from its lexicon row. A fixed phrase
/// per signal ("usually a sign of humour") contradicted the row, which rates 🥀 high for serious intent.
extension CLITests {
  /// A model whose rules-only self_harm head weighs two emoji rules and nothing else, with identity
  /// calibration, and a policy with fixed thresholds: the rationale's text then follows from the rules
  /// and the lexicon alone, whatever the shipped model's weights become.
  func pinnedEmojiModel() throws -> (model: String, policy: String) {
    let folder = try rulesFolder([:])
    let model = folder + "/model"
    try FileManager.default.createDirectory(atPath: model, withIntermediateDirectories: true)
    try FileManager.default.copyItem(atPath: Self.root.path + "/Models/default/heads.safetensors", toPath: model + "/heads.safetensors")
    let shipped = try Data(contentsOf: URL(fileURLWithPath: Self.root.path + "/Models/default/model.json"))
    var json = try #require(try JSONSerialization.jsonObject(with: shipped) as? [String: Any])
    var labels = try #require(json["labels"] as? [String: [String: Any]])
    for (name, var label) in labels {
      var head = try #require(label["rulesOnly"] as? [String: Any])
      var weights = (try #require(head["rules"] as? [String: Double])).mapValues { _ in 0.0 }
      if name == "self_harm" {
        weights["emoji.high-serious-intent"] = 0.5
        weights["emoji.laughter-close"] = -0.5
      }
      head["rules"] = weights
      head["bias"] = name == "self_harm" ? 0.0 : -3.0
      label["rulesOnly"] = head
      var calibration = try #require(label["calibration"] as? [String: Any])
      calibration["rules"] = ["platt": ["a": 1.0, "b": 0.0]]
      label["calibration"] = calibration
      labels[name] = label
    }
    json["labels"] = labels
    try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: model + "/model.json"))
    let policy = folder + "/policy.yaml"
    let shippedPolicy = try String(contentsOfFile: Self.root.path + "/Rules/policy.yaml", encoding: .utf8)
    try shippedPolicy.replacing(/threshold: [0-9.]+/, with: "threshold: 0.5").write(toFile: policy, atomically: true, encoding: .utf8)
    return (model, policy)
  }

  /// The rationale of each record a rules-only audit writes of `texts`, in order.
  func rationales(_ texts: [String], model: String, policy: String) throws -> [String] {
    let folder = try rulesFolder([:])
    let input = folder + "/in.jsonl"
    let lines = try texts.map { String(decoding: try JSONSerialization.data(withJSONObject: ["text": $0]), as: UTF8.self) }
    try (lines.joined(separator: "\n") + "\n").write(toFile: input, atomically: true, encoding: .utf8)
    let run = try discern("audit", input, "--rules-only", "--model", model, "--policy", policy)
    #expect(run.status == 0, "\(run.stderr)")
    return try run.stdout.split(separator: "\n").map { line in
      let record = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
      return try #require(record["rationale"] as? String)
    }
  }

  @Test func rationaleDescribesEmojiByTheirLexiconRows() throws {
    let (model, policy) = try pinnedEmojiModel()
    let said = try rationales(["everything hurts 🥀", "my code finally compiled, I could cry 😂"], model: model, policy: policy)
    #expect(said == [
      "Flagged as self-harm (p = 0.82 against a threshold of 0.50). Raising it: '🥀' (emoji.high-serious-intent, serious intent, +1.5; "
        + "lexicon: wilted flower, \"feeling lifeless, withering away\", casual mention medium, serious intent high).",
      "Not self-harm (p = 0.38 against a threshold of 0.50). Lowering it: '😂' (emoji.laughter-close, -0.5; "
        + "lexicon: face with tears of joy, \"usually marks a joke; sometimes masks pain\", casual mention high, serious intent medium).",
    ])
  }
}
