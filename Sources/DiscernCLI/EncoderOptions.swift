import ArgumentParser
import DiscernEncoder
import DiscernRules
import Foundation

extension Precision: ExpressibleByArgument {}

/// Options every command that runs the encoder shares.
struct EncoderOptions: ParsableArguments {
  static let defaultFolder = ".models/all-MiniLM-L6-v2"

  @Option(help: "A BERT-family encoder folder (config.json, vocab.txt, model.safetensors). Default: \(defaultFolder), where 'make model' puts it.")
  var encoder: String?

  @Option(help: "Task-tuned layers and heads over the base encoder (a folder with config.json and model.safetensors, as Training/train.py writes). Default: the model folder's encoder/, when it has one.")
  var tuned: String?

  @Option(help: "Linear layers in int8 (faster) or fp32.")
  var precision: Precision = .int8

  @Option(help: "Threads for the encoder's matrix work and for deciding batches (default: this machine's cores).")
  var threads: Int = ProcessInfo.processInfo.activeProcessorCount

  func validate() throws {
    guard (1...1024).contains(threads) else {
      throw ValidationError("--threads must be between 1 and 1024; got \(threads). This machine has \(ProcessInfo.processInfo.activeProcessorCount) cores.")
    }
  }

  @Option(help: "The emoji lexicon whose meanings a glossed encoder reads beside each message's emoji.")
  var lexicon: String = "Lexicons/cesm.yaml"

  /// The folder given, or the default looked up from the working directory and then from the
  /// checkout the binary was built in (.build/<config>/discern), so 'discern' works from anywhere in a clone.
  var folder: String {
    if let encoder { return encoder }
    let binary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    let checkout = binary.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let candidates = [Self.defaultFolder, checkout.appendingPathComponent(Self.defaultFolder).path]
    return candidates.first { FileManager.default.fileExists(atPath: $0 + "/config.json") } ?? Self.defaultFolder
  }

  /// `--tuned`, or else the `encoder/` folder inside `model` when there is one: a model trained on a
  /// tuned encoder carries it, so the model folder alone says which encoder it needs.
  func tunedFolder(model: String?) -> String? {
    if let tuned { return tuned }
    guard let model, FileManager.default.fileExists(atPath: model + "/encoder/config.json") else { return nil }
    return model + "/encoder"
  }

  /// The loaded encoder (with the tuned layers `tunedFolder(model:)` names), or the reason on stderr
  /// and exit status 1.
  func load(model: String? = nil) throws -> BertEncoder {
    do {
      return try BertEncoder(
        folder: folder, tuned: tunedFolder(model: model), precision: precision, threads: threads, gloss: try glossing())
    } catch {
      FileHandle.standardError.write(Data("error: \(error)\n".utf8))
      throw ExitCode.failure
    }
  }

  /// The emoji gloss over `--lexicon` (identified by the lexicon file's bytes), or nil when the
  /// lexicon is absent (an encoder that needs it then says so).
  func glossing() throws -> InputGloss? {
    guard let bytes = FileManager.default.contents(atPath: lexicon) else { return nil }
    let loaded = try loadLexicon(lexicon)
    var hash = FNV1a()
    hash.mix(bytes)
    return InputGloss(identity: "gloss-" + hash.fingerprint) { EmojiGloss.text($0, lexicon: loaded) }
  }
}
