import DiscernEncoder
import Foundation
import Testing

/// The encoder's fingerprint covers every byte that shapes an output: before, it read the header and
/// the first 256 bytes of each tensor and not the vocabulary, so a swapped token or a zeroed
/// embedding row loaded as the model the heads were trained on.
@Suite(.enabled(if: hasEncoder, "needs the encoder: run 'make model'"))
struct FingerprintTests {
  /// A copy of the base folder whose vocabulary or weights a test edits; the rest are links.
  func baseCopy(vocabulary: ((String) -> String)? = nil, weights: ((inout Data) -> Void)? = nil) throws -> String {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("base-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    for file in ["config.json", "vocab.txt", "model.safetensors", "tokenizer.json"] {
      let source = encoderFolder + "/" + file, target = folder + "/" + file
      if file == "vocab.txt", let vocabulary {
        try vocabulary(try String(contentsOfFile: source, encoding: .utf8)).write(toFile: target, atomically: true, encoding: .utf8)
      } else if file == "model.safetensors", let weights {
        var data = try Data(contentsOf: URL(fileURLWithPath: source))
        weights(&data)
        try data.write(to: URL(fileURLWithPath: target))
      } else if FileManager.default.fileExists(atPath: source) {
        try FileManager.default.createSymbolicLink(atPath: target, withDestinationPath: source)
      }
    }
    return folder
  }

  func expectRefused(base folder: String) throws {
    defer { try? FileManager.default.removeItem(atPath: folder) }
    #expect {
      try BertEncoder(folder: folder, tuned: studentFolder, gloss: InputGloss(identity: "none") { $0 })
    } throws: { error in
      "\(error)".hasPrefix("'\(studentFolder)' extends base encoder all-MiniLM-L6-v2 (")
        && "\(error)".contains("but '\(folder)' is fnv1a64:")
    }
  }

  @Test func aVocabularyWithTwoTokensSwappedIsAnotherEncoder() throws {
    try expectRefused(base: try baseCopy(vocabulary: { text in
      var lines = text.components(separatedBy: "\n")
      let (a, b) = (lines.firstIndex(of: "die")!, lines.firstIndex(of: "live")!)
      lines.swapAt(a, b)
      return lines.joined(separator: "\n")
    }))
  }

  @Test func fourZeroedEmbeddingRowsAreAnotherEncoder() throws {
    try expectRefused(base: try baseCopy(weights: { data in
      // Four rows of 384 floats, far past the first 256 bytes of any tensor.
      let start = data.count / 2
      data.replaceSubrange(start..<start + 4 * 384 * 4, with: Data(count: 4 * 384 * 4))
    }))
  }
}

@Suite struct BlockFingerprintTests {
  /// Training/bert.py computes the same value: `fingerprint_blocks(bytes((i * 31) % 251 for i in
  /// range(200_003)), fnv1a([b"extra"]))` (three whole 64 KiB blocks and an odd tail).
  @Test func theBlockFingerprintMatchesTraining() {
    let data = (0..<200_003).map { UInt8(($0 * 31) % 251) }
    var hash = FNV1a()
    hash.mix(Array("extra".utf8))
    data.withUnsafeBytes { hash.mixBlocks($0) }
    #expect(hash.fingerprint == "fnv1a64:4904a4d88d1f5f7f")
  }
}
