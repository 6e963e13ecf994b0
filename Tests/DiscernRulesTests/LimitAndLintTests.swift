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

  /// PCRE2's interpreter resets its match limit at every start position: this pattern took 10 s on
  /// 30 kB without a limit event. Under JIT (every rule's) the limit bounds the whole search.
  @Test func aSlowScanIsBoundedForTheWholeMessageAndReported() throws {
    let rules = try ruleSet(["t": pack("""
        - {id: t.scan, kind: pattern, pattern: '(?:kill|a)\\w*?\\s*[0-9]', description: d, examples: {hit: [kill 9], miss: [b]}}
      """)])
    let message = String(repeating: "a", count: 30_000)
    // Each start position costs PCRE2 two steps; the whole search 60,000. A limit of 10,000 stops
    // it only if the limit counts the whole search, as it must.
    let tight = rules.evaluate(message, matcher: PCRE2Matcher(limits: .init(match: 10_000)))
    #expect(tight.limitEvents == [LimitEvent(rule: "t.scan", limit: .match)])
    #expect(rules.evaluate(message).limitEvents.isEmpty)
  }

  @Test func noJITIsRefusedWithItsPosition() {
    let result = compile(["t": pack("""
        - {id: t.n, kind: pattern, pattern: '(*NO_JIT)kill\\w*', description: d, examples: {hit: [kill], miss: [b]}}
      """)])
    #expect(result.ruleSet == nil)
    #expect(result.diagnostics.map(\.description) == [
      """
      t.yaml:3:40: error: invalid pattern: (*NO_JIT) is not allowed: rule patterns run JIT-compiled, which bounds \
      the work one message can cost
        - {id: t.n, kind: pattern, pattern: '(*NO_JIT)kill\\w*', description: d, examples: {hit: [kill], miss: [b]}}
                                             ^
      """
    ])
  }

  /// `\C` matches a single byte of a multi-byte character: spans would split characters.
  @Test func backslashCIsRefusedWithItsPosition() {
    let result = compile(["t": pack("""
        - {id: t.c, kind: pattern, pattern: 'ki\\Cl', description: d, examples: {hit: [kill], miss: [b]}}
      """)])
    #expect(result.ruleSet == nil)
    #expect(result.diagnostics.map(\.description).first?.hasPrefix("t.yaml:3:") == true)
    #expect(result.diagnostics.map(\.message) == ["invalid pattern: using \\C is disabled by the application"])
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
