import Foundation
import Testing

/// Rule files and messages from the hostile-input probe, through the binary as staff meet them.
extension CLITests {
  @Test func lintRefusesBackslashCAndNoJITWithTheirPositions() throws {
    let folder = try rulesFolder([
      "h.yaml": """
        pack: h
        rules:
          - {id: h.c, kind: pattern, pattern: 'ki\\Cl', description: d}
          - {id: h.n, kind: pattern, pattern: '(*NO_JIT)kill', description: d}

        """
    ])
    let run = try discern("lint", folder)
    #expect(run.status == 1)
    #expect(run.stdout.contains("\(folder)/h.yaml:3:44: error: invalid pattern: using \\C is disabled by the application"))
    #expect(run.stdout.contains("\(folder)/h.yaml:4:40: error: invalid pattern: (*NO_JIT) is not allowed: rule patterns run JIT-compiled"))
  }

  @Test func lintRefusesARulePackNestedTooDeep() throws {
    let folder = try rulesFolder(["deep.yaml": "pack: deep\nrules: " + String(repeating: "[", count: 100_000) + "\n"])
    let run = try discern("lint", folder)
    #expect(run.status == 1)
    #expect(run.stdout.contains("\(folder)/deep.yaml:2:71: error: nesting deeper than 64 levels; a rule file needs only a few, so this one is refused"))
  }

  @Test func anAuditRecordSaysWhatPaddingItSetAside() throws {
    let folder = try rulesFolder([:])
    let input = folder + "/padded.jsonl"
    let text = "I can't do this anymore " + String(repeating: "😂", count: 14)
    try ("{\"id\":\"p\",\"text\":\"\(text)\"}\n").write(toFile: input, atomically: true, encoding: .utf8)
    let run = try discern("audit", input, "--rules-only")
    #expect(run.status == 0, "\(run.stderr)")
    #expect(run.stdout.contains(#""padding":[[23,38]]"#))
    #expect(run.stdout.contains("Read without its padding: 15 of 38 characters"))
  }
}
