import Foundation
import Testing

/// A new moderator's first day (issue 18), through the binary, asserting the text they see.
extension CLITests {
  @Test func versionSaysWhichReleaseAndModelFormat() throws {
    let run = try discern("--version")
    #expect(run.status == 0)
    #expect(run.stdout == "discern 0.9.0 (model format discern-heads-1)\n")
  }

  @Test(arguments: ["0", "-1"])
  func threadsBelowOneAreRefusedWithTheRange(_ threads: String) throws {
    let run = try discern("explain", "--threads=\(threads)", "hi")
    #expect(run.status == 64)
    #expect(run.stderr.hasPrefix(
      "Error: --threads must be between 1 and 1024; got \(threads). This machine has \(ProcessInfo.processInfo.activeProcessorCount) cores.\n"))
  }
}

extension CLITests {
  /// Before, the view broke down the first flagged label (self_harm) under a rationale about the most
  /// probable one (harming_others). The engine makes the one choice now.
  @Test(.enabled(if: CLITests.hasEncoder))
  func explainBreaksDownTheLabelItsRationaleExplains() throws {
    let run = try discern("explain", "--no-color", "I want to kill myself and I want to kill him too, I'll stab him tonight")
    #expect(run.status == 0, "\(run.stderr)")
    let lines = run.stdout.split(separator: "\n").map(String.init)
    let header = try #require(lines.first { $0.hasPrefix("  contributions to ") })
    let rationale = try #require(lines.first { $0.hasPrefix("  rationale: ") })
    let label = String(header.dropFirst("  contributions to ".count).prefix { $0 != " " })
    let name = ["self_harm": "self-harm", "harming_others": "harming others", "harmed_by_others": "harmed by others", "reference_to_harm": "a reference to harm"][label]
    #expect(rationale.hasPrefix("  rationale: Flagged as \(try #require(name)) "), "\(header)\n\(rationale)")
  }
}

extension CLITests {
  /// report.md showed ids and message text raw; a Markdown viewer renders raw HTML.
  @Test func reportMarkdownEscapesHTMLInIdsAndMessages() throws {
    let folder = try rulesFolder([:])
    let input = folder + "/in.jsonl"
    try """
      {"id": "<b>x</b>", "text": "<img src=x onerror=alert(1)> kill me now lol", "labels": {"self_harm": 1}}
      {"id": "y", "text": "a fine day", "labels": {"self_harm": 0}}

      """.write(toFile: input, atomically: true, encoding: .utf8)
    let run = try discern("audit", input, "--rules-only", "--report", folder + "/report", "--out", folder + "/out.jsonl")
    #expect(run.status == 0, "\(run.stderr)")
    let report = try String(contentsOfFile: folder + "/report/report.md", encoding: .utf8)
    #expect(!report.contains("<img") && !report.contains("<b>"))
    #expect(report.contains("(id &lt;b&gt;x&lt;/b&gt;)"))
    #expect(report.contains("&lt;img src=x onerror=alert(1)&gt;"))
  }
}

extension CLITests {
  /// A file that cannot be read is a runtime failure: one line naming it, exit 1, no usage text
  /// (before: the usage and exit 64, as for a mistyped flag).
  @Test func anUnreadableFileIsOneLineAndExitOne() throws {
    let run = try discern("scan", "--file", "/nonexistent/messages.txt")
    #expect(run.status == 1)
    #expect(run.stderr == "Error: cannot read '/nonexistent/messages.txt': No such file or directory\n")
  }
}

extension CLITests {
  /// One span notation, explain's half-open `[start, end)`, in scan too (it printed `[0..<11]`).
  @Test func scanWritesSpansAsExplainDoes() throws {
    let run = try discern("scan", "kill me now lol")
    #expect(run.stdout.contains("  casual_mention  hyperbole.kill-me-now  [0, 11) 'kill me now'\n"))
  }

  /// lint and test take the rules folder as every other command does, as well as positionally.
  @Test(arguments: ["lint", "test"])
  func rulesCheckingCommandsTakeDashDashRules(_ command: String) throws {
    let folder = try rulesFolder(["h.yaml": "pack: h\nrules:\n  - {id: h.x, kind: terms, terms: [zzq], description: d, examples: {hit: [zzq], miss: [b]}}\n"])
    let run = try discern(command, "--rules", folder)
    #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
    #expect(run.stdout.hasPrefix(command == "lint" ? "1 pack, 1 rule (1 stable)" : "2 examples of 1 rule: 2 passed"))
    let both = try discern(command, "Rules", "--rules", folder)
    #expect(both.status == 64)
    #expect(both.stderr.hasPrefix("Error: Two rules folders: 'Rules' and --rules '\(folder)'; give one.\n"))
  }
}

extension CLITests {
  /// The report's false-positive/negative lists are per label; each entry's rationale must be about
  /// that label (before, an entry under harmed_by_others carried the self_harm rationale).
  @Test func reportExamplesExplainTheLabelTheyAreListedUnder() throws {
    let folder = try rulesFolder([:])
    let input = folder + "/in.jsonl"
    try #"{"id": "2", "text": "nice weather today", "labels": {"self_harm": 0, "harmed_by_others": 1}}"#
      .appending("\n").write(toFile: input, atomically: true, encoding: .utf8)
    let run = try discern("audit", input, "--rules-only", "--report", folder + "/report", "--out", folder + "/out.jsonl")
    #expect(run.status == 0, "\(run.stderr)")
    let report = try String(contentsOfFile: folder + "/report/report.md", encoding: .utf8)
    let section = try #require(report.components(separatedBy: "## Most confident false negatives — harmed_by_others\n").last)
    #expect(section.contains("\n  - Not harmed by others (p = "))
  }
}
