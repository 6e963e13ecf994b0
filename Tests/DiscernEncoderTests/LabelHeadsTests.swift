import DiscernEncoder
import Foundation
import Testing

@Suite(.enabled(if: hasEncoder, "needs the encoder: run 'make model'"))
struct LabelHeadsTests {
  static let encoder: BertEncoder? = try? BertEncoder(folder: encoderFolder, precision: .fp32)

  func temporaryPath() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("heads-\(UUID().uuidString).safetensors").path
  }

  /// A head that reads one embedding dimension, and one that reads its negation plus a bias.
  func heads(for encoder: BertEncoder, fingerprint: String? = nil) -> LabelHeads {
    var first = [Float](repeating: 0, count: 384), second = first
    first[7] = 2
    second[7] = -1
    return LabelHeads(
      labels: ["self_harm", "reference_to_harm"], weights: [first, second], biases: [0.5, -0.25],
      encoder: fingerprint ?? encoder.fingerprint)
  }

  @Test func headsRoundTripThroughTheirFileAndGiveOneLogitPerLabel() throws {
    let encoder = try #require(Self.encoder)
    let path = temporaryPath()
    try heads(for: encoder).save(to: path)
    let loaded = try LabelHeads(path: path)
    #expect(loaded == heads(for: encoder))
    let text = "this group project will be the death of me"
    let embedding = encoder.embed([text])[0]
    let logits = try encoder.logits([text], heads: loaded, source: path)[0]
    #expect(abs(logits[0] - (2 * embedding[7] + 0.5)) < 1e-6)
    #expect(abs(logits[1] - (-embedding[7] - 0.25)) < 1e-6)
  }

  @Test func headsTrainedOnAnotherEncoderAreRefused() throws {
    let encoder = try #require(Self.encoder)
    let stale = heads(for: encoder, fingerprint: "fnv1a64:0123")
    #expect(
      throws: EncoderError.headsForAnotherEncoder(
        path: "Models/x/heads.safetensors", trainedOn: "fnv1a64:0123", loaded: encoder.fingerprint, folder: encoderFolder)
    ) { try encoder.logits(["hi"], heads: stale, source: "Models/x/heads.safetensors") }
    #expect(
      EncoderError.headsForAnotherEncoder(path: "h.safetensors", trainedOn: "fnv1a64:1", loaded: "fnv1a64:2", folder: "enc").description
        == "'h.safetensors' was trained on encoder fnv1a64:1, but 'enc' is fnv1a64:2; "
        + "pass the encoder it was trained with (--encoder PATH) or retrain it (discern train)")
  }

  @Test func aSafetensorsFileThatIsNotHeadsIsNamedAsSuch() throws {
    let path = temporaryPath()
    try SafeTensorsWriter.write([.init(name: "weight", shape: [1, 2], values: [1, 2])], metadata: [:], to: path)
    #expect(
      throws: EncoderError.badHeads(path: path, reason: "not a label-heads file (metadata 'format' should be 'discern-heads-1')")
    ) { try LabelHeads(path: path) }
  }
}
