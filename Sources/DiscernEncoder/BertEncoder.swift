import COpenBLAS
import Foundation

/// Why an encoder could not be loaded. Each message says exactly what is missing or wrong.
public enum EncoderError: Error, Equatable, CustomStringConvertible {
  /// The folder lacks a file every BERT-family encoder needs.
  case missingFile(folder: String, file: String)
  /// config.json is not a BERT configuration Discern can run.
  case badConfig(path: String, reason: String)
  case weights(SafeTensorsError)
  case tokenizer(TokenizerError)

  public var description: String {
    switch self {
    case .missingFile(let folder, let file):
      "no '\(file)' in encoder folder '\(folder)'; a BERT-family encoder needs config.json, vocab.txt and "
        + "model.safetensors (run 'make model' for the default, or pass --encoder PATH)"
    case .badConfig(let path, let reason): "'\(path)': \(reason)"
    case .weights(let error): error.description
    case .tokenizer(let error): error.description
    }
  }
}

/// The parts of a Hugging Face BERT config.json the forward pass needs.
public struct BertConfig: Decodable, Sendable, Equatable {
  public let hiddenSize: Int
  public let layers: Int
  public let heads: Int
  public let intermediateSize: Int
  public let maxPositions: Int
  public let vocabularySize: Int
  public let layerNormEps: Float

  enum CodingKeys: String, CodingKey {
    case hiddenSize = "hidden_size", layers = "num_hidden_layers", heads = "num_attention_heads"
    case intermediateSize = "intermediate_size", maxPositions = "max_position_embeddings"
    case vocabularySize = "vocab_size", layerNormEps = "layer_norm_eps"
  }
}

/// A BERT-family sentence encoder: embeddings, transformer layers, mean pooling over the tokens,
/// L2 normalisation — what sentence-transformers computes for all-MiniLM-L6-v2. Matrix work goes
/// through OpenBLAS `cblas_sgemm`.
///
/// A batch is packed, not padded: the tokens of all messages stand in one matrix for the dense
/// layers (which treat rows independently), and attention runs per message over its own rows.
/// That is what a padding mask achieves, without computing the padding.
public final class BertEncoder: @unchecked Sendable {
  public let config: BertConfig
  public let tokenizer: WordPieceTokenizer
  public let folder: String

  struct Layer {
    /// Query, key and value stacked: [3H, H], and their biases [3H].
    var qkv: [Float], qkvBias: [Float]
    var attentionOut: [Float], attentionOutBias: [Float]
    var attentionNorm: (weight: [Float], bias: [Float])
    var intermediate: [Float], intermediateBias: [Float]
    var output: [Float], outputBias: [Float]
    var outputNorm: (weight: [Float], bias: [Float])
  }

  let wordEmbeddings: [Float]
  let positionEmbeddings: [Float]
  let tokenTypeEmbedding: [Float]
  let embeddingNorm: (weight: [Float], bias: [Float])
  let layers: [Layer]

