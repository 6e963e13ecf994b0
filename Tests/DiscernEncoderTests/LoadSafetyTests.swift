import DiscernEncoder
import Foundation
import Testing

/// Hostile or corrupt files are refused at load, each with a message naming the file and the fault;
/// none may trap, read outside a buffer or load values that make every probability NaN. Every file
/// here is a corrupted copy in a temporary folder: the committed ones are never touched.
enum LoadSafety {
  static func temporaryFolder() throws -> String {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("load-safety-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    return folder
  }

  /// A safetensors file written byte by byte: header length, JSON header, data.
  static func safetensors(header: String, data: [UInt8] = []) throws -> String {
    let json = Array(header.utf8)
    let bytes = (0..<8).map { UInt8((UInt64(json.count) >> (8 * UInt64($0))) & 0xFF) } + json + data
    let path = try temporaryFolder() + "/hostile.safetensors"
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return path
  }

  /// A BERT config with small, valid sizes, and `overrides` on top.
  static func config(_ overrides: [String: Any] = [:]) throws -> Data {
    var config: [String: Any] = [
      "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 16,
      "max_position_embeddings": 512, "vocab_size": 10, "layer_norm_eps": 1e-12,
    ]
    config.merge(overrides) { $1 }
    return try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys])
  }

  /// An encoder folder of small files: `config`, a vocabulary of the special tokens, and weights
  /// that are only read after the config is accepted.
  static func smallEncoder(config: Data, weights: Data = Data()) throws -> String {
    let folder = try temporaryFolder()
    try config.write(to: URL(fileURLWithPath: folder + "/config.json"))
    try "[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\n".write(toFile: folder + "/vocab.txt", atomically: true, encoding: .utf8)
    try weights.write(to: URL(fileURLWithPath: folder + "/model.safetensors"))
    return folder
  }

  /// The base encoder with its vocabulary replaced: the config and weights are links to the real ones.
  static func baseEncoder(vocabulary: String) throws -> String {
    let folder = try temporaryFolder()
    for file in ["config.json", "model.safetensors"] {
      try FileManager.default.createSymbolicLink(atPath: folder + "/" + file, withDestinationPath: encoderFolder + "/" + file)
    }
    try vocabulary.write(toFile: folder + "/vocab.txt", atomically: true, encoding: .utf8)
    return folder
  }

  /// The base encoder's fingerprint, which a tuned copy's config must record to be loaded at all.
  static let baseFingerprint: String? = hasEncoder ? try? BertEncoder(folder: encoderFolder).fingerprint : nil

  /// A copy of the shipped student with `editConfig` applied to its config.json (after pointing it at
  /// the base as it is now) and `editTensors`, when given, to its tensors, rewritten as F32.
  static func student(
    editConfig: (inout [String: Any]) -> Void = { _ in },
    editTensors: ((inout [String: (shape: [Int], values: [Float])]) -> Void)? = nil
  ) throws -> String {
    let folder = try temporaryFolder()
    let configData = try #require(FileManager.default.contents(atPath: studentFolder + "/config.json"))
    var config = try #require(try JSONSerialization.jsonObject(with: configData) as? [String: Any])
    var base = try #require(config["base"] as? [String: Any])
    let fingerprint: String = try #require(baseFingerprint)
    base["fingerprint"] = fingerprint
    config["base"] = base
    editConfig(&config)
    try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys]).write(to: URL(fileURLWithPath: folder + "/config.json"))
    guard let editTensors else {
      try FileManager.default.copyItem(atPath: studentFolder + "/model.safetensors", toPath: folder + "/model.safetensors")
      return folder
    }
    let file = try SafeTensorsFile(path: studentFolder + "/model.safetensors")
    var tensors: [String: (shape: [Int], values: [Float])] = [:]
    for (name, info) in file.tensors { tensors[name] = (info.shape, try file.floats(name, shape: info.shape)) }
    editTensors(&tensors)
    try SafeTensorsWriter.write(
      tensors.keys.sorted().map { SafeTensorsWriter.Tensor(name: $0, shape: tensors[$0]!.shape, values: tensors[$0]!.values) },
      metadata: file.metadata, to: folder + "/model.safetensors")
    return folder
  }

  static let glossless = InputGloss(identity: "none") { $0 }
}

/// Item 14: the safetensors header is parsed with checked arithmetic.
@Suite struct SafeTensorsHeaderSafetyTests {
  static let eightBytes: [UInt8] = [0, 0, 0x80, 0x3F, 0, 0, 0, 0x40]

  @Test func aShapeWhoseByteCountOverflowsIsRefusedNamingTheTensor() throws {
    let path = try LoadSafety.safetensors(
      header: #"{"big":{"dtype":"F32","shape":[4611686018427387904,4611686018427387904,4],"data_offsets":[0,8]}}"#,
      data: Self.eightBytes)
    #expect(
      throws: SafeTensorsError.badHeader(
        path: path, reason: "tensor 'big' has shape [4611686018427387904, 4611686018427387904, 4] of F32: more bytes than any file can hold")
    ) { try SafeTensorsFile(path: path) }
  }

  /// Offsets near the top of Int; [-1, -2], whose product 2 matched 8 bytes of F32 before dimensions
  /// were checked; offsets that run backwards. Each refused with the tensor named.
  @Test(arguments: [
    (
      #"{"far":{"dtype":"F32","shape":[2],"data_offsets":[\#(Int.max - 8),\#(Int.max)]}}"#,
      "tensor 'far' ends at data offset \(Int.max), past any possible file; the header is corrupt"
    ),
    (#"{"w":{"dtype":"F32","shape":[-1,-2],"data_offsets":[0,8]}}"#, "tensor 'w' has a negative dimension in shape [-1, -2]"),
    (
      #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}"#,
      "tensor 'w' has data offsets [8, 0]: the start must be at least 0 and not after the end"
    ),
  ])
  func impossibleTensorEntriesAreRefusedNamingTheTensor(_ header: String, _ reason: String) throws {
    let path = try LoadSafety.safetensors(header: header, data: Self.eightBytes)
    #expect(throws: SafeTensorsError.badHeader(path: path, reason: reason)) { try SafeTensorsFile(path: path) }
  }

  @Test func anImplausibleHeaderLengthIsRefusedBeforeAnyArithmetic() throws {
    let path = try LoadSafety.temporaryFolder() + "/huge-header.safetensors"
    try Data([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0x7B, 0x7D]).write(to: URL(fileURLWithPath: path))
    #expect(
      throws: SafeTensorsError.badHeader(
        path: path, reason: "header length 9223372036854775807 is implausible (at most 100000000 bytes); the file is corrupt")
    ) { try SafeTensorsFile(path: path) }
  }

  @Test func theMessageSaysHowToRecover() {
    #expect(
      SafeTensorsError.badHeader(path: "m.safetensors", reason: "tensor 'w' has a negative dimension in shape [-1]").description
        == "'m.safetensors' is not a safetensors file: tensor 'w' has a negative dimension in shape [-1]; the file is corrupt, "
        + "restore it ('make model' for the default encoder, 'discern train' for a model's heads)")
  }
}

/// Item 15: every size in config.json is checked before it divides, counts or allocates.
@Suite struct EncoderConfigSafetyTests {
  static let restore = "restore the config.json the weights were exported with ('make model' for the default encoder)"

