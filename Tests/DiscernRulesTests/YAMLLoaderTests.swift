import DiscernRules
import Foundation
import Testing

@Suite struct YAMLLoaderTests {
  func load(_ text: String) -> (YAMLNode?, [Diagnostic]) {
    var diagnostics = DiagnosticList()
    let node = YAMLLoader().load(SourceText(path: "f.yaml", text: text), text: text, diagnostics: &diagnostics)
    return (node, diagnostics.items)
  }

  @Test func everyNodeKeepsItsLineAndColumn() throws {
    let (node, diagnostics) = load("pack: p\nrules:\n  - id: p.a\n    pattern: 'x'\n")
    #expect(diagnostics.isEmpty)
    let rule = try #require(node?["rules"]?.sequence?.first)
    #expect(rule.mark.description == "f.yaml:3:5")
    #expect(rule["pattern"]?.mark.description == "f.yaml:4:14")
    #expect(rule["pattern"]?.scalar == "x")
  }

  @Test func duplicateKeysAreErrorsAtTheSecondKey() {
    let (_, diagnostics) = load("pack: p\nrules: []\npack: q\n")
    #expect(diagnostics.map(\.description) == [
      """
      f.yaml:3:1: error: duplicate key 'pack' (first used at line 1); keys must be unique
      pack: q
      ^
      """
    ])
  }

  @Test func billionLaughsIsRefusedWithoutExpanding() throws {
    let text = try String(contentsOfFile: repositoryRoot + "/Tests/Fixtures/billion-laughs/lol.yaml", encoding: .utf8)
    let (node, diagnostics) = load(text)
    #expect(node == nil)
    #expect(diagnostics.count == 1)
    #expect(
      diagnostics.first?.message
        == "document expands to more than 100000 nodes through aliases; refusing it (billion laughs?)")
    #expect(diagnostics.first?.mark?.line == 7)
  }

  /// Before, 100,000 levels took 45 s to build and crashed the process when the tree was freed.
  @Test(arguments: ["[", "{a: "])
  func nestingPastTheDepthLimitIsRefusedWhereItCrossesIt(_ opener: String) throws {
    let (node, diagnostics) = load("rules: " + String(repeating: opener, count: 100_000))
    #expect(node == nil)
    #expect(diagnostics.map(\.message) == ["nesting deeper than 64 levels; a rule file needs only a few, so this one is refused"])
    #expect(diagnostics.first?.mark?.line == 1)
    // The document's own mapping is the first level: the 64th opener is where it crosses.
    #expect(diagnostics.first?.mark?.column == 8 + 63 * opener.count)
  }

  @Test func smallAliasesAreShared() throws {
    let (node, diagnostics) = load("base: &b [x, y]\ncopy: *b\n")
    #expect(diagnostics.isEmpty)
    #expect(try #require(node?["copy"]?.sequence).compactMap(\.scalar) == ["x", "y"])
  }

  @Test func syntaxErrorsSayWhere() {
    let (node, diagnostics) = load("rules:\n  - id: [unclosed\n")
    #expect(node == nil)
    #expect(diagnostics.first?.description.hasPrefix("f.yaml:3:1: error: invalid YAML: while parsing a flow sequence") == true)
  }
}
