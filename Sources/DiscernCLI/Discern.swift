import ArgumentParser
import Discern
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
    subcommands: [LintCommand.self, TestCommand.self, ScanCommand.self, RulesCommand.self, EmbedCommand.self, TrainCommand.self, EvalCommand.self, AnnotationsCommand.self, GlossCommand.self, ExplainCommand.self, ReplCommand.self, AuditCommand.self, ServeCommand.self, VerdictsCommand.self, LearnCommand.self])
}

/// What `discern --version` prints: the release, and the rules/model format it reads.
let discernVersion = "discern 0.9.0 (model format discern-heads-1)"

/// How every resource option's help ends: where the default comes from.
let searchOrderHelp = "found in $DISCERN_HOME, then <prefix>/share/discern, then the checkout"

/// The path of `resource`: `flag` when given, else found by the search order (README, "Where Discern
/// finds its data"); when it is nowhere, the places tried and the fix on stderr and exit status 1.
func locate(_ resource: Resource, flag: String?) throws -> String {
  do {
    return try ResourceLocator().path(resource, flag: flag)
  } catch {
    progressLine("error: \(error)")
    throw ExitCode.failure
  }
}

/// Options every command that reads rules shares.
struct RulesOptions: ParsableArguments {
  @Option(name: .customLong("rules"), help: "Folder of YAML rule packs (default: Rules/, \(searchOrderHelp)).")
  var rulesFlag: String?

  var rules: String { get throws { try locate(.rules, flag: rulesFlag) } }

  /// The compiled rules, or the diagnostics on stderr and exit status 1.
  func ruleSet() throws -> RuleSet {
    let result = RuleCompiler.compile(directory: try rules)
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
  @Argument(help: "Folder of YAML rule packs (default: Rules/, \(searchOrderHelp)).")
  var positional: String?

  @Option(name: .customLong("rules"), help: "Folder of YAML rule packs (the same as the positional folder).")
  var option: String?

  var directory: String { get throws { try locate(.rules, flag: option ?? positional) } }

  func validate() throws {
    if let positional, let option, positional != option {
      throw ValidationError("Two rules folders: '\(positional)' and --rules '\(option)'; give one.")
    }
  }
}
