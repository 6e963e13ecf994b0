import Foundation

/// Reads the YAML files Discern is given (rule packs, lexicons), saying why one cannot be used.
enum SourceFiles {
  /// The file's text, or nil after reporting that it is unreadable or not UTF-8. `kind` names
  /// the file in the message ("lexicon " → "cannot read lexicon 'x'").
  static func read(_ path: String, kind: String = "", diagnostics: inout DiagnosticList) -> String? {
    guard let data = FileManager.default.contents(atPath: path) else {
      diagnostics.error("cannot read \(kind)'\(path)'", at: nil)
      return nil
    }
    guard let text = String(data: data, encoding: .utf8) else {
      diagnostics.append(invalidUTF8(Array(data), path: path))
      return nil
    }
    return text
  }

  /// Where a file stops being UTF-8, with the line shown as well as it can be decoded.
  static func invalidUTF8(_ bytes: [UInt8], path: String) -> Diagnostic {
    var offset = 0
    while offset < bytes.count {
      let lead = bytes[offset]
      let length = lead < 0x80 ? 1 : lead >> 5 == 0b110 ? 2 : lead >> 4 == 0b1110 ? 3 : lead >> 3 == 0b11110 ? 4 : 0
      guard length > 0, offset + length <= bytes.count,
        bytes[offset + 1..<offset + length].allSatisfy(UTF8Text.isContinuation)
      else { break }
      offset += length
    }
    let source = SourceText(path: path, text: String(decoding: bytes, as: UTF8.self))
    let before = bytes[..<min(offset, bytes.count)]
    let line = before.filter { $0 == UInt8(ascii: "\n") }.count + 1
    let lineStart = before.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0
    let column = UTF8Text.scalarCount(bytes[lineStart..<min(offset, bytes.count)]) + 1
    let found = offset < bytes.count ? String(format: "byte 0x%02X", bytes[offset]) : "a truncated character"
    return .error(
      "file is not valid UTF-8: \(found) here; save it as UTF-8", at: SourceMark(source: source, line: line, column: column))
  }
}