  /// 0 heads divided the hidden size by zero; the others made empty or invalid ranges.
  @Test(arguments: [
    ("num_attention_heads", 0), ("num_hidden_layers", -1), ("hidden_size", 0), ("intermediate_size", -5),
    ("max_position_embeddings", 0), ("vocab_size", -1), ("hidden_size", 4_294_967_296),
  ])
  func aSizeThatIsNotAPositiveIntegerIsRefused(key: String, value: Int) throws {
    let folder = try LoadSafety.smallEncoder(config: try LoadSafety.config([key: value]))
    #expect(
      throws: EncoderError.badConfig(
        path: folder + "/config.json",
        reason: "\(key) is \(value), but it must be a positive integer (at most 2147483647); \(Self.restore)")
    ) { try BertEncoder(folder: folder) }
  }

  @Test func aHiddenSizeTheHeadsDoNotDivideIsRefused() throws {
    let folder = try LoadSafety.smallEncoder(config: try LoadSafety.config(["num_attention_heads": 3]))
    #expect(
      throws: EncoderError.badConfig(path: folder + "/config.json", reason: "hidden_size 8 is not divisible by 3 heads; \(Self.restore)")
    ) { try BertEncoder(folder: folder) }
  }

  @Test func aNegativeLayerNormEpsilonIsRefused() throws {
    let folder = try LoadSafety.smallEncoder(config: try LoadSafety.config(["layer_norm_eps": -1]))
    #expect(
      throws: EncoderError.badConfig(
        path: folder + "/config.json", reason: "layer_norm_eps is -1.0, but it must be a small positive number; \(Self.restore)")
    ) { try BertEncoder(folder: folder) }
  }

  /// The config asks for two layers; the weights hold one (and nothing else is missing).
  @Test func moreLayersThanTheWeightsHoldAreRefusedCountingThem() throws {
    let (h, i) = (8, 16)
    var tensors: [SafeTensorsWriter.Tensor] = [
      .init(name: "embeddings.word_embeddings.weight", shape: [10, h], values: .init(repeating: 0, count: 10 * h)),
      .init(name: "embeddings.position_embeddings.weight", shape: [512, h], values: .init(repeating: 0, count: 512 * h)),
      .init(name: "embeddings.token_type_embeddings.weight", shape: [2, h], values: .init(repeating: 0, count: 2 * h)),
      .init(name: "embeddings.LayerNorm.weight", shape: [h], values: .init(repeating: 1, count: h)),
      .init(name: "embeddings.LayerNorm.bias", shape: [h], values: .init(repeating: 0, count: h)),
    ]
    let p = "encoder.layer.0."
    for (name, outputs, inputs) in [
      ("attention.self.query", h, h), ("attention.self.key", h, h), ("attention.self.value", h, h), ("attention.output.dense", h, h),
      ("intermediate.dense", i, h), ("output.dense", h, i),
    ] {
      tensors.append(.init(name: p + name + ".weight", shape: [outputs, inputs], values: .init(repeating: 0, count: outputs * inputs)))
      tensors.append(.init(name: p + name + ".bias", shape: [outputs], values: .init(repeating: 0, count: outputs)))
    }
    for norm in ["attention.output.LayerNorm", "output.LayerNorm"] {
      tensors.append(.init(name: p + norm + ".weight", shape: [h], values: .init(repeating: 1, count: h)))
      tensors.append(.init(name: p + norm + ".bias", shape: [h], values: .init(repeating: 0, count: h)))
    }
    let folder = try LoadSafety.smallEncoder(config: try LoadSafety.config(["num_hidden_layers": 1]))
    try SafeTensorsWriter.write(tensors, metadata: [:], to: folder + "/model.safetensors")
    _ = try BertEncoder(folder: folder)  // One layer: the small encoder is complete.
    try LoadSafety.config(["num_hidden_layers": 2]).write(to: URL(fileURLWithPath: folder + "/config.json"))
    #expect(
      throws: EncoderError.badConfig(
        path: folder + "/config.json",
        reason: "num_hidden_layers is 2, but '\(folder)/model.safetensors' holds 1 layers; set it to at most 1, or use the weights "
          + "this config was written for")
    ) { try BertEncoder(folder: folder) }
  }
}

/// Items 15 (the student's config), 16 (the vocabulary against the embedding table) and 2 (the tuned
/// encoder's own heads and tagger), on corrupted copies of the real encoder and the shipped student.
@Suite(.enabled(if: hasEncoder, "needs the encoder: run 'make model'"))
struct TunedEncoderLoadSafetyTests {
  static let rewrite = "fix it or write it again (Training/train.py)"
  static let retrain = "retrain the tuned encoder (make train-encoder)"

