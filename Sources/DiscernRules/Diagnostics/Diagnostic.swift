/// One problem found in the rules, printed the way compilers print theirs:
///
///     Rules/hyperbole.yaml:12:5: error: unknown key 'patern'; did you mean 'pattern'?
///         patern: '\bkms\b'
///         ^
public struct Diagnostic: Sendable, Equatable, CustomStringConvertible {
  public enum Severity: String, Sendable, Comparable {
    case warning, error
    public static func < (a: Severity, b: Severity) -> Bool { a == .warning && b == .error }
  }

  public let severity: Severity
  public let message: String
  /// Nil only for problems that belong to no file (an unreadable directory).
  public let mark: SourceMark?

  public init(_ severity: Severity, _ message: String, at mark: SourceMark?) {
    self.severity = severity
    self.message = message
    self.mark = mark
  }

  public static func error(_ message: String, at mark: SourceMark?) -> Diagnostic {
    Diagnostic(.error, message, at: mark)
  }

  public static func warning(_ message: String, at mark: SourceMark?) -> Diagnostic {
    Diagnostic(.warning, message, at: mark)
  }

  public static func == (a: Diagnostic, b: Diagnostic) -> Bool {
    a.severity == b.severity && a.message == b.message && a.mark?.description == b.mark?.description
  }

  /// The header line, then the source line and a caret under the column.
  public var description: String {
    guard let mark else { return "\(severity.rawValue): \(message)" }
    var text = "\(mark): \(severity.rawValue): \(message)"
    if let line = mark.source.line(mark.line) {
      // Tabs stay tabs so that the caret lines up under the same column in a terminal.
      let pad = line.unicodeScalars.prefix(max(0, mark.column - 1)).map { $0 == "\t" ? "\t" : " " }
      text += "\n\(line)\n\(String(pad.joined()))^"
    }
    return text
  }
}

/// The diagnostics of one run, in the order they were found.
public struct DiagnosticList: Sendable {
  public private(set) var items: [Diagnostic] = []

  public init() {}

  public mutating func append(_ diagnostic: Diagnostic) { items.append(diagnostic) }
  public mutating func error(_ message: String, at mark: SourceMark?) { items.append(.error(message, at: mark)) }
  public mutating func warning(_ message: String, at mark: SourceMark?) { items.append(.warning(message, at: mark)) }
  public mutating func append(contentsOf other: [Diagnostic]) { items.append(contentsOf: other) }

  public var hasErrors: Bool { items.contains { $0.severity == .error } }
}
