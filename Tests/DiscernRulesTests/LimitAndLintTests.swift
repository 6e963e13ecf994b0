import DiscernRules
import Testing

@Suite struct LimitAndLintTests {
  static let catastrophic = pack("""
      - {id: t.bad, kind: pattern, pattern: '(a|aa)+$', description: d, examples: {hit: [aa], miss: [b]}}
      - {id: t.ok, kind: terms, terms: [hello], description: d, examples: {hit: [hello], miss: [b]}}
    """)

  @Test func aPatternAtItsMatchLimitIsReportedNotHung() throws {
    let rules = try ruleSet(["t": Self.catastrophic])
    // 100 kB that every start position can almost match: exponential without a limit.
    let message = "hello " + String(repeating: "a", count: 100_000) + "!"
    let evaluation = rules.evaluate(message)
    #expect(evaluation.limitEvents.count == 1)
    #expect(evaluation.limitEvents.first?.rule == "t.bad")
    #expect(!evaluation.hit("t.bad"))
    // The other rules still ran.
    #expect(evaluation.hit("t.ok"))
  }

  @Test func ordinaryPatternsStayUnderTheLimitOnLongMessages() throws {
    let rules = try RuleCompiler.compile(directory: repositoryRoot + "/Rules").ruleSet.unwrap()
    let message = String(repeating: "I used to think this will be the death of me, lol. ", count: 2_000)
    let evaluation = rules.evaluate(message)
    #expect(evaluation.limitEvents.isEmpty)
    #expect(evaluation.evidence(for: "hyperbole.death-of-me").count == 2_000)
  }

  @Test func lintFlagsPatternsThatBlowUpOnPumpedInput() {
    let result = compile(["t": Self.catastrophic])
    #expect(RuleLint.warnings(for: result.definitions).map(\.description) == [
      """
      t.yaml:3:41: warning: pattern in 't.bad' backtracks without bound on the pumped input 'aaaaaaaaaaaa…' \
      (2001 characters hit a 50000-step limit); make alternatives exclusive, bound repeats, or use atomic groups '(?>…)'
        - {id: t.bad, kind: pattern, pattern: '(a|aa)+$', description: d, examples: {hit: [aa], miss: [b]}}
                                              ^
      """,
      """
      t.yaml:3:43: warning: single-letter alternative 'a' in 't.bad' is not anchored at a word boundary, so it \
      matches inside any word; add '\\b' around the group
        - {id: t.bad, kind: pattern, pattern: '(a|aa)+$', description: d, examples: {hit: [aa], miss: [b]}}
                                                ^
      """,
    ])
  }

  @Test(arguments: ["(\\w+\\s?)+x", "(?:x+x+)+y", "(a+)+b", "^(\\d+)*$"])
  func lintFlagsOtherKnownBlowups(_ pattern: String) {
    let result = compile(["t": pack("""
        - {id: t.p, kind: pattern, pattern: '\(pattern)', description: d, examples: {hit: [x], miss: [z]}}
      """)])
    #expect(result.ruleSet != nil)
    #expect(RuleLint.warnings(for: result.definitions).contains { $0.message.contains("backtracks without bound") })
  }

  @Test func lintFlagsUnanchoredSingleLetterAlternatives() {
    let result = compile(["t": pack("""
        - {id: t.u, kind: pattern, pattern: '(u|you) suck', description: d, examples: {hit: [you suck], miss: [z]}}
        - {id: t.b, kind: pattern, pattern: '\\b(?:u|you)\\b suck', description: d, examples: {hit: [u suck], miss: [z]}}
      """)])
    #expect(RuleLint.warnings(for: result.definitions).map(\.description) == [
      """
      t.yaml:3:41: warning: single-letter alternative 'u' in 't.u' is not anchored at a word boundary, so it matches \
      inside any word; add '\\b' around the group
        - {id: t.u, kind: pattern, pattern: '(u|you) suck', description: d, examples: {hit: [you suck], miss: [z]}}
                                              ^
      """
    ])
  }

  /// A pattern without fixed text defeats the literal prefilter: every message pays for it.
  @Test func lintFlagsAPatternThePrefilterCannotSkip() {
    let result = compile(["t": pack("""
        - {id: t.w, kind: pattern, pattern: '\\b\\d{3,}\\b', description: d, examples: {hit: [call 911], miss: [z]}}
      """)])
    #expect(RuleLint.warnings(for: result.definitions).map(\.description) == [
      """
      t.yaml:3:39: warning: pattern in 't.w' has no literal text that every match contains, so it runs on every \
      message (the prefilter cannot skip it); anchor it on a word or phrase every match must contain
        - {id: t.w, kind: pattern, pattern: '\\b\\d{3,}\\b', description: d, examples: {hit: [call 911], miss: [z]}}
                                            ^
      """
    ])
  }

  @Test func lintAsksForExamples() {
    let result = compile(["t": pack("""
        - {id: t.x, kind: terms, terms: [x], description: d}
      """)])
    #expect(RuleLint.warnings(for: result.definitions).map(\.message) == [
      "rule 't.x' has no 'hit' examples; add one so 'discern test' can check it",
      "rule 't.x' has no 'miss' examples; add one so 'discern test' can check it",
    ])
  }

  @Test func theShippedRulesLintClean() {
    let result = RuleCompiler.compile(directory: repositoryRoot + "/Rules")
    #expect(result.diagnostics.isEmpty)
    #expect(RuleLint.warnings(for: result.definitions).map(\.description) == [])
  }
}

extension Optional {
  func unwrap(sourceLocation: SourceLocation = #_sourceLocation) throws -> Wrapped {
    try #require(self, sourceLocation: sourceLocation)
  }
}
