import ArgumentParser
import DiscernRules

struct TestCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "test",
    abstract: "Run every rule's own hit and miss examples.")

  @OptionGroup var rules: RulesDirectory

  @Option(help: "Only rules whose id contains this text.")
  var filter: String?

  func run() throws {
    let result = RuleCompiler.compile(directory: try rules.directory)
    guard let ruleSet = result.ruleSet else {
      for diagnostic in result.diagnostics { print(diagnostic) }
      print("The rules do not compile; fix the errors above, then run the examples again.")
      throw ExitCode.failure
    }
    let report = ExampleRunner.run(ruleSet, only: filter.map { text in { $0.id.contains(text) } })
    for failure in report.failures { print(failure, terminator: "\n\n") }
    let disabled = result.definitions.filter { $0.status == .disabled }.count
    let skipped = disabled > 0 ? " (\(plural(disabled, "disabled rule")) not run)" : ""
    let failed = Set(report.failures.map(\.rule)).count
    print(
      "\(plural(report.checked, "example")) of \(plural(ruleSet.rules.count, "rule"))\(skipped): "
        + "\(report.checked - report.failures.count) passed, \(report.failures.count) failed"
        + (failed > 0 ? " in \(plural(failed, "rule"))." : "."))
    if !report.failures.isEmpty { throw ExitCode.failure }
  }
}