  /// -1 layers made `0..<-1`, a trap.
  @Test func aStudentWithNegativeLayersIsRefused() throws {
    let tuned = try LoadSafety.student(editConfig: { $0["num_hidden_layers"] = -1 })
    defer { try? FileManager.default.removeItem(atPath: tuned) }
    #expect(
      throws: EncoderError.badConfig(
        path: tuned + "/config.json", reason: "num_hidden_layers is -1, but it must be a positive integer; \(Self.rewrite)")
    ) { try BertEncoder(folder: encoderFolder, tuned: tuned, gloss: LoadSafety.glossless) }
  }

  @Test func aStudentClaimingMoreLayersThanItHoldsIsRefused() throws {
    let tuned = try LoadSafety.student(editConfig: { $0["num_hidden_layers"] = 5 })
    defer { try? FileManager.default.removeItem(atPath: tuned) }
    #expect(
      throws: EncoderError.badConfig(
        path: tuned + "/config.json",
        reason: "num_hidden_layers is 5, but '\(tuned)/model.safetensors' holds 3 layers; set it to at most 3, or use the weights "
          + "this config was written for")
    ) { try BertEncoder(folder: encoderFolder, tuned: tuned, gloss: LoadSafety.glossless) }
  }

  @Test(arguments: [[String](), ["self_harm", "self_harm", "harmed_by_others"]])
  func aStudentWithoutDistinctLabelsIsRefused(labels: [String]) throws {
    let tuned = try LoadSafety.student(editConfig: { $0["labels"] = labels })
    defer { try? FileManager.default.removeItem(atPath: tuned) }
    #expect(
      throws: EncoderError.badConfig(
        path: tuned + "/config.json",
        reason: "'labels' must list distinct, non-empty names, one per row of the weights, but is \(labels); \(Self.rewrite)")
    ) { try BertEncoder(folder: encoderFolder, tuned: tuned, gloss: LoadSafety.glossless) }
  }

  @Test func aNaNInTheStudentsHeadsIsRefused() throws {
    let tuned = try LoadSafety.student(editTensors: { $0["heads.weight"]!.values[384 + 5] = .nan })
    defer { try? FileManager.default.removeItem(atPath: tuned) }
    #expect(
      throws: EncoderError.badHeads(
        path: tuned + "/model.safetensors",
        reason: "tensor 'heads.weight' holds nan at row 1 ('harming_others'), column 5; every weight must be a finite number of "
          + "magnitude at most 10000, so the file is corrupt: \(Self.retrain)")
    ) { try BertEncoder(folder: encoderFolder, tuned: tuned, gloss: LoadSafety.glossless) }
  }

  @Test func anAbsurdBiasInTheStudentsHeadsIsRefused() throws {
    let tuned = try LoadSafety.student(editTensors: { $0["heads.bias"]!.values[2] = 1e30 })
    defer { try? FileManager.default.removeItem(atPath: tuned) }
    #expect(
      throws: EncoderError.badHeads(
        path: tuned + "/model.safetensors",
        reason: "tensor 'heads.bias' holds 1e+30 at 'harmed_by_others'; every weight must be a finite number of "
          + "magnitude at most 10000, so the file is corrupt: \(Self.retrain)")
    ) { try BertEncoder(folder: encoderFolder, tuned: tuned, gloss: LoadSafety.glossless) }
  }

  /// The shipped student has no tagger: give its copy one, which loads, then one with an infinity.
  @Test func anInfinityInTheStudentsTaggerIsRefused() throws {
    let tags = ["O", "B-casual_mention", "I-casual_mention"]
    func withTagger(_ weight: [Float]) throws -> String {
      try LoadSafety.student(
        editConfig: { $0["token_tags"] = tags },
        editTensors: {
          $0["tokens.weight"] = ([3, 384], weight)
          $0["tokens.bias"] = ([3], [0, 0, 0])
        })
    }
    var weight = [Float](repeating: 0.01, count: 3 * 384)
    let soundFolder = try withTagger(weight)
    defer { try? FileManager.default.removeItem(atPath: soundFolder) }
    let sound = try BertEncoder(folder: encoderFolder, tuned: soundFolder, gloss: LoadSafety.glossless)
    #expect(sound.tagger?.tags == tags)
    weight[2 * 384] = -.infinity
    let tuned = try withTagger(weight)
    defer { try? FileManager.default.removeItem(atPath: tuned) }
    #expect(
      throws: EncoderError.badHeads(
        path: tuned + "/model.safetensors",
        reason: "tensor 'tokens.weight' holds -inf at row 2 ('I-casual_mention'), column 0; every weight must be a finite number of "
          + "magnitude at most 10000, so the file is corrupt: \(Self.retrain)")
    ) { try BertEncoder(folder: encoderFolder, tuned: tuned, gloss: LoadSafety.glossless) }
  }

  static let vocabulary = (try? String(contentsOfFile: encoderFolder + "/vocab.txt", encoding: .utf8)) ?? ""

  /// Token ids past the 30522-row table were read from outside it (a SIGSEGV once far enough).
  @Test func aVocabularyLongerThanTheEmbeddingTableIsRefused() throws {
    let longer = Self.vocabulary + (0..<100_000).map { "zzextra\($0)\n" }.joined()
    let folder = try LoadSafety.baseEncoder(vocabulary: longer)
    let expected = EncoderError.vocabularyExceedsEmbeddings(
      vocabulary: folder + "/vocab.txt", highestID: 130_521, weights: folder + "/model.safetensors",
      table: "embeddings.word_embeddings.weight", rows: 30522)
    #expect(throws: expected) { try BertEncoder(folder: folder) }
    #expect(
      expected.description
        == "'\(folder)/vocab.txt' assigns token ids up to 130521, but the embedding table 'embeddings.word_embeddings.weight' in "
        + "'\(folder)/model.safetensors' has 30522 rows (ids 0 to 30521); use the vocab.txt the weights were exported with "
        + "('make model' for the default)")
  }

  /// Same length, but [UNK] moved past the table: every unknown word would read one row too far.
  @Test func aSpecialTokenPastTheEmbeddingTableIsRefused() throws {
    var lines = Self.vocabulary.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let unknown = try #require(lines.firstIndex(of: "[UNK]"))
    lines[unknown] = "[unused-unk]"
    if lines.last == "" { lines.removeLast() }
    lines.append("[UNK]")
    let folder = try LoadSafety.baseEncoder(vocabulary: lines.joined(separator: "\n") + "\n")
    #expect(
      throws: EncoderError.vocabularyExceedsEmbeddings(
        vocabulary: folder + "/vocab.txt", highestID: 30522, weights: folder + "/model.safetensors",
        table: "embeddings.word_embeddings.weight", rows: 30522)
    ) { try BertEncoder(folder: folder) }
  }
}

