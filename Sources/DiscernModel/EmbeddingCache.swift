import DiscernEncoder
import Foundation

/// Pooled embeddings of a corpus file, computed once per encoder, arithmetic (precision, int8 weight range) and file content and
/// kept in `.models/cache` (git-ignored): training and evaluation both need every row's embedding,
/// and computing them is most of the time either takes.
public struct EmbeddingCache: Sendable {
  public let folder: String

  public init(folder: String = ".models/cache") { self.folder = folder }

  /// `fingerprint`: the file's own (its name and bytes), which keys the cache entry.
  public func embeddings(
    file: String, fingerprint: String, texts: [String], encoder: BertEncoder, progress: (String) -> Void
  ) -> [[Float]] {
    let h = encoder.config.hiddenSize
    // A glossed encoder's embeddings depend on the lexicon too.
    let reads = encoder.inputIdentity.map { "-" + $0.replacingOccurrences(of: ":", with: "-") } ?? ""
    let key = "\(encoder.fingerprint.replacingOccurrences(of: ":", with: "-"))-\(encoder.arithmetic)\(reads)"
    let name = (file as NSString).lastPathComponent
    let path = "\(folder)/\(key)/\(name)-\(fingerprint.dropFirst(8)).f32"
    if let data = FileManager.default.contents(atPath: path), data.count == texts.count * h * 4 {
      return data.withUnsafeBytes { raw in
        let floats = raw.bindMemory(to: Float.self)
        return (0..<texts.count).map { Array(floats[$0 * h..<($0 + 1) * h]) }
      }
    }
    var result: [[Float]] = []
    result.reserveCapacity(texts.count)
    let start = Date()
    for first in stride(from: 0, to: texts.count, by: 64) {
      result += encoder.embed(Array(texts[first..<min(first + 64, texts.count)]))
      if first % 1024 == 0 || result.count == texts.count {
        let rate = Double(result.count) / max(0.001, Date().timeIntervalSince(start))
        progress(String(format: "  embedding %@: %d/%d (%.0f msg/s)", name, result.count, texts.count, rate))
      }
    }
    try? FileManager.default.createDirectory(atPath: "\(folder)/\(key)", withIntermediateDirectories: true)
    let flat = result.flatMap { $0 }
    try? flat.withUnsafeBytes { Data($0) }.write(to: URL(fileURLWithPath: path), options: .atomic)
    return result
  }
}
