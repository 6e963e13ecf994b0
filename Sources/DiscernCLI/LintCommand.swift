import ArgumentParser
import DiscernRules

struct LintCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "lint",
    abstract: "Check rule packs: syntax, keys, ids, patterns, and patterns that backtrack without bound.")

  @OptionGroup var rules: RulesDirectory

  @Flag(help: "Treat warnings as errors.")
  var strict = false

  func run() throws {
    let result = RuleCompiler.compile(directory: try rules.directory)
    var diagnostics = result.diagnostics
    // Lint the rules that parsed even when others did not: one run reports everything.
    diagnostics += RuleLint.warnings(for: result.definitions)
    for diagnostic in diagnostics { print(diagnostic) }
    let errors = diagnostics.filter { $0.severity == .error }.count
    let warnings = diagnostics.count - errors
    print(RuleSummary(result).line + ": \(plural(errors, "error")), \(plural(warnings, "warning")).")
    if errors > 0 || (strict && warnings > 0) { throw ExitCode.failure }
  }
}

/// "4 packs, 23 rules (21 stable, 1 shadow, 1 disabled)"; rules with errors count as rejected.
struct RuleSummary {
  let line: String

  init(_ result: RuleCompiler.Result) {
    let definitions = result.definitions
    let packs = Set(definitions.map(\.pack)).count
    var counts = RuleStatus.allCases.compactMap { status -> String? in
      let n = definitions.filter { $0.status == status }.count
      return n > 0 ? "\(n) \(status.rawValue)" : nil
    }
    if !result.rejectedIDs.isEmpty { counts.append("\(result.rejectedIDs.count) rejected") }
    let detail = counts.isEmpty ? "" : " (\(counts.joined(separator: ", ")))"
    let total = definitions.count + result.rejectedIDs.count
    line = "\(plural(packs, "pack")), \(plural(total, "rule"))\(detail)"
  }
}

func plural(_ n: Int, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }
