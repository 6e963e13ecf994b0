import ArgumentParser
import Discern
import DiscernEncoder
import DiscernRules
import Foundation

extension Precision: ExpressibleByArgument {}

/// Options every command that runs the encoder shares.
struct EncoderOptions: ParsableArguments {
  @Option(help: "A BERT-family encoder folder (config.json, vocab.txt, model.safetensors). Default: encoder/ or .models/all-MiniLM-L6-v2 (where 'make model' puts it), \(searchOrderHelp).")
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

  @Option(name: .customLong("lexicon"), help: "The emoji lexicon whose meanings a glossed encoder reads beside each message's emoji (default: Lexicons/cesm.yaml, \(searchOrderHelp)).")
  var lexiconFlag: String?

  /// The base encoder folder: `--encoder`, or found by the search order.
  var folder: String { get throws { try locate(.encoder, flag: encoder) } }

  /// The emoji lexicon: `--lexicon`, or found by the search order; nil when it is nowhere (a
  /// glossed encoder then says it needs one).
  var lexicon: String? { lexiconFlag ?? ResourceLocator().optionalPath(.lexicon) }

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
      return try make(model: model)
    } catch {
      FileHandle.standardError.write(Data("error: \(error)\n".utf8))
      throw ExitCode.failure
    }
  }

  /// The loaded encoder, or the reason as an error (a server's reload reports it and keeps serving).
  func make(model: String? = nil) throws -> BertEncoder {
    try BertEncoder(folder: folder, tuned: tunedFolder(model: model), precision: precision, threads: threads, gloss: try glossing())
  }

  /// The emoji gloss over `--lexicon` (identified by the lexicon file's bytes), or nil when the
  /// lexicon is absent (an encoder that needs it then says so).
  func glossing() throws -> InputGloss? {
    guard let lexicon, let bytes = FileManager.default.contents(atPath: lexicon) else { return nil }
    let loaded = try loadLexicon(lexicon)
    var hash = FNV1a()
    hash.mix(bytes)
    return InputGloss(identity: "gloss-" + hash.fingerprint) { EmojiGloss.text($0, lexicon: loaded) }
  }
}
