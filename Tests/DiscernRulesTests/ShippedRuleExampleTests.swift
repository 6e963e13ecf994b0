import DiscernRules
import Testing

/// Every shipped rule's own `examples`, one test case per rule (SwiftLint's generated tests).
@Suite struct ShippedRuleExampleTests {
  static let result = RuleCompiler.compile(directory: repositoryRoot + "/Rules")
  static var ruleIDs: [String] { result.ruleSet?.featureIDs ?? [] }

  @Test func theShippedPacksCompileWithAtLeastFifteenRules() {
    #expect(Self.result.diagnostics.map(\.description) == [])
    #expect(Self.ruleIDs.count >= 15)
    let packs = Set(Self.result.definitions.map(\.pack))
    #expect(packs.isSuperset(of: ["hyperbole", "serious-intent", "recovery", "tense"]))
  }

  @Test(arguments: ruleIDs)
  func examples(of rule: String) throws {
    let ruleSet = try #require(Self.result.ruleSet)
    let definition = try #require(ruleSet.rule(rule))
    #expect(!definition.examples.hit.isEmpty && !definition.examples.miss.isEmpty, "'\(rule)' needs hit and miss examples")
    let report = ExampleRunner.run(ruleSet) { $0.id == rule }
    #expect(report.failures.isEmpty, "\(report.failures.map(\.description).joined(separator: "\n"))")
  }

  @Test func aFailingExampleSaysExpectedAndActual() throws {
    let rules = try ruleSet(["t": pack("""
        - id: t.x
          kind: terms
          terms: [die of]
          description: d
          examples:
            hit: ["I could ⟦die of embarrassment⟧"]
            miss: ["I could die of boredom"]
      """)])
    let report = ExampleRunner.run(rules)
    #expect(report.checked == 2)
    #expect(report.failures.map(\.description) == [
      """
      t.yaml:8:13: error: 't.x' hit this example with a different span
            hit: ["I could ⟦die of embarrassment⟧"]
                  ^
        expected: I could ⟦die of embarrassment⟧
        actual:   I could ⟦die of⟧ embarrassment
      """,
      """
      t.yaml:9:14: error: 't.x' should miss this example but hit it
            miss: ["I could die of boredom"]
                   ^
        expected: no hit
        actual:   I could ⟦die of⟧ boredom
      """,
    ])
  }
}