  /// Loads `folder` (config.json, vocab.txt, model.safetensors). `threads` sets OpenBLAS's pool.
  public init(folder: String, maxLength: Int = 128, threads: Int = 1) throws(EncoderError) {
    self.folder = folder
    for file in ["config.json", "vocab.txt", "model.safetensors"]
    where !FileManager.default.fileExists(atPath: folder + "/" + file) {
      throw .missingFile(folder: folder, file: file)
    }
    let configPath = folder + "/config.json"
    guard let configData = FileManager.default.contents(atPath: configPath),
      let config = try? JSONDecoder().decode(BertConfig.self, from: configData)
    else { throw .badConfig(path: configPath, reason: "not a BERT config (needs hidden_size, num_hidden_layers, …)") }
    guard config.hiddenSize % config.heads == 0 else {
      throw .badConfig(path: configPath, reason: "hidden_size \(config.hiddenSize) is not divisible by \(config.heads) heads")
    }
    guard maxLength <= config.maxPositions else {
      throw .badConfig(path: configPath, reason: "max length \(maxLength) exceeds \(config.maxPositions) positions")
    }
    self.config = config
    do {
      tokenizer = try WordPieceTokenizer(vocabularyPath: folder + "/vocab.txt", maxLength: maxLength)
    } catch {
      throw .tokenizer(error)
    }
    let h = config.hiddenSize, i = config.intermediateSize
    do {
      let file = try SafeTensorsFile(path: folder + "/model.safetensors")
      // Some exports prefix every name with "bert."; accept both.
      let prefix = file.tensors["bert.embeddings.word_embeddings.weight"] != nil ? "bert." : ""
      func t(_ name: String, _ shape: [Int]) throws(SafeTensorsError) -> [Float] {
        try file.floats(prefix + name, shape: shape)
      }
      wordEmbeddings = try t("embeddings.word_embeddings.weight", [config.vocabularySize, h])
      positionEmbeddings = try t("embeddings.position_embeddings.weight", [config.maxPositions, h])
      tokenTypeEmbedding = Array(try t("embeddings.token_type_embeddings.weight", [2, h]).prefix(h))
      embeddingNorm = (try t("embeddings.LayerNorm.weight", [h]), try t("embeddings.LayerNorm.bias", [h]))
      var layers: [Layer] = []
      for l in 0..<config.layers {
        let p = "encoder.layer.\(l)."
        layers.append(
          Layer(
            qkv: try t(p + "attention.self.query.weight", [h, h]) + t(p + "attention.self.key.weight", [h, h])
              + t(p + "attention.self.value.weight", [h, h]),
            qkvBias: try t(p + "attention.self.query.bias", [h]) + t(p + "attention.self.key.bias", [h])
              + t(p + "attention.self.value.bias", [h]),
            attentionOut: try t(p + "attention.output.dense.weight", [h, h]),
            attentionOutBias: try t(p + "attention.output.dense.bias", [h]),
            attentionNorm: (try t(p + "attention.output.LayerNorm.weight", [h]), try t(p + "attention.output.LayerNorm.bias", [h])),
            intermediate: try t(p + "intermediate.dense.weight", [i, h]),
            intermediateBias: try t(p + "intermediate.dense.bias", [i]),
            output: try t(p + "output.dense.weight", [h, i]),
            outputBias: try t(p + "output.dense.bias", [h]),
            outputNorm: (try t(p + "output.LayerNorm.weight", [h]), try t(p + "output.LayerNorm.bias", [h]))))
      }
      self.layers = layers
    } catch {
      throw .weights(error)
    }
    openblas_set_num_threads(Int32(max(1, threads)))
  }

  /// Pooled, L2-normalised embeddings, one per text.
  public func embed(_ texts: [String]) -> [[Float]] {
    embed(ids: texts.map(tokenizer.encode))
  }

  /// Pooled, L2-normalised embeddings for token id sequences (each with its [CLS] and [SEP]).
  public func embed(ids batch: [[Int32]]) -> [[Float]] {
    let h = config.hiddenSize
    let rows = batch.reduce(0) { $0 + $1.count }
    guard rows > 0 else { return batch.map { _ in [Float](repeating: 0, count: h) } }
    var x = [Float](repeating: 0, count: rows * h)
    var r = 0
    for ids in batch {
      for (position, id) in ids.enumerated() {
        let word = Int(id) * h, pos = position * h, row = (r + position) * h
        for c in 0..<h { x[row + c] = wordEmbeddings[word + c] + positionEmbeddings[pos + c] + tokenTypeEmbedding[c] }
      }
      r += ids.count
    }
    layerNorm(&x, rows: rows, embeddingNorm)
    let lengths = batch.map(\.count)
    for layer in layers { forward(layer, &x, rows: rows, lengths: lengths) }
    // Mean pooling over each message's tokens, then L2 normalisation.
    var pooled: [[Float]] = []
    r = 0
    for n in lengths {
      var v = [Float](repeating: 0, count: h)
      for row in r..<r + n { for c in 0..<h { v[c] += x[row * h + c] } }
      let inverse = 1 / Float(max(n, 1))
      var norm: Float = 0
      for c in 0..<h {
        v[c] *= inverse
        norm += v[c] * v[c]
      }
      let scale = norm > 0 ? 1 / norm.squareRoot() : 0
      pooled.append(v.map { $0 * scale })
      r += n
    }
    return pooled
  }

