import CDiscernKernels
import Foundation

/// Why an encoder could not be loaded. Each message says exactly what is missing or wrong.
public enum EncoderError: Error, Equatable, CustomStringConvertible {
  /// The folder lacks a file every BERT-family encoder needs.
  case missingFile(folder: String, file: String)
  /// config.json is not a BERT configuration Discern can run.
  case badConfig(path: String, reason: String)
  case weights(SafeTensorsError)
  case tokenizer(TokenizerError)
  /// A label-heads file that is not in Discern's format.
  case badHeads(path: String, reason: String)
  /// Heads trained on other encoder weights: their logits would mean nothing.
  case headsForAnotherEncoder(path: String, trainedOn: String, loaded: String, folder: String)
  /// A tuned encoder that learned from glossed messages, loaded without the gloss.
  case glossRequired(tuned: String)
  /// Tuned layers trained over another base model's embeddings.
  case tunedForAnotherBase(tuned: String, base: String, expected: String, found: String)
  /// OpenBLAS (loaded on first use) is not installed.
  case blasUnavailable(String)
  /// A vocabulary that assigns token ids past the last row of the embedding table: such a token
  /// would be read from outside the table.
  case vocabularyExceedsEmbeddings(vocabulary: String, highestID: Int, weights: String, table: String, rows: Int)
  /// DISCERN_KERNEL names no int8 kernel path.
  case unknownKernel(String)
  /// DISCERN_KERNEL (or the caller) asked for a path this CPU does not run.
  case kernelUnsupported(Int8Kernel)
  /// Weights wider than the chosen path multiplies exactly.
  case weightRangeUnsupported(kernel: Int8Kernel, range: WeightRange)

