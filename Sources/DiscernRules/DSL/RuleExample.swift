/// One of a rule's own examples. In YAML, `⟦` and `⟧` mark the span the rule must find:
///
///     hit: ["Lost my save file. ⟦Might as well throw myself off⟧ a cliff."]
public struct RuleExample: Sendable {
  public static let open: Unicode.Scalar = "⟦"
  public static let close: Unicode.Scalar = "⟧"

  /// The message, markers removed.
  public let text: String
  /// The marked spans, in Unicode scalar offsets of `text`.
  public let expectedSpans: [Range<Int>]
  /// The example as written, markers included.
  public let written: String
  public let mark: SourceMark

  /// Why markers could not be read.
  public struct MarkerError: Error, Sendable {
    public let message: String
    /// Scalar offset of the offending marker in the written example.
    public let offset: Int
  }

  public init(_ written: String, mark: SourceMark) throws(MarkerError) {
    var text = String.UnicodeScalarView()
    var spans: [Range<Int>] = []
    var openedAt: Int?
    var openedInWritten = 0
    var count = 0
    for (offset, scalar) in written.unicodeScalars.enumerated() {
      if scalar == Self.open {
        if openedAt != nil { throw MarkerError(message: "'⟦' inside another marked span; spans do not nest", offset: offset) }
        openedAt = count
        openedInWritten = offset
      } else if scalar == Self.close {
        guard let start = openedAt else { throw MarkerError(message: "'⟧' without an opening '⟦'", offset: offset) }
        if start == count { throw MarkerError(message: "empty marked span '⟦⟧'", offset: offset) }
        spans.append(start..<count)
        openedAt = nil
      } else {
        text.append(scalar)
        count += 1
      }
    }
    if openedAt != nil {
      throw MarkerError(message: "'⟦' is never closed with '⟧'", offset: openedInWritten)
    }
    self.text = String(text)
    self.expectedSpans = spans
    self.written = written
    self.mark = mark
  }
}

/// A rule's examples: messages it must hit (with spans, where marked) and messages it must miss.
public struct RuleExamples: Sendable {
  public var hit: [RuleExample] = []
  public var miss: [RuleExample] = []
}
