import DiscernRules
import Testing

/// Each kind on messages with `⟦ ⟧` around every span the rule must report.
@Suite struct RuleKindTests {
  @Test func patternIsCaselessUnicodeAndFindsEveryMatch() throws {
    let rules = try ruleSet(["t": pack("""
        - {id: t.p, kind: pattern, pattern: '\\bdéjà vu\\b', description: d}
        - {id: t.cs, kind: pattern, pattern: 'RIP', case_sensitive: true, description: d}
      """)])
    try expectSpans(rules, "t.p", "⟦DÉJÀ VU⟧ again, ⟦déjà vu⟧")
    try expectSpans(rules, "t.cs", "⟦RIP⟧ rip")
  }

  /// A capturing group used to make PCRE2 answer "ovector too small", which read as no match.
  @Test func aPatternWithCapturingGroupsStillMatchesAsAWhole() throws {
    let rules = try ruleSet(["t": pack("""
        - {id: t.g, kind: pattern, pattern: '\\b(homework|exam)\\b.{0,30}\\b(kill) me\\b', description: d}
      """)])
    try expectSpans(rules, "t.g", "this ⟦homework is going to kill me⟧")
  }

  @Test func spansAreUnicodeScalarOffsetsIntoTheOriginalText() throws {
    let rules = try ruleSet(["t": pack("""
        - {id: t.p, kind: pattern, pattern: "\\\\bi'm so dead\\\\b", description: d}
      """)])
    // Emoji before the span (🕊️ is 2 scalars, 👩‍👩‍👧 is 5), and a typographic apostrophe the
    // pattern spells as ASCII. Python agrees: len("🕊️👩‍👩‍👧 ") == 8.
    let evaluation = rules.evaluate("🕊️👩‍👩‍👧 I’m so dead")
    #expect(evaluation.evidence == [Evidence(rule: "t.p", type: nil, start: 8, end: 19, text: "I’m so dead")])
  }

  @Test func termsMatchWholeWordsAndPhrasesLongestFirst() throws {
    let rules = try ruleSet(["t": pack("""
        - {id: t.t, kind: terms, terms: [used to, used, "#kms"], description: d}
      """)])
    try expectSpans(rules, "t.t", "I ⟦used  to⟧ think, ⟦used⟧ it, ⟦#kms⟧")
    try expectSpans(rules, "t.t", "unused reused #kmsfr")
  }

  @Test func termsThatMatchInsideWordsAreFlagged() {
    let result = compile(["t": pack("""
        - id: t.t
          kind: terms
          terms: [die]
          whole_words: false
          description: d
      """)])
    #expect(result.diagnostics.map(\.message) == [
      "terms in 't.t' match inside other words ('whole_words: false'); 'die' will also hit longer words that contain it"
    ])
  }

  @Test func nearCountsWordsBetweenSpansInEitherOrder() throws {
    let rules = try ruleSet(["t": pack("""
        - {id: t.a, kind: terms, terms: [hurt myself], description: d}
        - {id: t.b, kind: terms, terms: [tonight], description: d}
        - {id: t.n, kind: near, near: [t.a, t.b], within: 2, description: d}
        - {id: t.o, kind: near, near: [t.a, t.b], within: 2, ordered: true, description: d}
      """)])
    try expectSpans(rules, "t.n", "I will ⟦hurt myself tonight⟧")
    try expectSpans(rules, "t.n", "⟦tonight I will hurt myself⟧")
    try expectSpans(rules, "t.n", "tonight, maybe later, I fear I will hurt myself")
    try expectSpans(rules, "t.o", "I will ⟦hurt myself 😞 tonight⟧")
    try expectSpans(rules, "t.o", "tonight I will hurt myself")
  }

  @Test func compositesCombineOtherRules() throws {
    let rules = try ruleSet(["t": pack("""
        - {id: t.a, kind: terms, terms: [alpha], description: d}
        - {id: t.b, kind: terms, terms: [beta], description: d}
        - {id: t.all, kind: all, all: [t.a, t.b], description: d}
        - {id: t.any, kind: any, any: [t.a, t.b], description: d}
        - {id: t.not, kind: not, not: t.a, description: d}
      """)])
    try expectSpans(rules, "t.all", "⟦alpha⟧ and ⟦beta⟧")
    try expectSpans(rules, "t.all", "alpha only")
    try expectSpans(rules, "t.any", "just ⟦beta⟧")
    try expectSpans(rules, "t.any", "neither")
    #expect(rules.evaluate("neither").hit("t.not"))
    #expect(!rules.evaluate("alpha").hit("t.not"))
    #expect(rules.evaluate("neither").evidence(for: "t.not").isEmpty)
  }

  @Test func unlessCancelsOnlyWithinTheSameSentence() throws {
    let rules = try ruleSet(["t": pack("""
        - {id: t.neg, kind: pattern, pattern: '\\bnot going to\\b', marks: negation, description: d}
        - {id: t.act, kind: terms, terms: [hurt myself], unless: t.neg, marks: serious_intent, description: d}
      """)])
    try expectSpans(rules, "t.act", "I'm not going to hurt myself, I promise")
    try expectSpans(rules, "t.act", "I'm not going to school. I want to ⟦hurt myself⟧")
    try expectSpans(rules, "t.act", "I'll ⟦hurt myself⟧. I'm not going to stop")
  }

  @Test func featuresFollowRuleIdOrderAndKeepShadowRules() throws {
    let rules = try ruleSet(["t": pack("""
        - {id: t.z, kind: terms, terms: [zed], description: d}
        - {id: t.a, kind: terms, terms: [ay], status: shadow, description: d}
        - {id: t.off, kind: terms, terms: [off], status: disabled, description: d}
      """)])
    #expect(rules.featureIDs == ["t.a", "t.z"])
    #expect(rules.rule("t.a")?.status == .shadow)
    #expect(rules.evaluate("ay zed off").features == [1, 1])
    #expect(rules.evaluate("zed").features == [0, 1])
  }
}
