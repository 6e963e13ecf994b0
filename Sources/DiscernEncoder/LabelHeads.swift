import Foundation

/// One logistic head per label over the pooled embedding: `logit = w · embedding + b`.
///
/// Stored as safetensors: `weight` [labels, hidden] and `bias` [labels] in F32, with metadata
/// `format` = "discern-heads-1", `labels` (a JSON array, in row order) and `encoder` (the fingerprint
/// of the encoder the heads were trained on, which `BertEncoder.logits` checks).
public struct LabelHeads: Sendable, Equatable {
  public static let format = "discern-heads-1"

  public let labels: [String]
  /// One row of `hidden` weights per label.
  public let weights: [[Float]]
  public let biases: [Float]
  /// The fingerprint of the encoder these heads were trained on.
  public let encoder: String

  public init(labels: [String], weights: [[Float]], biases: [Float], encoder: String) {
    precondition(labels.count == weights.count && labels.count == biases.count, "one weight row and bias per label")
    self.labels = labels
    self.weights = weights
    self.biases = biases
    self.encoder = encoder
  }

  /// From a row-major [labels, hidden] matrix, as safetensors files store it.
  public init(labels: [String], flatWeights weight: [Float], hidden: Int, biases: [Float], encoder: String) {
    self.init(
      labels: labels, weights: (0..<labels.count).map { Array(weight[$0 * hidden..<($0 + 1) * hidden]) }, biases: biases,
      encoder: encoder)
  }

  public var hiddenSize: Int { weights.first?.count ?? 0 }

  /// Loads heads written by `save`.
  public init(path: String) throws(EncoderError) {
    let file: SafeTensorsFile
    do {
      file = try SafeTensorsFile(path: path)
    } catch {
      throw .weights(error)
    }
    guard file.metadata["format"] == Self.format else {
      throw .badHeads(path: path, reason: "not a label-heads file (metadata 'format' should be '\(Self.format)')")
    }
    guard let labelsJSON = file.metadata["labels"],
      let labels = try? JSONDecoder().decode([String].self, from: Data(labelsJSON.utf8)), !labels.isEmpty
    else { throw .badHeads(path: path, reason: "metadata 'labels' is not a JSON array of label names") }
    guard let encoder = file.metadata["encoder"] else {
      throw .badHeads(path: path, reason: "metadata 'encoder' (the fingerprint the heads were trained on) is missing")
    }
    guard let shape = file.tensors["weight"]?.shape, shape.count == 2, shape[0] == labels.count else {
      throw .badHeads(path: path, reason: "tensor 'weight' must be [\(labels.count) labels, hidden size]")
    }
    do {
      self.init(
        labels: labels, flatWeights: try file.floats("weight", shape: shape), hidden: shape[1],
        biases: try file.floats("bias", shape: [labels.count]), encoder: encoder)
    } catch {
      throw .weights(error)
    }
  }

  public func save(to path: String) throws {
    let labelsJSON = String(decoding: try JSONEncoder().encode(labels), as: UTF8.self)
    try SafeTensorsWriter.write(
      [
        .init(name: "weight", shape: [labels.count, hiddenSize], values: weights.flatMap { $0 }),
        .init(name: "bias", shape: [labels.count], values: biases),
      ],
      metadata: ["format": Self.format, "labels": labelsJSON, "encoder": encoder], to: path)
  }

  /// One logit per label for one pooled embedding.
  public func logits(_ embedding: [Float]) -> [Float] {
    zip(weights, biases).map { weight, bias in
      zip(weight, embedding).reduce(bias) { $0 + $1.0 * $1.1 }
    }
  }
}

extension BertEncoder {
  /// One logit per head label for each text, after checking that the heads were trained on this
  /// encoder.
  public func logits(_ texts: [String], heads: LabelHeads, source: String = "heads") throws(EncoderError) -> [[Float]] {
    try check(heads, source: source)
    return embed(texts).map(heads.logits)
  }

  /// Refuses heads trained on other weights or for another embedding width.
  public func check(_ heads: LabelHeads, source: String = "heads") throws(EncoderError) {
    guard heads.encoder == fingerprint else {
      throw .headsForAnotherEncoder(path: source, trainedOn: heads.encoder, loaded: fingerprint, folder: folder)
    }
    guard heads.hiddenSize == config.hiddenSize else {
      throw .badHeads(path: source, reason: "heads are \(heads.hiddenSize) wide, the encoder's embeddings \(config.hiddenSize)")
    }
  }
}
