import DiscernRules
import Foundation
import Testing

@Suite struct DiagnosticsTests {
  /// The acceptance file: a misspelt key, a bad regex and an unknown rule id, all
  /// reported in one run with position, source line, caret and hint.
  @Test func threeProblemsInOneRun() throws {
    let path = "Tests/Fixtures/three-problems/h.yaml"
    let text = try String(contentsOfFile: repositoryRoot + "/" + path, encoding: .utf8)
    let result = RuleCompiler.compile(sources: [(path, text)])
    #expect(result.ruleSet == nil)
    #expect(result.diagnostics.map(\.description) == [
      """
      Tests/Fixtures/three-problems/h.yaml:5:5: error: unknown key 'patern' in rule 'h.kms'; did you mean 'pattern'?
          patern: '\\bkms\\b'
          ^
      """,
      """
      Tests/Fixtures/three-problems/h.yaml:9:31: error: invalid pattern: missing closing parenthesis
          pattern: '\\bmight as (well'
                                    ^
      """,
      """
      Tests/Fixtures/three-problems/h.yaml:13:18: error: unknown rule 'h.bda' in 'h.both'; did you mean 'h.bad'?
          all: [h.kms, h.bda]
                       ^
      """,
    ])
  }

  @Test func regexErrorColumnsAccountForQuoting() {
    // '' inside single quotes is one ' in the value; the caret must still land on the '+'.
    let text = pack("""
        - id: t.q
          kind: pattern
          pattern: 'it''s +?+x'
          description: d
      """)
    let result = compile(["t": text])
    #expect(result.diagnostics.map(\.description) == [
      """
      t.yaml:5:23: error: invalid pattern: quantifier does not follow a repeatable item
          pattern: 'it''s +?+x'
                            ^
      """
    ])
  }

  @Test func unknownKindAndStatusSuggestTheNearest() {
    let result = compile(["t": pack("""
        - id: t.a
          kind: patern
          status: shadw
          description: d
      """)])
    #expect(result.diagnostics.map(\.message) == [
      "unknown rule kind 'patern'; did you mean 'pattern'? (kinds: pattern, terms, near, all, any, not, emoji)",
      "'status' cannot be 'shadw'; did you mean 'shadow'? (one of: stable, shadow, disabled)",
    ])
  }

  @Test func idsMustBeNamespacedByTheirPack() {
    let result = compile(["t": pack("""
        - id: other.a
          kind: terms
          terms: [x]
          description: d
      """)])
    #expect(result.diagnostics.map(\.message) == [
      "rule id 'other.a' must be 't.NAME', with NAME in lowercase letters, digits and '-'"
    ])
  }

  @Test func cyclesAreErrors() {
    let result = compile(["t": pack("""
        - id: t.a
          kind: any
          any: [t.b, t.c]
          description: d
        - id: t.b
          kind: all
          all: [t.a, t.c]
          description: d
        - id: t.c
          kind: terms
          terms: [x]
          description: d
      """)])
    #expect(result.ruleSet == nil)
    #expect(result.diagnostics.map(\.description) == [
      """
      t.yaml:9:11: error: rules form a cycle: t.a → t.b → t.a
          all: [t.a, t.c]
                ^
      """
    ])
  }

  @Test func duplicateIdsAcrossPacksAreErrors() {
    let result = compile([
      "a": "pack: t\nrules:\n  - {id: t.x, kind: terms, terms: [x], description: d}\n",
      "b": "pack: t\nrules:\n  - {id: t.x, kind: terms, terms: [y], description: d}\n",
    ])
    #expect(result.diagnostics.map(\.description) == [
      """
      b.yaml:3:10: error: duplicate rule id 't.x' (first defined at a.yaml:3:10)
        - {id: t.x, kind: terms, terms: [y], description: d}
               ^
      """
    ])
  }

  @Test func disabledRulesCannotBeUsedAndShadowUseIsFlagged() {
    let result = compile(["t": pack("""
        - {id: t.off, kind: terms, terms: [x], status: disabled, description: d}
        - {id: t.trial, kind: terms, terms: [y], status: shadow, description: d}
        - {id: t.uses-off, kind: not, not: t.off, description: d}
        - {id: t.uses-trial, kind: not, not: t.trial, description: d}
      """)])
    #expect(result.diagnostics.map(\.message) == [
      "rule 't.uses-off' uses disabled rule 't.off'; enable it or disable this rule too",
      "stable rule 't.uses-trial' uses shadow rule 't.trial', so the shadow rule moves decisions through it",
    ])
  }

  @Test func missingRequiredKeysAreNamed() {
    let result = compile(["t": pack("""
        - id: t.a
          kind: near
          near: [t.a]
      """)])
    #expect(result.diagnostics.map(\.message) == [
      "rule 't.a' has no 'description'; say in one line what it catches",
      "'near' must name exactly 2 rule ids, found 1",
    ])
  }

  @Test func badExampleMarkersPointAtTheMarker() {
    let result = compile(["t": pack("""
        - id: t.a
          kind: terms
          terms: [x]
          description: d
          examples:
            hit: ["a ⟦x"]
      """)])
    #expect(result.diagnostics.map(\.description) == [
      """
      t.yaml:8:16: error: '⟦' is never closed with '⟧'
            hit: ["a ⟦x"]
                     ^
      """
    ])
  }

  @Test func invalidUTF8SaysWhere() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("discern-utf8-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let bytes = Array("pack: t\nrules:\n  - id: t.caf".utf8) + [0xE9] + Array(" x\n".utf8)
    try Data(bytes).write(to: folder.appendingPathComponent("t.yaml"))
    let result = RuleCompiler.compile(directory: folder.path)
    #expect(result.diagnostics.map(\.description) == [
      """
      \(folder.path)/t.yaml:3:14: error: file is not valid UTF-8: byte 0xE9 here; save it as UTF-8
        - id: t.caf\u{FFFD} x
                   ^
      """
    ])
  }

  @Test func lexiconErrorsAreReportedThroughTheRulesThatNameIt() throws {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("discern-lex-\(UUID().uuidString)")
    for folder in ["Rules", "Lexicons"] {
      try FileManager.default.createDirectory(at: root.appendingPathComponent(folder), withIntermediateDirectories: true)
    }
    try """
      lexicon: t
      version: "1"
      entries:
        - {emoji: "🔪", name: kitchen knife, meaning: m, self_harm_meaning: s, casual_mention: low, serious_intent: hgh}
      """.write(to: root.appendingPathComponent("Lexicons/t.yaml"), atomically: true, encoding: .utf8)
    try pack("""
        - {id: t.a, kind: emoji, lexicon: ../Lexicons/t.yaml, measure: count, description: d}
        - {id: t.b, kind: emoji, lexicon: ../Lexicons/t.yaml, measure: cuont, description: d}
      """).write(to: root.appendingPathComponent("Rules/t.yaml"), atomically: true, encoding: .utf8)
    let result = RuleCompiler.compile(directory: root.path + "/Rules")
    #expect(result.ruleSet == nil)
    #expect(result.diagnostics.map(\.description) == [
      """
      \(root.path)/Rules/t.yaml:4:66: error: unknown measure 'cuont'; did you mean 'count'? \
      (one of: serious_intent_sum, serious_intent_max, casual_mention_sum, casual_mention_max, count, longest_run, laughter_close)
        - {id: t.b, kind: emoji, lexicon: ../Lexicons/t.yaml, measure: cuont, description: d}
                                                                       ^
      """,
      """
      \(root.path)/Lexicons/t.yaml:4:110: error: 'serious_intent' cannot be 'hgh'; did you mean 'high'? (one of: low, medium, high)
        - {emoji: "🔪", name: kitchen knife, meaning: m, self_harm_meaning: s, casual_mention: low, serious_intent: hgh}
                                                                                                                   ^
      """,
    ])
  }
}
