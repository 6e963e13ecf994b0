/// The text of one file the rules were read from, kept so that every diagnostic can quote
/// the line it points at.
public final class SourceText: Sendable {
  /// The path as the user gave it (diagnostics print it unchanged).
  public let path: String
  public let lines: [Substring]

  public init(path: String, text: String) {
    self.path = path
    self.lines = text.split(separator: "\n", omittingEmptySubsequences: false)
      .map { $0.hasSuffix("\r") ? $0.dropLast() : $0 }
  }

  /// The 1-based line, or nil past the end of the file.
  public func line(_ number: Int) -> Substring? {
    number >= 1 && number <= lines.count ? lines[number - 1] : nil
  }
}

/// A position in a source file: 1-based line and column, the column counted in Unicode scalars
/// (the way libyaml counts them).
public struct SourceMark: Sendable, CustomStringConvertible {
  public let source: SourceText
  public let line: Int
  public let column: Int

  public init(source: SourceText, line: Int, column: Int) {
    self.source = source
    self.line = line
    self.column = column
  }

  public var description: String { "\(source.path):\(line):\(column)" }

  /// The same line, `delta` scalars further right.
  public func advanced(by delta: Int) -> SourceMark {
    SourceMark(source: source, line: line, column: column + delta)
  }
}
