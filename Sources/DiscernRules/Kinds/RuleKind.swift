/// A rule kind: one Swift type that reads its own YAML keys and evaluates a message.
///
/// Adding a kind means writing one type that conforms to this protocol and listing it in
/// `RuleKinds.all`. Everything else (ids, status, examples, `unless`, ordering, evidence) is shared.
public protocol RuleKind: Sendable {
  /// The value of `kind:` that selects this type.
  static var name: String { get }
  /// The keys this kind reads besides the common ones (`id`, `kind`, `description`, …).
  static var keys: [String] { get }
  /// Reads and compiles the kind's keys; nil when they are unusable (the reader says why).
  static func read(_ reader: RuleReader) -> Self?

  /// Other rules this one reads, in the order `evaluate` receives their outcomes.
  var references: [RuleReference] { get }
  /// Patterns that lint should exercise, with where they were written.
  var lintPatterns: [LintablePattern] { get }
  /// Evaluates the rule on one message. `referenced` holds the outcomes of `references`.
  func evaluate(_ message: MessageText, referenced: [RuleOutcome], matcher: PCRE2Matcher) -> RuleOutcome
  /// The lexicon row behind a span's text, for kinds whose spans are emoji.
  func lexiconEntry(forSpan text: String) -> LexiconEntry?
}

extension RuleKind {
  public var references: [RuleReference] { [] }
  public var lintPatterns: [LintablePattern] { [] }
  public func lexiconEntry(forSpan text: String) -> LexiconEntry? { nil }
}

/// What one rule found in one message.
public struct RuleOutcome: Sendable {
  public var hit: Bool
  /// The feature value: 1 for a hit and 0 otherwise, unless the kind measures something (the
  /// `emoji` kind's sums, maxima and counts).
  public var value: Double
  /// Byte ranges in the normalized message, left to right.
  public var spans: [Range<Int>]
  /// Set when a PCRE2 limit stopped the search; what was found before it stands.
  public var limit: PCRE2Limit?

  public init(hit: Bool, spans: [Range<Int>] = [], limit: PCRE2Limit? = nil) {
    self.hit = hit
    self.value = hit ? 1 : 0
    self.spans = spans
    self.limit = limit
  }

  /// A measured value; it hits when the value is not zero.
  public init(value: Double, spans: [Range<Int>]) {
    self.hit = value != 0
    self.value = value
    self.spans = spans
  }

  public static let miss = RuleOutcome(hit: false)

  /// A hit exactly when there is a span.
  public init(spans: [Range<Int>], limit: PCRE2Limit? = nil) {
    self.init(hit: !spans.isEmpty, spans: spans, limit: limit)
  }
}

/// A compiled pattern and the YAML scalar it came from, for lint to report at.
public struct LintablePattern: Sendable {
  public let pattern: PCRE2Pattern
  public let node: YAMLNode
  /// Terms compile to one generated pattern: lint reports it at the list, not inside it.
  public let isGenerated: Bool
}

extension PCRE2Matcher {
  /// Every match of `pattern` in the message as the spans of a rule outcome.
  func outcome(of pattern: PCRE2Pattern, in message: MessageText) -> RuleOutcome {
    if let (prefilter, candidates) = message.filter, !prefilter.mayMatch(pattern, candidates: candidates) { return .miss }
    return message.bytes.withUnsafeBufferPointer { bytes in
      let (spans, stop) = allMatches(pattern, in: bytes)
      var limit: PCRE2Limit?
      if case .limit(let which) = stop { limit = which }
      return RuleOutcome(spans: spans, limit: limit)
    }
  }
}
