import ArgumentParser
import DiscernEncoder
import Foundation

struct EmbedCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "embed",
    abstract: "Run the encoder: pooled embeddings, or per-label logits with --heads.",
    discussion: "Prints one JSON object per message: text, token count, and the embedding or the logits.")

  @OptionGroup var encoderOptions: EncoderOptions

  @Argument(help: "Messages to embed.")
  var messages: [String] = []

  @Option(help: "Embed one message per line of this file ('-' for standard input).")
  var file: String?

  @Option(help: "A label-heads file (safetensors); prints one logit per label instead of the embedding.")
  var heads: String?

  @Flag(help: "First print, on standard error, what runs the encoder: layers, precision, threads and OpenBLAS's kernels.")
  var verbose = false

  func validate() throws {
    if messages.isEmpty && file == nil { throw ValidationError("Give a message to embed, or --file PATH.") }
    if encoderOptions.threads < 1 { throw ValidationError("--threads must be at least 1.") }
  }

  struct Record: Encodable {
    let text: String
    let tokens: Int
    var embedding: [Float]?
    var logits: [String: Float]?
  }

  func run() throws {
    var texts = messages
    if let file { texts += try MessageLines.read(file) }
    let encoder = try encoderOptions.load()
    if verbose { progressLine(encoder.runtimeSummary) }
    let labelHeads: LabelHeads?
    do {
      labelHeads = try heads.map { try LabelHeads(path: $0) }
      if let labelHeads, let heads { try encoder.check(labelHeads, source: heads) }
    } catch {
      FileHandle.standardError.write(Data("error: \(error)\n".utf8))
      throw ExitCode.failure
    }
    let json = JSONEncoder()
    json.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    // Batches of 32 keep memory bounded on long files.
    for start in stride(from: 0, to: texts.count, by: 32) {
      let batch = Array(texts[start..<min(start + 32, texts.count)])
      let ids = batch.map(encoder.ids)
      for (index, embedding) in encoder.embed(ids: ids).enumerated() {
        var record = Record(text: batch[index], tokens: ids[index].count)
        if let labelHeads {
          record.logits = Dictionary(uniqueKeysWithValues: zip(labelHeads.labels, labelHeads.logits(embedding)))
        } else {
          record.embedding = embedding
        }
        print(String(decoding: try json.encode(record), as: UTF8.self))
      }
    }
  }
}
