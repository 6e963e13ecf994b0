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

  /// The largest |weight| or |bias| a head (or the tuned encoder's span tagger) may hold. A head is
  /// a logistic regression over a unit-length embedding, so its logit is at most |w|·1 + |b| per
  /// label: trained heads stay near 1 (the shipped ones under 0.7), and a logit of ±40 already puts
  /// σ within 1e-17 of 0 or 1. Past 1e4 a value is no training result but a corrupt or hand-made
  /// file, and values nearer Float's limit (3e38) overflow to ±inf in the dot product, where
  /// inf − inf gives the NaN that made every probability null.
  public static let maxMagnitude: Float = 1e4

  /// Refuses any value of `tensor` (rows named by `rows`, row-major) that is NaN, infinite or past
  /// `maxMagnitude`, naming the first such value's row and column.
  public static func checkValues(_ values: [Float], tensor: String, rows: [String], path: String, fix: String) throws(EncoderError) {
    guard let index = values.firstIndex(where: { !$0.isFinite || abs($0) > maxMagnitude }) else { return }
    let width = max(1, values.count / max(1, rows.count))
    let (row, column) = index.quotientAndRemainder(dividingBy: width)
    let name = rows.indices.contains(row) ? rows[row] : "?"
    let place = width == 1 ? "'\(name)'" : "row \(row) ('\(name)'), column \(column)"
    throw .badHeads(
      path: path,
      reason: "tensor '\(tensor)' holds \(values[index]) at \(place); every weight must be a finite number of magnitude at "
        + "most \(Int(maxMagnitude)), so the file is corrupt: \(fix)")
  }

  /// Loads heads written by `save`, refusing any that could not decide: no labels, repeated labels,
  /// or a weight or bias that is not finite or past `maxMagnitude`.
  public init(path: String) throws(EncoderError) {
    let file: SafeTensorsFile
    do {
      file = try SafeTensorsFile(path: path)
    } catch {
      throw .weights(error)
    }
    let retrain = "retrain the model (discern train --corpus DIR --out FOLDER)"
    guard file.metadata["format"] == Self.format else {
      throw .badHeads(path: path, reason: "not a label-heads file (metadata 'format' should be '\(Self.format)')")
    }
    guard let labelsJSON = file.metadata["labels"],
      let labels = try? JSONDecoder().decode([String].self, from: Data(labelsJSON.utf8))
    else { throw .badHeads(path: path, reason: "metadata 'labels' is not a JSON array of label names") }
    guard !labels.isEmpty, !labels.contains(""), Set(labels).count == labels.count else {
      throw .badHeads(
        path: path, reason: "metadata 'labels' must name each head's label once, but is \(labels); \(retrain)")
    }
    guard let encoder = file.metadata["encoder"] else {
      throw .badHeads(path: path, reason: "metadata 'encoder' (the fingerprint the heads were trained on) is missing")
    }
    guard let shape = file.tensors["weight"]?.shape, shape.count == 2, shape[0] == labels.count, shape[1] > 0 else {
      throw .badHeads(path: path, reason: "tensor 'weight' must be [\(labels.count) labels, hidden size]")
    }
    let weights: [Float], biases: [Float]
    do {
      weights = try file.floats("weight", shape: shape)
      biases = try file.floats("bias", shape: [labels.count])
    } catch {
      throw .weights(error)
    }
    try Self.checkValues(weights, tensor: "weight", rows: labels, path: path, fix: retrain)
    try Self.checkValues(biases, tensor: "bias", rows: labels, path: path, fix: retrain)
    self.init(labels: labels, flatWeights: weights, hidden: shape[1], biases: biases, encoder: encoder)
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
