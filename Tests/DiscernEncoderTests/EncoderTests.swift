import DiscernEncoder
import Foundation
import Testing

func cosine(_ a: [Float], _ b: [Float]) -> Float {
  var dot: Float = 0, na: Float = 0, nb: Float = 0
  for i in a.indices {
    dot += a[i] * b[i]
    na += a[i] * a[i]
    nb += b[i] * b[i]
  }
  return dot / (na.squareRoot() * nb.squareRoot())
}

@Suite(.enabled(if: hasEncoder, "needs the encoder: run 'make model'"))
struct EncoderTests {
  static let encoder: BertEncoder? = try? BertEncoder(folder: encoderFolder)
  static let int8: BertEncoder? = try? BertEncoder(folder: encoderFolder, precision: .int8, threads: 2)
  static let reference = fixture("embeddings.json", as: [EmbeddingCase].self) ?? []

  @Test func pooledEmbeddingsMatchTheReferenceOneByOne() throws {
    let encoder = try #require(Self.encoder)
    #expect(Self.reference.count >= 20)
    for reference in Self.reference {
      let embedding = encoder.embed([reference.text])[0]
      let similarity = cosine(embedding, reference.embedding)
      #expect(similarity >= 0.9999, "\(reference.text.debugDescription): cosine \(similarity)")
    }
  }

  @Test func aBatchSplitBetweenThreadsGivesWhatEachMessageGivesAlone() throws {
    let encoder = try BertEncoder(folder: encoderFolder, threads: 2)
    let texts = Self.reference.map(\.text)
    let batched = encoder.embed(texts)
    for (reference, embedding) in zip(Self.reference, batched) {
      #expect(cosine(embedding, reference.embedding) >= 0.9999, "\(reference.text.debugDescription)")
    }
  }

  @Test func int8StaysWithinCosine099OfTheReference() throws {
    let encoder = try #require(Self.int8)
    let embeddings = encoder.embed(Self.reference.map(\.text))
    for (reference, embedding) in zip(Self.reference, embeddings) {
      let similarity = cosine(embedding, reference.embedding)
      #expect(similarity >= 0.99, "\(reference.text.debugDescription): cosine \(similarity)")
    }
  }

  /// The whole encoder on each path this CPU runs, at each weight range the path multiplies exactly,
  /// gives the portable path's embeddings bit for bit (the products are exact; the rest is shared code).
  @Test func everyKernelPathEmbedsAsThePortablePathDoesAtTheSameWeights() throws {
    let texts = Self.reference.prefix(6).map(\.text)
    for weights in WeightRange.allCases {
      let portable = try BertEncoder(folder: encoderFolder, precision: .int8, kernel: .portable, weights: weights).embed(texts)
      for kernel in Int8Kernel.supported where kernel != .portable && weights.limit <= kernel.widestWeights.limit {
        let encoder = try BertEncoder(folder: encoderFolder, precision: .int8, threads: 2, kernel: kernel, weights: weights)
        #expect(encoder.int8?.kernel == kernel && encoder.int8?.weights == weights)
        #expect(encoder.embed(texts) == portable, "\(kernel) at \(weights)")
      }
    }
  }

  @Test func theFingerprintIdentifiesTheWeights() throws {
    let encoder = try #require(Self.encoder)
    #expect(encoder.fingerprint.hasPrefix("fnv1a64:"))
    #expect(encoder.fingerprint == (try #require(Self.int8)).fingerprint)
  }

  @Test func aMissingFileIsNamed() {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("enc-\(UUID().uuidString)").path
    try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    FileManager.default.createFile(atPath: folder + "/config.json", contents: Data("{}".utf8))
    #expect(throws: EncoderError.missingFile(folder: folder, file: "vocab.txt")) { try BertEncoder(folder: folder) }
    #expect(
      EncoderError.missingFile(folder: "m", file: "vocab.txt").description
        == "no 'vocab.txt' in encoder folder 'm'; a BERT-family encoder needs config.json, vocab.txt and "
        + "model.safetensors (run 'make model' for the default, or pass --encoder PATH)")
  }
}
