import DiscernRules
import Foundation
import Testing

/// The repository root, found from this file's path.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .deletingLastPathComponent().path

/// Compiles packs given inline, each named `NAME.yaml`.
func compile(_ packs: [String: String]) -> RuleCompiler.Result {
  RuleCompiler.compile(sources: packs.sorted { $0.key < $1.key }.map { ("\($0.key).yaml", $0.value) })
}

/// Compiles packs that must be valid.
func ruleSet(_ packs: [String: String], sourceLocation: SourceLocation = #_sourceLocation) throws -> RuleSet {
  let result = compile(packs)
  let errors = result.diagnostics.filter { $0.severity == .error }
  #expect(errors.isEmpty, "\(errors.map(\.description).joined(separator: "\n"))", sourceLocation: sourceLocation)
  return try #require(result.ruleSet, sourceLocation: sourceLocation)
}

/// Checks a rule's spans on a message written with `⟦ ⟧` around every span the rule must find,
/// and nothing else (swift-format's inline markers, in our brackets).
func expectSpans(
  _ ruleSet: RuleSet, _ rule: String, _ marked: String, sourceLocation: SourceLocation = #_sourceLocation
) throws {
  let source = SourceText(path: "inline", text: marked)
  let example = try RuleExample(marked, mark: SourceMark(source: source, line: 1, column: 1))
  let evaluation = ruleSet.evaluate(example.text)
  let spans = evaluation.evidence(for: rule).map { $0.start..<$0.end }
  #expect(
    ExampleRunner.marked(example.text, spans) == marked,
    "rule '\(rule)' found \(spans)", sourceLocation: sourceLocation)
  #expect(evaluation.hit(rule) == !example.expectedSpans.isEmpty, sourceLocation: sourceLocation)
}

/// A one-rule pack around a rule body (YAML lines after `- id: t.r`, indented by 4).
func pack(_ rules: String, name: String = "t") -> String {
  "pack: \(name)\nrules:\n" + rules
}
