import Foundation
import Testing

/// Corrupt or hostile model and encoder files, as a user meets them: `discern` exits 1 with one line
/// naming the file, the fault and the fix, instead of deciding with them or crashing. Every file is a
/// corrupted copy in a temporary folder; the committed ones are never touched.
extension CLITests {
  /// A copy of the shipped model.json with `edit` applied, beside `heads` (written as a heads file
  /// with these labels and `weights`, two columns per label) when given, else the shipped heads.
  func corruptedModel(
    edit: (inout [String: Any]) -> Void = { _ in }, heads: (labels: [String], weights: [Float])? = nil
  ) throws -> String {
    let folder = try rulesFolder([:])
    let shipped = Self.root.path + "/Models/default"
    var model = try #require(
      try JSONSerialization.jsonObject(with: try Data(contentsOf: URL(fileURLWithPath: shipped + "/model.json"))) as? [String: Any])
    edit(&model)
    try JSONSerialization.data(withJSONObject: model, options: [.sortedKeys]).write(to: URL(fileURLWithPath: folder + "/model.json"))
    if let heads {
      try writeHeads(labels: heads.labels, weights: heads.weights, to: folder + "/heads.safetensors")
    } else {
      try FileManager.default.copyItem(atPath: shipped + "/heads.safetensors", toPath: folder + "/heads.safetensors")
    }
    return folder
  }

  /// The labels the shipped model decides, as model.json lists them.
  func shippedLabels() throws -> [String] {
    let data = try Data(contentsOf: URL(fileURLWithPath: Self.root.path + "/Models/default/model.json"))
    let model = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    return try #require(model["labels"] as? [String: Any]).keys.sorted()
  }

  /// A heads file in Discern's format (weight [labels, 2], bias [labels]), written byte by byte.
  func writeHeads(labels: [String], weights: [Float], to path: String) throws {
    let labelsJSON = String(decoding: try JSONSerialization.data(withJSONObject: labels), as: UTF8.self)
    let metadata = try JSONSerialization.data(withJSONObject: ["format": "discern-heads-1", "labels": labelsJSON, "encoder": "fnv1a64:1"])
    let (weightBytes, biasBytes) = (4 * weights.count, 4 * labels.count)
    let header = #"{"__metadata__":\#(String(decoding: metadata, as: UTF8.self)),"#
      + #""weight":{"dtype":"F32","shape":[\#(labels.count),2],"data_offsets":[0,\#(weightBytes)]},"#
      + #""bias":{"dtype":"F32","shape":[\#(labels.count)],"data_offsets":[\#(weightBytes),\#(weightBytes + biasBytes)]}}"#
    try safetensors(header: header, floats: weights + [Float](repeating: 0, count: labels.count), to: path)
  }

  /// header length, header, then `floats` little-endian.
  func safetensors(header: String, floats: [Float] = [], to path: String) throws {
    var bytes = Data()
    withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { bytes.append(contentsOf: $0) }
    bytes.append(Data(header.utf8))
    for value in floats { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
    try bytes.write(to: URL(fileURLWithPath: path))
  }

  /// A rules-only audit of one message with `model`: it loads model.json and heads.safetensors and
  /// nothing of the encoder, so these refusals need no 'make model'.
  func auditRulesOnly(model: String) throws -> Run {
    let input = try rulesFolder(["in.jsonl": #"{"id": "1", "text": "I think I'm going to hurt myself tonight"}"# + "\n"]) + "/in.jsonl"
    return try discern("audit", input, "--rules-only", "--model", model)
  }

  static let retrainModel = "retrain the model (discern train --corpus DIR --out FOLDER)"

  /// Item 2: heads for other labels than model.json's left every decision's "labels" empty, with exit 0.
  @Test func aModelWhoseHeadsAreForOtherLabelsIsRefused() throws {
    let labels = try shippedLabels()
    let renamed = [labels[0] + "_renamed"] + labels.dropFirst()
    let model = try corruptedModel(heads: (renamed, [Float](repeating: 0.1, count: 2 * renamed.count)))
    let run = try auditRulesOnly(model: model)
    #expect(run.status == 1)
    #expect(run.stdout.isEmpty)
    #expect(
      run.stderr == """
        error: '\(model)/heads.safetensors' has heads for \(renamed.joined(separator: ", ")) but '\(model)/model.json' has models \
        for \(labels.joined(separator: ", ")); both files must come from one 'discern train' run: restore them together or retrain

        """)
  }

  @Test func aModelWithNoLabelsIsRefused() throws {
    let model = try corruptedModel(edit: { $0["labels"] = [String: Any]() })
    let run = try auditRulesOnly(model: model)
    #expect(run.status == 1)
    #expect(
      run.stderr == """
        error: '\(model)/model.json' has no labels, so every decision would be empty; retrain it (discern train --corpus DIR --out \(model))

        """)
  }

  /// Item 2: a NaN weight gave `probability: null`, `flagged: false` and "p = -nan".
  @Test func aNaNInAModelsHeadsIsRefused() throws {
    let labels = try shippedLabels()
    var weights = [Float](repeating: 0.1, count: 2 * labels.count)
    weights[3] = .nan
    let model = try corruptedModel(heads: (labels, weights))
    let run = try auditRulesOnly(model: model)
    #expect(run.status == 1)
    #expect(
      run.stderr == """
        error: '\(model)/heads.safetensors': tensor 'weight' holds nan at row 1 ('\(labels[1])'), column 1; every weight must be a \
        finite number of magnitude at most 10000, so the file is corrupt: \(Self.retrainModel)

        """)
  }

  /// Item 2: weights of 1e308 loaded (and overflowed the logit to ±inf).
  @Test(arguments: [
    (["fused", "bias"], 1e308, "fused.bias", "1e+308"),
    (["rulesOnly", "encoder"], -20_000, "rulesOnly.encoder", "-20000.0"),
    (["calibration", "fused", "platt", "a"], 1e300, "calibration.fused.platt.a", "1e+300"),
  ])
  func anAbsurdNumberInModelJSONIsRefused(keyPath: [String], value: Double, field: String, printed: String) throws {
    let label = try #require(try shippedLabels().last)
    func set(_ object: inout [String: Any], _ path: ArraySlice<String>) {
      guard let key = path.first else { return }
      if path.count == 1 {
        object[key] = value
      } else {
        var inner = object[key] as? [String: Any] ?? [:]
        set(&inner, path.dropFirst())
        object[key] = inner
      }
    }
    let model = try corruptedModel(edit: { set(&$0, ["labels", label] + keyPath) })
    let run = try auditRulesOnly(model: model)
    #expect(run.status == 1)
    #expect(
      run.stderr == """
        error: '\(model)/model.json': labels.\(label).\(field) is \(printed), expected a finite number of magnitude at most 10000; \
        the file is corrupt or hand-edited: restore it or retrain it (discern train --corpus DIR --out \(model))

        """)
  }

  /// An isotonic step's probability is used as it is: outside 0…1 it is no probability.
  @Test func anIsotonicStepOutsideZeroToOneIsRefused() throws {
    let label = try #require(try shippedLabels().first)
    let model = try corruptedModel(edit: { model in
      var labels = model["labels"] as! [String: Any]
      var entry = labels[label] as! [String: Any]
      var calibration = entry["calibration"] as! [String: Any]
      calibration["fused"] = ["isotonic": ["steps": [["upTo": 0.5, "probability": 0.2], ["upTo": 3.0, "probability": 1.5]]]]
      entry["calibration"] = calibration
      labels[label] = entry
      model["labels"] = labels
    })
    let run = try auditRulesOnly(model: model)
    #expect(run.status == 1)
    #expect(
      run.stderr == """
        error: '\(model)/model.json': labels.\(label).calibration.fused.isotonic.steps[1].probability is 1.5, expected a probability \
        from 0 to 1; the file is corrupt or hand-edited: restore it or retrain it (discern train --corpus DIR --out \(model))

        """)
  }

  /// A small encoder folder: `config` overrides on valid sizes, a vocabulary of the special tokens,
  /// and `weights` as model.safetensors.
  func smallEncoder(config overrides: [String: Any] = [:], weightsHeader: String = "{}") throws -> String {
    var config: [String: Any] = [
      "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 16,
      "max_position_embeddings": 512, "vocab_size": 10, "layer_norm_eps": 1e-12,
    ]
    config.merge(overrides) { $1 }
    let folder = try rulesFolder(["vocab.txt": "[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\n"])
    try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys]).write(to: URL(fileURLWithPath: folder + "/config.json"))
    try safetensors(header: weightsHeader, to: folder + "/model.safetensors")
    return folder
  }

  /// Item 14: a shape of [2⁶², 2⁶², 4] overflowed the byte count: a trap.
  @Test func embedRefusesASafetensorsShapeWhoseSizeOverflows() throws {
    let folder = try smallEncoder(
      weightsHeader: #"{"big":{"dtype":"F32","shape":[4611686018427387904,4611686018427387904,4],"data_offsets":[0,8]}}"#)
    let run = try discern("embed", "--encoder", folder, "hello")
    #expect(run.status == 1)
    #expect(run.stdout.isEmpty)
    #expect(
      run.stderr == """
        error: '\(folder)/model.safetensors' is not a safetensors file: tensor 'big' has shape [4611686018427387904, \
        4611686018427387904, 4] of F32: more bytes than any file can hold; the file is corrupt, restore it ('make model' for the \
        default encoder, 'discern train' for a model's heads)

        """)
  }

  /// Item 15: 0 attention heads divided the hidden size by zero: a trap.
  @Test func embedRefusesZeroAttentionHeads() throws {
    let folder = try smallEncoder(config: ["num_attention_heads": 0])
    let run = try discern("embed", "--encoder", folder, "hello")
    #expect(run.status == 1)
    #expect(
      run.stderr == """
        error: '\(folder)/config.json': num_attention_heads is 0, but it must be a positive integer (at most 2147483647); restore \
        the config.json the weights were exported with ('make model' for the default encoder)

        """)
  }

  /// Item 16: a token 100 000 rows past the embedding table was read from outside the map: SIGSEGV.
  @Test(.enabled(if: CLITests.hasEncoder, "needs 'make model'"))
  func embedRefusesAVocabularyLongerThanTheEmbeddingTable() throws {
    let base = Self.root.path + "/.models/all-MiniLM-L6-v2"
    let vocabulary = try String(contentsOfFile: base + "/vocab.txt", encoding: .utf8) + (0..<100_000).map { "zzextra\($0)\n" }.joined()
    let folder = try rulesFolder(["vocab.txt": vocabulary])
    for file in ["config.json", "model.safetensors"] {
      try FileManager.default.createSymbolicLink(atPath: folder + "/" + file, withDestinationPath: base + "/" + file)
    }
    let run = try discern("embed", "--encoder", folder, "zzextra99999")
    #expect(run.status == 1)
    #expect(run.stdout.isEmpty)
    #expect(
      run.stderr == """
        error: '\(folder)/vocab.txt' assigns token ids up to 130521, but the embedding table 'embeddings.word_embeddings.weight' in \
        '\(folder)/model.safetensors' has 30522 rows (ids 0 to 30521); use the vocab.txt the weights were exported with ('make \
        model' for the default)

        """)
  }
}
