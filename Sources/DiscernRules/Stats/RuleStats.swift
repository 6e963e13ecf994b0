/// Per-rule hit frequencies against a label, in the manner of SpamAssassin's hit-frequencies and
/// Snorkel's labeling-function summary: how often each rule fires, how often it is right about
/// label 1 when it does, and which other rule it most often fires with.
public struct RuleStats: Sendable {
  public struct Row: Sendable {
    public let id: String
    public let status: RuleStatus?
    public let hits: Int
    /// Hits over all messages.
    public let coverage: Double
    /// Messages with label 1 among the hits; nil without hits.
    public let precision: Double?
    /// The rule that fires with this one most often, and the share of this rule's hits it shares.
    /// `not` rules are not considered.
    public let mostOverlap: (id: String, share: Double)?
  }

  public let messages: Int
  public let positives: Int
  public var baseRate: Double { messages == 0 ? 0 : Double(positives) / Double(messages) }
  /// One row per rule, in feature order.
  public let rules: [Row]
  /// One row per pack: a message counts when any stable rule of the pack that marks a span type
  /// hits it (helpers without `marks`, such as `not` rules, would make every pack hit everything).
  public let packs: [Row]

  /// Evaluates every message and tallies. `labels[i]` is the label of `texts[i]`.
  public init(ruleSet: RuleSet, texts: [String], labels: [Bool]) {
    precondition(texts.count == labels.count)
    let ruleCount = ruleSet.rules.count
    var hitSets = [[Bool]](repeating: [Bool](repeating: false, count: texts.count), count: ruleCount)
    let matcher = PCRE2Matcher()
    for (m, text) in texts.enumerated() {
      let features = ruleSet.evaluate(text, matcher: matcher).features
      for r in 0..<ruleCount where features[r] != 0 { hitSets[r][m] = true }
    }
    messages = texts.count
    positives = labels.filter { $0 }.count

    func row(_ id: String, _ status: RuleStatus?, _ hits: [Bool], overlapWith others: [(String, [Bool])]) -> Row {
      let count = hits.filter { $0 }.count
      let correct = zip(hits, labels).filter { $0 && $1 }.count
      var best: (String, Double)?
      if count > 0 {
        for (other, otherHits) in others where other != id {
          let shared = zip(hits, otherHits).filter { $0 && $1 }.count
          let share = Double(shared) / Double(count)
          if shared > 0, share > (best?.1 ?? 0) { best = (other, share) }
        }
      }
      return Row(
        id: id, status: status, hits: count, coverage: texts.isEmpty ? 0 : Double(count) / Double(texts.count),
        precision: count == 0 ? nil : Double(correct) / Double(count), mostOverlap: best)
    }

    // A `not` rule fires on nearly every message: it would be everyone's top overlap and say nothing.
    let named = zip(ruleSet.rules, hitSets).filter { !($0.0.kind is NotRule) }.map { ($0.0.id, $0.1) }
    rules = ruleSet.rules.enumerated().map { r, rule in row(rule.id, rule.status, hitSets[r], overlapWith: named) }
    let packNames = Array(Set(ruleSet.rules.map(\.pack))).sorted()
    packs = packNames.map { pack in
      var any = [Bool](repeating: false, count: texts.count)
      for (r, rule) in ruleSet.rules.enumerated() where rule.pack == pack && rule.status == .stable && rule.marks != nil {
        for m in 0..<texts.count where hitSets[r][m] { any[m] = true }
      }
      return row(pack, nil, any, overlapWith: [])
    }
  }
}
