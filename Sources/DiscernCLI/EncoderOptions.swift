import ArgumentParser
import DiscernEncoder
import Foundation

extension Precision: ExpressibleByArgument {}

/// Options every command that runs the encoder shares.
struct EncoderOptions: ParsableArguments {
  static let defaultFolder = ".models/all-MiniLM-L6-v2"

  @Option(help: "A BERT-family encoder folder (config.json, vocab.txt, model.safetensors). Default: \(defaultFolder), where 'make model' puts it.")
  var encoder: String?

  @Option(help: "Linear layers in int8 (faster) or fp32.")
  var precision: Precision = .int8

  @Option(help: "Threads for the encoder's matrix work.")
  var threads: Int = 1

  /// The folder given, or the default looked up from the working directory and then from the
  /// checkout the binary was built in (.build/<config>/discern), so 'discern' works from anywhere in a clone.
  var folder: String {
    if let encoder { return encoder }
    let binary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    let checkout = binary.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let candidates = [Self.defaultFolder, checkout.appendingPathComponent(Self.defaultFolder).path]
    return candidates.first { FileManager.default.fileExists(atPath: $0 + "/config.json") } ?? Self.defaultFolder
  }

  /// The loaded encoder, or the reason on stderr and exit status 1.
  func load() throws -> BertEncoder {
    do {
      return try BertEncoder(folder: folder, precision: precision, threads: threads)
    } catch {
      FileHandle.standardError.write(Data("error: \(error)\n".utf8))
      throw ExitCode.failure
    }
  }
}
