import DiscernRules
import Testing

@Suite struct PinnedWeightTests {
  static let pack = """
    pack: p
    description: pinned weights
    rules:
      - id: p.lol
        kind: terms
        terms: [lol]
        description: laughter
        weight: {self_harm: -1.5}

    """

  @Test func aRuleCanPinItsWeightPerLabel() throws {
    let result = RuleCompiler.compile(sources: [("p.yaml", Self.pack)])
    let ruleSet = try #require(result.ruleSet, "\(result.diagnostics)")
    #expect(ruleSet.rule("p.lol")?.pinnedWeights == ["self_harm": -1.5])
  }

  @Test func aPinForAnUnknownLabelSuggestsTheLabel() {
    let text = Self.pack.replacingOccurrences(of: "{self_harm: -1.5}", with: "{self_harn: -1.5}")
    let result = RuleCompiler.compile(sources: [("p.yaml", text)])
    #expect(result.ruleSet == nil)
    #expect(result.diagnostics.map(\.description) == [
      "p.yaml:8:14: error: unknown label 'self_harn' in the weight of 'p.lol'; did you mean 'self_harm'?\n    weight: {self_harn: -1.5}\n             ^"
    ])
  }
}