  public var description: String {
    switch self {
    case .missingFile(let folder, let file):
      "no '\(file)' in encoder folder '\(folder)'; a BERT-family encoder needs config.json, vocab.txt and "
        + "model.safetensors (run 'make model' for the default, or pass --encoder PATH)"
    case .badConfig(let path, let reason): "'\(path)': \(reason)"
    case .weights(let error): error.description
    case .tokenizer(let error): error.description
    case .badHeads(let path, let reason): "'\(path)': \(reason)"
    case .glossRequired(let tuned):
      "'\(tuned)' learned from messages with their emoji meanings appended (its config.json names the gloss); load it with the emoji lexicon (--lexicon Lexicons/cesm.yaml)"
    case .headsForAnotherEncoder(let path, let trainedOn, let loaded, let folder):
      "'\(path)' was trained on encoder \(trainedOn), but '\(folder)' is \(loaded); "
        + "pass the encoder it was trained with (--encoder PATH) or retrain it (discern train)"
    case .tunedForAnotherBase(let tuned, let base, let expected, let found):
      "'\(tuned)' extends base encoder \(expected), but '\(base)' is \(found); pass the base it was trained "
        + "on (--encoder PATH, 'make model' fetches the default) or retrain it (make train-encoder)"
    case .blasUnavailable(let reason): reason
    case .vocabularyExceedsEmbeddings(let vocabulary, let highestID, let weights, let table, let rows):
      "'\(vocabulary)' assigns token ids up to \(highestID), but the embedding table '\(table)' in '\(weights)' has "
        + "\(rows) rows (ids 0 to \(rows - 1)); use the vocab.txt the weights were exported with ('make model' for the default)"
    case .unknownKernel(let name):
      "\(Int8Kernel.environmentVariable)='\(name)' names no int8 kernel path; use one of "
        + "\(Int8Kernel.allCases.map(\.rawValue).joined(separator: ", ")), or unset it for the fastest this CPU runs "
        + "(\(Int8Kernel.fastest))"
    case .kernelUnsupported(let kernel):
      "the int8 kernel path '\(kernel)' needs \(kernel.requirement), which this CPU lacks; this CPU runs "
        + "\(Int8Kernel.supported.map(\.rawValue).joined(separator: ", ")) (unset \(Int8Kernel.environmentVariable) for the fastest)"
    case .weightRangeUnsupported(let kernel, let range):
      "the int8 kernel path '\(kernel)' multiplies weights up to \(kernel.widestWeights) exactly, not \(range) "
        + "(its 16-bit pair sums would saturate); use weight range \(kernel.widestWeights.rawValue) or a VNNI path"
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

  /// Refuses a configuration the forward pass cannot run: every size must be a positive integer
  /// (0 attention heads divides by zero, a negative layer count is an invalid range) within the
  /// kernels' 32-bit size arguments, the hidden size must split evenly between the heads, and the
  /// LayerNorm epsilon must be a positive finite number. Sizes are checked against the weights later,
  /// tensor by tensor.
  func validate(path: String) throws(EncoderError) {
    let sizes = [
      ("hidden_size", hiddenSize), ("num_hidden_layers", layers), ("num_attention_heads", heads),
      ("intermediate_size", intermediateSize), ("max_position_embeddings", maxPositions), ("vocab_size", vocabularySize),
    ]
    let restore = "restore the config.json the weights were exported with ('make model' for the default encoder)"
    for (key, value) in sizes where !(1...Int(Int32.max)).contains(value) {
      throw .badConfig(path: path, reason: "\(key) is \(value), but it must be a positive integer (at most \(Int32.max)); \(restore)")
    }
    guard hiddenSize % heads == 0 else {
      throw .badConfig(path: path, reason: "hidden_size \(hiddenSize) is not divisible by \(heads) heads; \(restore)")
    }
    guard layerNormEps.isFinite, layerNormEps > 0 else {
      throw .badConfig(path: path, reason: "layer_norm_eps is \(layerNormEps), but it must be a small positive number; \(restore)")
    }
  }

  /// The same shapes with another number of transformer layers (a distilled student's).
  func withLayers(_ layers: Int) -> BertConfig {
    BertConfig(
      hiddenSize: hiddenSize, layers: layers, heads: heads, intermediateSize: intermediateSize,
      maxPositions: maxPositions, vocabularySize: vocabularySize, layerNormEps: layerNormEps)
  }

  init(
    hiddenSize: Int, layers: Int, heads: Int, intermediateSize: Int, maxPositions: Int, vocabularySize: Int,
    layerNormEps: Float
  ) {
    self.hiddenSize = hiddenSize
    self.layers = layers
    self.heads = heads
    self.intermediateSize = intermediateSize
    self.maxPositions = maxPositions
    self.vocabularySize = vocabularySize
    self.layerNormEps = layerNormEps
  }
}

/// `config.json` of a task-tuned encoder (written by Training/train.py): which base model's
/// embeddings its layers run on, their shapes and its heads' labels.
public struct TunedConfig: Decodable, Sendable, Equatable {
  public static let format = "discern-tuned-1"

  public struct Base: Decodable, Sendable, Equatable {
    public let name: String
    public let fingerprint: String
  }

  public let format: String
  public let base: Base
  public let layers: Int
  public let hiddenSize: Int
  public let heads: Int
  public let intermediateSize: Int
  public let labels: [String]
  /// "teacher" or "student".
  public let role: String?
  /// How its training texts were built: "none", or the gloss command (emoji meanings appended).
  public let gloss: String?
  /// The span tagger's classes, when it has one (`O`, `B-casual_mention`, …).
  public let tokenTags: [String]?

  /// Whether it learned from messages with their emoji glossed, and so must read them that way.
  public var readsGlossedText: Bool { gloss.map { $0 != "none" } ?? false }

  enum CodingKeys: String, CodingKey {
    case format, base, labels, role, gloss
    case tokenTags = "token_tags"
    case layers = "num_hidden_layers", hiddenSize = "hidden_size", heads = "num_attention_heads"
    case intermediateSize = "intermediate_size"
  }
}

/// A BERT-family sentence encoder: embeddings, transformer layers, mean pooling over the tokens,
/// L2 normalisation — what sentence-transformers computes for all-MiniLM-L6-v2. Linear layers run in
/// float32 through Discern's packed-weight kernel (`dk_sgemm_packed`) or in int8 through its int8 kernels (`precision`; the
/// instruction path `Int8Kernel`, the fastest this CPU runs unless DISCERN_KERNEL names one); each
/// attention head runs in one AVX-512 pass of Discern's own (`dk_attention_head`), or on OpenBLAS
/// `cblas_sgemm` where that cannot run (loaded on first use, `dk_sgemm`); attention, LayerNorm and
/// GELU stay in float32.
///
/// A batch is packed, not padded: the tokens of all messages stand in one matrix for the dense
/// layers (which treat rows independently), and attention runs per message over its own rows.
/// That is what a padding mask achieves, without computing the padding.
///
/// One message has its steps split between `threads` (`WorkerPool`); a batch is cut into passes of
/// at most `chunkRows` tokens that the threads take in turn.
///
/// `embed` may be called from several threads at once; each call has its own scratch memory, and a
/// call that finds the pool busy splits its steps through `concurrentPerform` instead.
public final class BertEncoder: @unchecked Sendable {
  public let config: BertConfig
  public let tokenizer: WordPieceTokenizer
  public let folder: String
  public let precision: Precision
  /// The int8 product's instruction path and weight width (nil in fp32).
  public let int8: (kernel: Int8Kernel, weights: WeightRange)?
  /// What the embeddings' numbers depend on besides the weights: "fp32", "int8" (weights ±63, what
  /// every path computes alike), "int8w127". Caches of embeddings key on it.
  public var arithmetic: String {
    switch int8?.weights {
    case nil: "fp32"
    case .sevenBit?: "int8"
    case .eightBit?: "int8w127"
    }
  }
  /// Threads for one batch: a batch's passes are shared between them; a single message has its
  /// products split by output columns and its attention by heads. OpenBLAS itself always runs
  /// single-threaded.
  public let threads: Int
  /// The threads one message's steps are split between (nil with one thread).
  let pool: WorkerPool?
  /// Identifies these weights, so that heads and fusion models trained on them can refuse others.
  public let fingerprint: String
  /// The task-tuned layers' folder, when they replace the base model's.
  public let tunedFolder: String?
  /// The tuned encoder's own label heads (trained with its layers), when it has them.
  public let tunedHeads: LabelHeads?
  /// The tuned encoder's span tagger, when it has one: BIO over word pieces.
  public let tagger: TokenTagger?
  /// What the encoder reads of a message: the message itself, or (for a tuned encoder that learned
  /// that way) the message with its emoji's meanings appended. Applied in every entry point.
  let input: @Sendable (String) -> String
  /// Identifies `input` when it is not the message itself (the gloss's lexicon), nil otherwise.
  public let inputIdentity: String?

  struct Layer {
    /// Query, key and value stacked: [3H, H].
    let qkv: DenseLayer
    let attentionOut: DenseLayer
    let attentionNorm: (weight: [Float], bias: [Float])
    let intermediate: DenseLayer
    let output: DenseLayer
    let outputNorm: (weight: [Float], bias: [Float])
  }

  /// Read in place from the map: only the rows of tokens actually seen become resident.
  let wordEmbeddings: FloatTensor
  let positionEmbeddings: [Float]
  let tokenTypeEmbedding: [Float]
  let embeddingNorm: (weight: [Float], bias: [Float])
  let layers: [Layer]

  /// Loads `folder` (config.json, vocab.txt, model.safetensors). With `tuned`, the transformer layers
  /// and label heads come from that folder (config.json naming the base, model.safetensors) and only
  /// the tokenizer and embeddings from `folder`, which must be the base they were trained on.
  ///
  /// `gloss` turns a message into the text a glossed encoder reads (Discern passes `EmojiGloss.text`
  /// with the lexicon); a tuned encoder whose config names a gloss refuses to load without it.
  public init(
    folder: String, tuned: String? = nil, precision: Precision = .fp32, maxLength: Int = 128, threads: Int = 1,
    gloss: InputGloss? = nil, kernel: Int8Kernel? = nil, weights: WeightRange? = nil
  ) throws(EncoderError) {
    if let problem = dk_blas_load() { throw .blasUnavailable(String(cString: problem)) }
    self.folder = folder
    tunedFolder = tuned
    self.precision = precision
    if precision == .int8 {
      let path: Int8Kernel
      if let kernel { path = kernel } else { path = try Int8Kernel.chosen() }
      guard path.isSupported else { throw .kernelUnsupported(path) }
      let range = weights ?? Int8Kernel.defaultWeights(for: path)
      guard range.limit <= path.widestWeights.limit else { throw .weightRangeUnsupported(kernel: path, range: range) }
      int8 = (path, range)
    } else {
      int8 = nil
    }
    self.threads = max(1, threads)
    pool = self.threads > 1 ? WorkerPool(workers: self.threads - 1) : nil
    for file in ["config.json", "vocab.txt", "model.safetensors"]
    where !FileManager.default.fileExists(atPath: folder + "/" + file) {
      throw .missingFile(folder: folder, file: file)
    }
    let configPath = folder + "/config.json"
    guard let configData = FileManager.default.contents(atPath: configPath),
      let config = try? JSONDecoder().decode(BertConfig.self, from: configData)
    else { throw .badConfig(path: configPath, reason: "not a BERT config (needs hidden_size, num_hidden_layers, …)") }
    try config.validate(path: configPath)
    guard maxLength <= config.maxPositions else {
      throw .badConfig(path: configPath, reason: "max length \(maxLength) exceeds \(config.maxPositions) positions")
    }
    let tunedConfig: (config: TunedConfig, bytes: Data)?
    if let tuned {
      tunedConfig = try Self.readTunedConfig(tuned, base: config)
      self.config = config.withLayers(tunedConfig!.config.layers)
      if tunedConfig!.config.readsGlossedText {
        guard let gloss else { throw .glossRequired(tuned: tuned) }
        input = gloss.apply
        inputIdentity = gloss.identity
      } else {
        input = { $0 }
        inputIdentity = nil
      }
    } else {
      input = { $0 }
      inputIdentity = nil
      tunedConfig = nil
      self.config = config
    }
    do {
      tokenizer = try WordPieceTokenizer(vocabularyPath: folder + "/vocab.txt", maxLength: maxLength)
    } catch {
      throw .tokenizer(error)
    }
    let h = config.hiddenSize, i = config.intermediateSize
    let file: SafeTensorsFile
    do {
      file = try SafeTensorsFile(path: folder + "/model.safetensors")
    } catch {
      throw .weights(error)
    }
    // The vocabulary shapes every output as much as the weights do: a swapped token id moved a
    // decision from 0.58 to 0.07, so it is fingerprinted with the config.
    guard let vocabulary = FileManager.default.contents(atPath: folder + "/vocab.txt") else {
      throw .missingFile(folder: folder, file: "vocab.txt")
    }
    let baseFingerprint = file.fingerprint(extra: configData + vocabulary)
    if let tuned, let tunedConfig, tunedConfig.config.base.fingerprint != baseFingerprint {
      throw .tunedForAnotherBase(
        tuned: tuned, base: folder, expected: "\(tunedConfig.config.base.name) (\(tunedConfig.config.base.fingerprint))",
        found: baseFingerprint)
    }
    /// A read from the weights, its fault as an encoder error.
    func read<T>(_ body: () throws(SafeTensorsError) -> T) throws(EncoderError) -> T {
      do {
        return try body()
      } catch {
        throw .weights(error)
      }
    }
    // Some exports prefix every name with "bert."; accept both.
    let prefix = file.tensors["bert.embeddings.word_embeddings.weight"] != nil ? "bert." : ""
    let layerFile: SafeTensorsFile, layerPrefix: String, layerConfigPath: String
    if let tuned, let tunedConfig {
      layerFile = try read { () throws(SafeTensorsError) in try SafeTensorsFile(path: tuned + "/model.safetensors") }
      layerPrefix = ""
      layerConfigPath = tuned + "/config.json"
      // The base's identity and the tuned weights' together.
      var hash = FNV1a()
      hash.mix(baseFingerprint.utf8)
      hash.mix(layerFile.fingerprint(extra: tunedConfig.bytes).utf8)
      fingerprint = hash.fingerprint
      // The tuned heads and tagger decide as they are read: refuse NaN, infinities and absurd
      // magnitudes here, as LabelHeads(path:) does for a model's heads.
      let retrain = "retrain the tuned encoder (make train-encoder)"
      let labels = tunedConfig.config.labels
      let headWeights = try read { () throws(SafeTensorsError) in try layerFile.floats("heads.weight", shape: [labels.count, h]) }
      let headBiases = try read { () throws(SafeTensorsError) in try layerFile.floats("heads.bias", shape: [labels.count]) }
      try LabelHeads.checkValues(headWeights, tensor: "heads.weight", rows: labels, path: layerFile.path, fix: retrain)
      try LabelHeads.checkValues(headBiases, tensor: "heads.bias", rows: labels, path: layerFile.path, fix: retrain)
      tunedHeads = LabelHeads(labels: labels, flatWeights: headWeights, hidden: h, biases: headBiases, encoder: hash.fingerprint)
      if let tags = tunedConfig.config.tokenTags {
        let tagWeights = try read { () throws(SafeTensorsError) in try layerFile.floats("tokens.weight", shape: [tags.count, h]) }
        let tagBiases = try read { () throws(SafeTensorsError) in try layerFile.floats("tokens.bias", shape: [tags.count]) }
        try LabelHeads.checkValues(tagWeights, tensor: "tokens.weight", rows: tags, path: layerFile.path, fix: retrain)
        try LabelHeads.checkValues(tagBiases, tensor: "tokens.bias", rows: tags, path: layerFile.path, fix: retrain)
        tagger = TokenTagger(tags: tags, weight: tagWeights, bias: tagBiases, hidden: h)
      } else {
        tagger = nil
      }
    } else {
      layerFile = file
      layerPrefix = prefix
      layerConfigPath = configPath
      fingerprint = baseFingerprint
      tunedHeads = nil
      tagger = nil
    }
    // More layers than the weights hold would fail on the first missing tensor; say what is wrong.
    let layerCount = self.config.layers
    let held = Self.layersHeld(in: layerFile, prefix: layerPrefix)
    guard layerCount <= held else {
      throw .badConfig(
        path: layerConfigPath,
        reason: "num_hidden_layers is \(layerCount), but '\(layerFile.path)' holds \(held) layers; set it to at most \(held), "
          + "or use the weights this config was written for")
    }
    func l(_ name: String, _ shape: [Int]) throws(SafeTensorsError) -> [Float] {
      try layerFile.floats(layerPrefix + name, shape: shape)
    }
    func t(_ name: String, _ shape: [Int]) throws(SafeTensorsError) -> [Float] {
      try file.floats(prefix + name, shape: shape)
    }
    let int8 = self.int8
    func dense(_ names: [String], outputs: Int, inputs: Int) throws(SafeTensorsError) -> DenseLayer {
      var weight: [Float] = []
      var bias: [Float] = []
      for name in names {
        weight += try layerFile.tensor(layerPrefix + name + ".weight", shape: [outputs / names.count, inputs]).array
        bias += try l(name + ".bias", [outputs / names.count])
      }
      return weight.withUnsafeBufferPointer {
        DenseLayer(weight: $0, bias: bias, outputs: outputs, inputs: inputs, int8: int8)
      }
    }
    let wordTable = prefix + "embeddings.word_embeddings.weight"
    do {
      wordEmbeddings = try file.tensor(wordTable, shape: [config.vocabularySize, h])
      positionEmbeddings = try t("embeddings.position_embeddings.weight", [config.maxPositions, h])
      tokenTypeEmbedding = Array(try t("embeddings.token_type_embeddings.weight", [2, h]).prefix(h))
      embeddingNorm = (try t("embeddings.LayerNorm.weight", [h]), try t("embeddings.LayerNorm.bias", [h]))
      var layers: [Layer] = []
      for index in 0..<layerCount {
        let p = "encoder.layer.\(index)."
        layers.append(
          Layer(
            qkv: try dense(["query", "key", "value"].map { p + "attention.self." + $0 }, outputs: 3 * h, inputs: h),
            attentionOut: try dense([p + "attention.output.dense"], outputs: h, inputs: h),
            attentionNorm: (try l(p + "attention.output.LayerNorm.weight", [h]), try l(p + "attention.output.LayerNorm.bias", [h])),
            intermediate: try dense([p + "intermediate.dense"], outputs: i, inputs: h),
            output: try dense([p + "output.dense"], outputs: h, inputs: i),
            outputNorm: (try l(p + "output.LayerNorm.weight", [h]), try l(p + "output.LayerNorm.bias", [h]))))
      }
      self.layers = layers
    } catch {
      throw .weights(error)
    }
    // The forward pass reads row `id` of the table unchecked (a token past it would read outside the
    // map), so every id the tokenizer can emit, special tokens included, must be a row of the table.
    let highestID = Int(tokenizer.vocabulary.values.max() ?? 0)
    guard highestID < config.vocabularySize else {
      throw .vocabularyExceedsEmbeddings(
        vocabulary: folder + "/vocab.txt", highestID: highestID, weights: file.path, table: wordTable, rows: config.vocabularySize)
    }
  }

  deinit { pool?.stop() }

  /// How many transformer layers `file` holds: `encoder.layer.0.` up to the first index it lacks.
  static func layersHeld(in file: SafeTensorsFile, prefix: String) -> Int {
    let marker = prefix + "encoder.layer."
    var indices = Set<Int>()
    for name in file.tensors.keys where name.hasPrefix(marker) {
      if let index = Int(name.dropFirst(marker.count).prefix { $0 != "." }) { indices.insert(index) }
    }
    var count = 0
    while indices.contains(count) { count += 1 }
    return count
  }

  /// Reads and checks a tuned folder's config.json against the base configuration.
  static func readTunedConfig(_ tuned: String, base: BertConfig) throws(EncoderError) -> (config: TunedConfig, bytes: Data) {
    for file in ["config.json", "model.safetensors"] where !FileManager.default.fileExists(atPath: tuned + "/" + file) {
      throw .missingFile(folder: tuned, file: file)
    }
    let path = tuned + "/config.json"
    guard let bytes = FileManager.default.contents(atPath: path),
      let config = try? JSONDecoder().decode(TunedConfig.self, from: bytes), config.format == TunedConfig.format
    else {
      throw .badConfig(path: path, reason: "not a tuned-encoder config ('format': '\(TunedConfig.format)', 'base', 'num_hidden_layers', 'labels', …; Training/train.py writes it)")
    }
    let rewrite = "fix it or write it again (Training/train.py)"
    // The layer count is this config's own; the other sizes must equal the (validated) base's below.
    guard (1...Int(Int32.max)).contains(config.layers) else {
      throw .badConfig(path: path, reason: "num_hidden_layers is \(config.layers), but it must be a positive integer; \(rewrite)")
    }
    // One head row per label and one tagger row per tag: an empty list decides nothing, and a
    // repeated name would make two rows answer for one label.
    let nameLists: [(key: String, names: [String]?)] = [("labels", config.labels), ("token_tags", config.tokenTags)]
    for (key, names) in nameLists {
      guard let names else { continue }
      guard !names.isEmpty, !names.contains(""), Set(names).count == names.count else {
        throw .badConfig(path: path, reason: "'\(key)' must list distinct, non-empty names, one per row of the weights, but is \(names); \(rewrite)")
      }
    }
    guard config.hiddenSize == base.hiddenSize, config.heads == base.heads, config.intermediateSize == base.intermediateSize else {
      throw .badConfig(path: path, reason: "layer shapes (hidden \(config.hiddenSize), \(config.heads) heads, intermediate \(config.intermediateSize)) differ from the base's (\(base.hiddenSize), \(base.heads), \(base.intermediateSize))")
    }
    return (config, bytes)
  }

  /// Pooled, L2-normalised embeddings, one per text.
  public func embed(_ texts: [String]) -> [[Float]] { embed(ids: shared(texts) { [self] in ids($0) }) }

  /// The token ids the encoder reads for a message (glossed, when it learned that way).
  public func ids(_ text: String) -> [Int32] { tokenizer.encode(input(text)) }

  /// What the encoder reads of each message: its pooled embedding and, with a span tagger, the
  /// spans it marks in the message (Unicode-scalar offsets of the message itself; the appended
  /// gloss is read but never marked).
  /// Without a tagger it is `embed` with no spans (token offsets are only worked out for a tagger).
  public func read(_ texts: [String]) -> [EncoderReading] {
    guard let tagger else { return embed(texts).map { EncoderReading(embedding: $0, spans: []) } }
    let tokens = shared(texts) { [tokenizer, input] in tokenizer.tokens(input($0)) }
    let (pooled, tagProbabilities) = forward(ids: tokens.map { $0.map(\.id) }, tagging: true)
    return texts.indices.map { row in
      EncoderReading(
        embedding: pooled[row],
        spans: tagger.spans(tokens: tokens[row], probabilities: tagProbabilities[row], messageLength: texts[row].unicodeScalars.count))
    }
  }

  /// `transform` of each text, in order, the texts shared between the encoder's threads: an audit
  /// that tokenized its batches on one thread left the other core idle for 7% of its time.
  func shared<T>(_ texts: [String], _ transform: @escaping @Sendable (String) -> T) -> [T] {
    // Several parts per thread, taken as each finishes, so one that drew long texts is not left alone.
    let parts = min(texts.count, threads * 8)
    guard parts > 1 else { return texts.map(transform) }
    let results = Slots<T>(count: texts.count)
    WorkerPool.run(parts, on: pool) { part in
      for index in texts.count * part / parts..<texts.count * (part + 1) / parts { results.store(index, transform(texts[index])) }
    }
    return results.values
  }

  /// A forward pass is coming (a service has a request in hand): wakes the threads that will share
  /// it, so that they are up by its first step instead of being woken there (`WorkerPool.wake`).
  /// `read` does not call it: its first step wakes them anyway, and a server calls it earlier.
  public func prepare() { pool?.wake() }

  /// Scratch memory for one batch, sized by its rows.
  final class Workspace {
    let x, qkv, context, attended, hidden: UnsafeMutableBufferPointer<Float>
    /// One attention scratch per thread (`attentionScratch` floats each).
    let scratch: UnsafeMutableBufferPointer<Float>
    let attentionScratch: Int
    let quantized: QuantizedRows

    init(rows: Int, longest: Int, threads: Int, config: BertConfig) {
      let h = config.hiddenSize, i = config.intermediateSize
      x = .allocate(capacity: rows * h)
      qkv = .allocate(capacity: rows * 3 * h)
      context = .allocate(capacity: rows * h)
      attended = .allocate(capacity: rows * h)
      hidden = .allocate(capacity: rows * i)
      attentionScratch = dk_attention_scratch_floats(Int32(longest), Int32(h / config.heads))
      scratch = .allocate(capacity: max(1, threads * attentionScratch))
      quantized = QuantizedRows(rows: rows, inputs: max(h, i))
    }

    deinit { for buffer in [x, qkv, context, attended, hidden, scratch] { buffer.deallocate() } }
  }

  /// Pooled, L2-normalised embeddings for token id sequences (each with its [CLS] and [SEP]).
  public func embed(ids batch: [[Int32]]) -> [[Float]] { forward(ids: batch, tagging: false).pooled }

  /// Pooled embeddings and, when `tagging`, the tagger's class probabilities per token. One message
  /// has its steps split between the threads; a batch is cut into passes (`passes`) that the threads
  /// take one at a time as each finishes its last, so a thread that drew shorter messages is not
  /// left waiting for the other.
  func forward(ids batch: [[Int32]], tagging: Bool) -> (pooled: [[Float]], tags: [[[Float]]]) {
    guard min(threads, batch.count) > 1 else {
      // One thread, or one message whose steps the threads split: the passes in turn.
      let passes = Self.passes(batch.map(\.count), rows: chunkRows)
      return Self.joined(passes.map { forward(ids: Array(batch[$0]), threads: threads, tagging: tagging) })
    }
    let total = batch.reduce(0) { $0 + $1.count }
    // At least one pass per thread when the batch is small, none longer than chunkRows.
    let passes = Self.passes(batch.map(\.count), rows: min(chunkRows, (total + threads - 1) / threads))
    let results = Slots<(pooled: [[Float]], tags: [[[Float]]])>(count: passes.count)
    WorkerPool.run(passes.count, on: pool) { index in
      results.store(index, self.forward(ids: Array(batch[passes[index]]), threads: 1, tagging: tagging))
    }
    pool?.rest()
    return Self.joined(results.values)
  }

  /// Rows (tokens) one forward pass takes at most, unless a single message is longer: past that a
  /// pass's activations leave the core's cache between steps. In fp32 a thread's whole share of a
  /// batch-32 in one pass ran 1.35× slower per message than passes of 256 rows, and 320 rows already
  /// as slow as no chunks (`discern-bench encoder --batch 32 --threads 2`). In int8 passes of 128
  /// rows keep the FFN's 1536-wide hidden rows (768 KB) in a 1 MB L2 through the product, GELU and
  /// requantization: `discern audit` of 4,000 keyword tweets, alternated six times, took 0.94× the
  /// time of passes of 256 (96 and 64 rows: no better than 128).
  var chunkRows: Int { precision == .int8 ? 128 : 256 }

  /// Consecutive runs of messages of at most `rows` tokens together (a longer message alone).
  static func passes(_ lengths: [Int], rows: Int) -> [Range<Int>] {
    var passes: [Range<Int>] = []
    var start = 0
    while start < lengths.count {
      var end = start + 1, taken = lengths[start]
      while end < lengths.count, taken + lengths[end] <= rows {
        taken += lengths[end]
        end += 1
      }
      passes.append(start..<end)
      start = end
    }
    return passes
  }

  /// One result per item, each written by the one thread that computed it.
  private final class Slots<T>: @unchecked Sendable {
    private var slots: [T?]
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func store(_ index: Int, _ value: T) { slots.withUnsafeMutableBufferPointer { $0[index] = value } }
    var values: [T] { slots.map { $0! } }
  }

  /// The passes' results joined in order.
  private static func joined(_ passes: [(pooled: [[Float]], tags: [[[Float]]])]) -> (pooled: [[Float]], tags: [[[Float]]]) {
    (passes.flatMap(\.pooled), passes.flatMap(\.tags))
  }

  func forward(ids batch: [[Int32]], threads: Int, tagging: Bool, clock: StageClock? = nil) -> (pooled: [[Float]], tags: [[[Float]]]) {
    let h = config.hiddenSize
    let lengths = batch.map(\.count)
    let rows = lengths.reduce(0, +)
    guard rows > 0 else { return (batch.map { _ in [Float](repeating: 0, count: h) }, batch.map { _ in [] }) }
    let work = Workspace(rows: rows, longest: lengths.max() ?? 0, threads: threads, config: config)
    let x = work.x.baseAddress!
    let words = wordEmbeddings.values.baseAddress!
    var r = 0
    positionEmbeddings.withUnsafeBufferPointer { positions in
      tokenTypeEmbedding.withUnsafeBufferPointer { type in
        let type = type.baseAddress!
        for ids in batch {
          for (position, id) in ids.enumerated() {
            let word = words + Int(id) * h, at = positions.baseAddress! + position * h, row = x + (r + position) * h
            for c in 0..<h { row[c] = word[c] + at[c] + type[c] }
          }
          r += ids.count
        }
      }
    }
    dk_add_layernorm(x, nil, Int32(rows), Int32(h), embeddingNorm.weight, embeddingNorm.bias, config.layerNormEps)
    clock?.charge(.embeddings)
    let heads = HeadSplit(lengths: lengths, heads: config.heads, threads: threads)
    for layer in layers { forward(layer, work, rows: rows, heads: heads, threads: threads, clock: clock) }
    pool(threads)?.rest()
    // The span tagger reads each token's last-layer state.
    var tags: [[[Float]]] = []
    if tagging, let tagger {
      r = 0
      for n in lengths {
        tags.append(tagger.probabilities(UnsafePointer(x + r * h), rows: n))
        r += n
      }
    }
    // Mean pooling over each message's tokens, then L2 normalisation.
    var pooled: [[Float]] = []
    r = 0
    for n in lengths {
      var v = [Float](repeating: 0, count: h)
      v.withUnsafeMutableBufferPointer { sum in
        for row in r..<r + n {
          let state = x + row * h
          for c in 0..<h { sum[c] += state[c] }
        }
      }
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
    clock?.charge(.pooling)
    return (pooled, tags)
  }

  func forward(_ layer: Layer, _ work: Workspace, rows: Int, heads: HeadSplit, threads: Int, clock: StageClock? = nil) {
    let h = config.hiddenSize, pool = pool(threads)
    let x = work.x.baseAddress!, qkv = work.qkv.baseAddress!, context = work.context.baseAddress!
    let attended = work.attended.baseAddress!, hidden = work.hidden.baseAddress!
    // Q, K, V for every token at once.
    layer.qkv.apply(x, rows: rows, into: qkv, scratch: work.quantized, threads: threads, pool: pool, clock: clock, stage: .qkv)
    attend(work, heads: heads, pool: pool)
    clock?.charge(.attention)
    layer.attentionOut.apply(context, rows: rows, into: attended, scratch: work.quantized, threads: threads, pool: pool, clock: clock, stage: .attentionOut)
    dk_add_layernorm(attended, x, Int32(rows), Int32(h), layer.attentionNorm.weight, layer.attentionNorm.bias, config.layerNormEps)
    clock?.charge(.layerNorm)
    layer.intermediate.apply(
      attended, rows: rows, into: hidden, scratch: work.quantized, threads: threads, pool: pool, activation: .gelu, clock: clock, stage: .ffnIn)
    layer.output.apply(hidden, rows: rows, into: x, scratch: work.quantized, threads: threads, pool: pool, clock: clock, stage: .ffnOut)
    dk_add_layernorm(x, attended, Int32(rows), Int32(h), layer.outputNorm.weight, layer.outputNorm.bias, config.layerNormEps)
    clock?.charge(.layerNorm)
  }

  /// The pool for a step on `threads` threads: the encoder's own, unless a batch part runs on one.
  func pool(_ threads: Int) -> WorkerPool? { threads > 1 ? pool : nil }

  /// How a pass's attention is shared between the threads, the same for every layer: the (message,
  /// head) pairs in contiguous runs of about equal cost (n² each), so one message's heads run in
  /// parallel too.
  struct HeadSplit: Sendable {
    /// Each pair: the message's first row, its length, the head.
    let units: [(start: Int, length: Int, head: Int)]
    /// Thread `part` takes units[bounds[part]..<bounds[part + 1]].
    let bounds: [Int]

    init(lengths: [Int], heads: Int, threads: Int) {
      var units: [(start: Int, length: Int, head: Int)] = []
      var start = 0
      for n in lengths {
        for head in 0..<heads { units.append((start, n, head)) }
        start += n
      }
      let total = units.reduce(0) { $0 + $1.length * $1.length }
      let parts = max(1, min(threads, units.count))
      var bounds = [0]
      var cost = 0
      for (index, unit) in units.enumerated() {
        cost += unit.length * unit.length
        if bounds.count < parts, cost * parts >= total * bounds.count, index + 1 < units.count { bounds.append(index + 1) }
      }
      bounds.append(units.count)
      self.units = units
      self.bounds = bounds
    }
  }

  /// Every head of every message, from the stacked Q|K|V rows into `context`, as `heads` shares it.
  func attend(_ work: Workspace, heads split: HeadSplit, pool: WorkerPool?) {
    let h = config.hiddenSize, d = h / config.heads
    let scale = 1 / Float(d).squareRoot()
    let qkv = SharedPointer(pointer: UnsafePointer(work.qkv.baseAddress!)), context = SharedPointer(pointer: work.context.baseAddress!)
    let scratch = SharedPointer(pointer: work.scratch.baseAddress!), perThread = work.attentionScratch
    WorkerPool.run(split.bounds.count - 1, on: pool) { part in
      let mine = scratch.pointer + part * perThread
      for unit in split.units[split.bounds[part]..<split.bounds[part + 1]] {
        let q = qkv.pointer + unit.start * 3 * h + unit.head * d
        dk_attention_head(
          q, q + h, q + 2 * h, Int32(3 * h), Int32(unit.length), Int32(d), scale, mine,
          context.pointer + unit.start * h + unit.head * d, Int32(h))
      }
    }
  }
}