/// Item 2 for a model's heads file: label lists and values.
@Suite struct LabelHeadsLoadSafetyTests {
  static let retrain = "retrain the model (discern train --corpus DIR --out FOLDER)"

  func write(labels: [String], weights: [Float], biases: [Float]) throws -> String {
    let path = try LoadSafety.temporaryFolder() + "/heads.safetensors"
    let labelsJSON = String(decoding: try JSONEncoder().encode(labels), as: UTF8.self)
    try SafeTensorsWriter.write(
      [.init(name: "weight", shape: [labels.count, 2], values: weights), .init(name: "bias", shape: [labels.count], values: biases)],
      metadata: ["format": LabelHeads.format, "labels": labelsJSON, "encoder": "fnv1a64:1"], to: path)
    return path
  }

  @Test func soundHeadsLoad() throws {
    let heads = try LabelHeads(path: try write(labels: ["a", "b"], weights: [1, -2, 0.5, 9999], biases: [0, -1]))
    #expect(heads.labels == ["a", "b"] && heads.weights == [[1, -2], [0.5, 9999]])
  }

  @Test(arguments: [
    (Float.nan, "nan"), (Float.infinity, "inf"), (Float(1e30), "1e+30"), (Float(-10_001), "-10001.0"),
  ])
  func aWeightThatIsNotFiniteOrIsAbsurdIsRefused(value: Float, printed: String) throws {
    let path = try write(labels: ["a", "b"], weights: [1, 2, 3, value], biases: [0, 0])
    #expect(
      throws: EncoderError.badHeads(
        path: path,
        reason: "tensor 'weight' holds \(printed) at row 1 ('b'), column 1; every weight must be a finite number of magnitude at most "
          + "10000, so the file is corrupt: \(Self.retrain)")
    ) { try LabelHeads(path: path) }
  }

  @Test func aNaNBiasIsRefused() throws {
    let path = try write(labels: ["a", "b"], weights: [1, 2, 3, 4], biases: [.nan, 0])
    #expect(
      throws: EncoderError.badHeads(
        path: path,
        reason: "tensor 'bias' holds nan at 'a'; every weight must be a finite number of magnitude at most 10000, so the file is "
          + "corrupt: \(Self.retrain)")
    ) { try LabelHeads(path: path) }
  }

  @Test(arguments: [[String](), ["a", "a"], ["a", ""]])
  func labelsThatAreEmptyOrRepeatedAreRefused(labels: [String]) throws {
    let path = try write(labels: labels, weights: .init(repeating: 0, count: 2 * labels.count), biases: .init(repeating: 0, count: labels.count))
    #expect(
      throws: EncoderError.badHeads(path: path, reason: "metadata 'labels' must name each head's label once, but is \(labels); \(Self.retrain)")
    ) { try LabelHeads(path: path) }
  }
}
