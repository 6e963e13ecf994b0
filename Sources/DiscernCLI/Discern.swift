import ArgumentParser
import DiscernRules
import Foundation

@main
struct Discern: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "discern",
    abstract: "Tell serious self-harm intent apart from casual mentions, and show why.",
    discussion: """
      Discern supports human moderators. It is not a clinical instrument. If you or someone \
      you know is in crisis, contact local emergency services or a crisis line \
      (for example 988 in the US, 116 123 in the UK and Ireland; findahelpline.com lists others).
      """,
    version: discernVersion,
    subcommands: [LintCommand.self, TestCommand.self, ScanCommand.self, RulesCommand.self, EmbedCommand.self, TrainCommand.self, EvalCommand.self, AnnotationsCommand.self, GlossCommand.self, ExplainCommand.self, ReplCommand.self, AuditCommand.self])
}

/// What `discern --version` prints: the release, and the rules/model format it reads.
let discernVersion = "discern 0.9.0 (model format discern-heads-1)"

/// Options every command that reads rules shares.
struct RulesOptions: ParsableArguments {
  @Option(name: .long, help: "Folder of YAML rule packs.")
  var rules: String = "Rules"

  /// The compiled rules, or the diagnostics on stderr and exit status 1.
  func ruleSet() throws -> RuleSet {
    let result = RuleCompiler.compile(directory: rules)
    guard let ruleSet = result.ruleSet else {
      for diagnostic in result.diagnostics { FileHandle.standardError.write(Data("\(diagnostic)\n".utf8)) }
      throw ExitCode.failure
    }
    return ruleSet
  }
}

/// The rules folder of the commands that check rules: positional, or `--rules` as every other
/// command takes it.
struct RulesDirectory: ParsableArguments {
  @Argument(help: "Folder of YAML rule packs.")
  var positional: String?

  @Option(name: .customLong("rules"), help: "Folder of YAML rule packs (the same as the positional folder).")
  var option: String?

  var directory: String { option ?? positional ?? "Rules" }

  func validate() throws {
    if let positional, let option, positional != option {
      throw ValidationError("Two rules folders: '\(positional)' and --rules '\(option)'; give one.")
    }
  }
}
