/// All active rules (stable and shadow) compiled together: a fixed feature order keyed by rule
/// id, the dependency order for evaluation, and the compiled matchers. Immutable and shareable
/// across threads; each thread brings its own `PCRE2Matcher`.
public final class RuleSet: Sendable {
  /// Rules in feature order (sorted by id, so moving a rule between files changes nothing).
  public let rules: [RuleDefinition]
  /// `features[i]` of an evaluation belongs to `featureIDs[i]`.
  public let featureIDs: [String]
  let evaluationOrder: [Int]
  let referenceIndices: [[Int]]
  let unlessIndices: [[Int]]
  private let indexByID: [String: Int]
  /// Skips the patterns a message cannot match.
  public let prefilter: LiteralPrefilter
  /// `rules[i].kind` and `rules[i].marks`, held apart: reading them through `rules[i]` copies the
  /// whole definition (a dozen retains) per rule per message.
  let kinds: [any RuleKind]
  /// The emoji lexicons the rules read (each once): what a rules fingerprint must cover besides the packs.
  public var lexicons: [Lexicon] {
    var seen = Set<ObjectIdentifier>()
    return kinds.compactMap { ($0 as? EmojiRule)?.lexicon }.filter { seen.insert(ObjectIdentifier($0)).inserted }
  }
  let marks: [SpanType?]

  init(rules unsorted: [RuleDefinition], evaluationOrder unsortedOrder: [Int]) {
    let sorted = unsorted.indices.sorted { unsorted[$0].id < unsorted[$1].id }
    let position = Dictionary(uniqueKeysWithValues: sorted.enumerated().map { ($1, $0) })
    rules = sorted.map { unsorted[$0] }
    featureIDs = rules.map(\.id)
    indexByID = Dictionary(uniqueKeysWithValues: featureIDs.enumerated().map { ($1, $0) })
    evaluationOrder = unsortedOrder.map { position[$0]! }
    let index = indexByID
    referenceIndices = rules.map { $0.kind.references.map { index[$0.id]! } }
    unlessIndices = rules.map { $0.unless.map { index[$0.id]! } }
    prefilter = LiteralPrefilter(patterns: rules.flatMap { $0.kind.lintPatterns.map(\.pattern) })
    kinds = rules.map(\.kind)
    marks = rules.map(\.marks)
  }

  public func index(of id: String) -> Int? { indexByID[id] }

  public func rule(_ id: String) -> RuleDefinition? { indexByID[id].map { rules[$0] } }

  /// Evaluates every rule on `text`, with a matcher made for this call.
  public func evaluate(_ text: String) -> RuleEvaluation {
    evaluate(text, matcher: PCRE2Matcher())
  }

  /// Evaluates every rule on `text`. Reuse one matcher per thread on hot paths. `prefiltered: false`
  /// runs every pattern (the prefilter is sound, so outcomes are the same; tests and benchmarks compare).
  public func evaluate(_ text: String, matcher: PCRE2Matcher, prefiltered: Bool = true) -> RuleEvaluation {
    let message = MessageText(text)
    if prefiltered, let candidates = prefilter.candidates(in: message.bytes) { message.filter = (prefilter, candidates) }
    var outcomes = [RuleOutcome](repeating: .miss, count: rules.count)
    for i in evaluationOrder {
      let references = referenceIndices[i]
      let referenced = references.isEmpty ? [] : references.map { outcomes[$0] }
      var outcome = kinds[i].evaluate(message, referenced: referenced, matcher: matcher)
      if outcome.hit, !unlessIndices[i].isEmpty {
        outcome = Self.cancel(outcome, by: unlessIndices[i].map { outcomes[$0] }, in: message)
      }
      outcomes[i] = outcome
    }
    return RuleEvaluation(ruleSet: self, message: message, outcomes: outcomes)
  }

  /// `unless`: drop each span that shares a sentence with a hit of a cancelling rule. A rule
  /// without spans is cancelled by any hit of it.
  static func cancel(_ outcome: RuleOutcome, by cancelling: [RuleOutcome], in message: MessageText) -> RuleOutcome {
    let hits = cancelling.filter(\.hit)
    guard !hits.isEmpty else { return outcome }
    if outcome.spans.isEmpty || hits.contains(where: { $0.spans.isEmpty }) { return .miss }
    let sentences = Set(hits.flatMap(\.spans).map { message.sentence(ofByte: $0.lowerBound) })
    let kept = outcome.spans.filter { !sentences.contains(message.sentence(ofByte: $0.lowerBound)) }
    return RuleOutcome(spans: kept, limit: outcome.limit)
  }
}

/// A rule's hit on one message, in Unicode scalar offsets of the original text.
public struct Evidence: Sendable, Equatable, Codable {
  public let rule: String
  public let type: SpanType?
  public let start: Int
  public let end: Int
  public let text: String
  /// For an emoji span: its lexicon row (meaning, self-harm meaning, levels).
  public let lexicon: LexiconEntry?

  public init(rule: String, type: SpanType?, start: Int, end: Int, text: String, lexicon: LexiconEntry? = nil) {
    self.rule = rule
    self.type = type
    self.start = start
    self.end = end
    self.text = text
    self.lexicon = lexicon
  }
}

/// A PCRE2 limit that stopped a rule on a message. The rule keeps what it found before; the
/// engine moves on rather than hang.
public struct LimitEvent: Sendable, Equatable, Codable {
  public let rule: String
  public let limit: PCRE2Limit

  public init(rule: String, limit: PCRE2Limit) {
    self.rule = rule
    self.limit = limit
  }
}

/// What the rules found in one message.
public struct RuleEvaluation: Sendable {
  /// One value per rule, in `RuleSet.featureIDs` order: 1 for a hit, 0 otherwise, or what an
  /// `emoji` rule measures.
  public let features: [Double]
  /// Every span of every rule that hit, ordered by position, then rule id.
  public let evidence: [Evidence]
  public let limitEvents: [LimitEvent]
  /// Ids of the rules that hit (spans or not), in feature order.
  public let hitRules: [String]

  init(ruleSet: RuleSet, message: MessageText, outcomes: [RuleOutcome]) {
    features = outcomes.map { $0.hit ? $0.value : 0 }
    var limits: [LimitEvent] = []
    var hits: [String] = []
    var spanOwners: [Int] = []
    var byteSpans: [Range<Int>] = []
    for (i, outcome) in outcomes.enumerated() {
      if let limit = outcome.limit { limits.append(LimitEvent(rule: ruleSet.featureIDs[i], limit: limit)) }
      guard outcome.hit else { continue }
      hits.append(ruleSet.featureIDs[i])
      for span in outcome.spans {
        spanOwners.append(i)
        byteSpans.append(span)
      }
    }
    let evidence = zip(spanOwners, message.scalarSpans(byteSpans)).map { owner, span in
      Evidence(
        rule: ruleSet.featureIDs[owner], type: ruleSet.marks[owner], start: span.scalars.lowerBound, end: span.scalars.upperBound,
        text: span.text, lexicon: ruleSet.kinds[owner].lexiconEntry(forSpan: span.text))
    }
    self.evidence = evidence.sorted { ($0.start, $0.end, $0.rule) < ($1.start, $1.end, $1.rule) }
    limitEvents = limits
    hitRules = hits
  }

  public func hit(_ ruleID: String) -> Bool { hitRules.contains(ruleID) }

  public func evidence(for ruleID: String) -> [Evidence] { evidence.filter { $0.rule == ruleID } }
}
