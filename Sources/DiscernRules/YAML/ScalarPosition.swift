extension YAMLNode {
  /// Where, in the file, the scalar's `byteOffset`-th UTF-8 byte was written — so that an error
  /// inside a value (a regex syntax error) gets a caret under the offending character, not
  /// under the start of the value.
  public func mark(ofValueByteOffset byteOffset: Int) -> SourceMark {
    guard case .scalar(let value, let style) = content else { return mark }
    let prefix = String(decoding: value.utf8.prefix(byteOffset), as: UTF8.self)
    switch style {
    case .plain:
      return mark.advanced(by: prefix.unicodeScalars.count)
    case .singleQuoted:
      // Each ' in the value is written '' in the file.
      let quotes = prefix.unicodeScalars.filter { $0 == "'" }.count
      return mark.advanced(by: 1 + prefix.unicodeScalars.count + quotes)
    case .doubleQuoted:
      // \ and " are written escaped; other escapes are rare in patterns and not mapped.
      let escaped = prefix.unicodeScalars.filter { $0 == "\\" || $0 == "\"" }.count
      return mark.advanced(by: 1 + prefix.unicodeScalars.count + escaped)
    case .literal, .folded:
      // Content starts on the line after the indicator; each line keeps its indentation.
      let lines = prefix.split(separator: "\n", omittingEmptySubsequences: false)
      let line = mark.line + lines.count
      let indent = mark.source.line(line).map { $0.prefix { $0 == " " }.count } ?? 0
      return SourceMark(source: mark.source, line: line, column: indent + 1 + (lines.last?.unicodeScalars.count ?? 0))
    }
  }
}