  func forward(_ layer: Layer, _ x: inout [Float], rows: Int, lengths: [Int]) {
    let h = config.hiddenSize, heads = config.heads, d = h / heads, i = config.intermediateSize
    // Q, K, V for every token at once.
    var qkv = linear(x, rows: rows, inputs: h, weights: layer.qkv, bias: layer.qkvBias, outputs: 3 * h)
    var context = [Float](repeating: 0, count: rows * h)
    let scale = 1 / Float(d).squareRoot()
    let longest = lengths.max() ?? 0
    var scores = [Float](repeating: 0, count: longest * longest)
    var start = 0
    qkv.withUnsafeMutableBufferPointer { qkv in
      context.withUnsafeMutableBufferPointer { context in
        scores.withUnsafeMutableBufferPointer { scores in
          for n in lengths {
            for head in 0..<heads {
              let q = qkv.baseAddress! + start * 3 * h + head * d
              let k = q + h
              let v = q + 2 * h
              cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(n), Int32(d), scale,
                q, Int32(3 * h), k, Int32(3 * h), 0, scores.baseAddress, Int32(n))
              for row in 0..<n { softmax(scores.baseAddress! + row * n, count: n) }
              cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(d), Int32(n), 1,
                scores.baseAddress, Int32(n), v, Int32(3 * h), 0, context.baseAddress! + start * h + head * d, Int32(h))
            }
            start += n
          }
        }
      }
    }
    var attended = linear(context, rows: rows, inputs: h, weights: layer.attentionOut, bias: layer.attentionOutBias, outputs: h)
    for j in 0..<attended.count { attended[j] += x[j] }
    layerNorm(&attended, rows: rows, layer.attentionNorm)
    var hidden = linear(attended, rows: rows, inputs: h, weights: layer.intermediate, bias: layer.intermediateBias, outputs: i)
    hidden.withUnsafeMutableBufferPointer { gelu($0) }
    var out = linear(hidden, rows: rows, inputs: i, weights: layer.output, bias: layer.outputBias, outputs: h)
    for j in 0..<out.count { out[j] += attended[j] }
    layerNorm(&out, rows: rows, layer.outputNorm)
    x = out
  }

  /// `input[rows, inputs] · weightsᵀ + bias`, weights stored [outputs, inputs] as in PyTorch.
  func linear(_ input: [Float], rows: Int, inputs: Int, weights: [Float], bias: [Float], outputs: Int) -> [Float] {
    var out = [Float](repeating: 0, count: rows * outputs)
    for r in 0..<rows {
      for c in 0..<outputs { out[r * outputs + c] = bias[c] }
    }
    cblas_sgemm(
      CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(outputs), Int32(inputs), 1,
      input, Int32(inputs), weights, Int32(inputs), 1, &out, Int32(outputs))
    return out
  }

  func layerNorm(_ x: inout [Float], rows: Int, _ norm: (weight: [Float], bias: [Float])) {
    let h = config.hiddenSize
    let eps = config.layerNormEps
    for r in 0..<rows {
      let base = r * h
      var mean: Float = 0
      for c in 0..<h { mean += x[base + c] }
      mean /= Float(h)
      var variance: Float = 0
      for c in 0..<h {
        let d = x[base + c] - mean
        variance += d * d
      }
      let inverse = 1 / (variance / Float(h) + eps).squareRoot()
      for c in 0..<h { x[base + c] = (x[base + c] - mean) * inverse * norm.weight[c] + norm.bias[c] }
    }
  }

  func softmax(_ row: UnsafeMutablePointer<Float>, count: Int) {
    var top = -Float.infinity
    for j in 0..<count { top = max(top, row[j]) }
    var sum: Float = 0
    for j in 0..<count {
      row[j] = expf(row[j] - top)
      sum += row[j]
    }
    let inverse = 1 / sum
    for j in 0..<count { row[j] *= inverse }
  }

  /// GELU with erf, x·Φ(x). erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7, far below float
  /// rounding in the sums around it), which vectorizes where libm's erff does not.
  func gelu(_ x: UnsafeMutableBufferPointer<Float>) {
    for j in 0..<x.count {
      let v = x[j]
      let z = abs(v) * 0.70710678118654752
      let t = 1 / (1 + 0.3275911 * z)
      let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
      let erfAbs = 1 - poly * expf(-z * z)
      let erf = v < 0 ? -erfAbs : erfAbs
      x[j] = 0.5 * v * (1 + erf)
    }
  }
}
