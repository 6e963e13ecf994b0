import ArgumentParser
import CEditLine
import Discern
import DiscernAudit
import DiscernEncoder
import DiscernModel
import DiscernRules
import Foundation

struct ReplCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "repl",
    abstract: "Ask Discern about messages interactively; edit rules and :reload to see decisions change.",
    discussion: "Type a message to explain it, or :help for the commands. Ctrl-C cancels the line, Ctrl-D exits.")

  @OptionGroup var rulesOptions: RulesOptions
  @OptionGroup var encoderOptions: EncoderOptions
  @OptionGroup var engineOptions: EngineOptions



  @Option(help: "History file (kept between sessions).")
  var history: String = NSHomeDirectory() + "/.discern_history"

  @OptionGroup var colourOption: ColourOption

  func run() throws {
    let encoder = try encoderOptions.load(model: engineOptions.model)
    var session = ReplSession(
      engine: try engineOptions.load(rules: rulesOptions.rules, encoder: encoder),
      rules: try rulesOptions.rules, policy: try engineOptions.policy, model: try engineOptions.model, colour: colourOption.enabled())
    _ = read_history(history)
    // Ctrl-C drops the line being typed: libedit's readline returns NULL when interrupted, and the
    // flag tells that apart from Ctrl-D (end of input), which ends the session.
    signal(SIGINT) { _ in replInterrupted = 1 }
    // A pasted 0x1C (the terminal's quit character) ended the session with a core dump and lost the
    // history; it now drops the line as Ctrl-C does.
    signal(SIGQUIT) { _ in replInterrupted = 1 }
    print("Discern REPL — type a message to explain it, :help for commands. Discern supports moderators; it is not a clinical instrument.")
    while true {
      guard let raw = readline("discern> ") else {
        if replInterrupted != 0 {
          replInterrupted = 0
          print("")
          continue
        }
        break
      }
      let line = String(cString: raw).trimmingCharacters(in: .whitespaces)
      free(raw)
      guard !line.isEmpty else { continue }
      add_history(line)
      if session.handle(line) == .quit { break }
      fflush(nil)
    }
    _ = write_history(history)
    print("")
  }
}

/// Set by the SIGINT and SIGQUIT handlers (a plain store is all a handler may safely do).
nonisolated(unsafe) var replInterrupted: sig_atomic_t = 0

/// The REPL's state and commands, apart from line editing so tests can drive it directly.
struct ReplSession {
  enum Outcome { case `continue`, quit }

  var engine: Engine
  let rules: String
  let policy: String
  let model: String
  let colour: Bool
  var thresholds: [String: Double] = [:]
  var json = false
  var last: Decision?
  /// A second model every message is also decided by (`:compare`), with its folder: what `discern
  /// learn` wrote, against the model serving.
  var comparison: (engine: Engine, folder: String)?

  static let help = """
    a message          explain it
    :help              this list
    :rules [filter]    the rules (id, status, pack), filtered by a substring
    :rule ID           a rule's YAML, its examples and its weight per label
    :reload            re-read the rules and lexicons; on errors keep the last good rules
    :why LABEL         every contribution to LABEL for the last message
    :flip LABEL        the fewest contributions whose removal flips LABEL's decision
    :threshold LABEL P set LABEL's threshold for this session
    :compare MODEL     also decide each message with another model folder (e.g. one discern learn
                       wrote) and show both per label; :compare off stops
    :json              toggle JSON output
    :quit              leave (or Ctrl-D)
    """

  mutating func handle(_ line: String) -> Outcome {
    guard line.hasPrefix(":") else {
      let decision = engine.decide(line, thresholds: thresholds)
      last = decision
      print(json ? DecisionJSON.line(decision) : DecisionView.render(decision, colour: colour))
      if let comparison { compare(decision, with: comparison.engine.decide(line, thresholds: thresholds), folder: comparison.folder) }
      return .continue
    }
    let words = line.dropFirst().split(separator: " ", omittingEmptySubsequences: true).map(String.init)
    let command = words.first ?? ""
    let arguments = Array(words.dropFirst())
    switch command {
    case "help": print(Self.help)
    case "quit", "q", "exit": return .quit
    case "json":
      json.toggle()
      print("JSON output \(json ? "on" : "off")")
    case "rules": listRules(filter: arguments.first)
    case "rule": showRule(arguments.first)
    case "reload": reload()
    case "why": why(arguments.first)
    case "flip": flip(arguments.first)
    case "threshold": setThreshold(arguments)
    case "compare": setComparison(arguments.first)
    default:
      let commands = ["help", "rules", "rule", "reload", "why", "flip", "threshold", "compare", "json", "quit"]
      print("unknown command ':\(command)'\(Suggestions.hint(for: command, in: commands)); :help lists them")
    }
    return .continue
  }

  func labelArgument(_ name: String?) -> String? {
    let labels = engine.model.labels.keys.sorted()
    guard let name, labels.contains(name) else {
      print("give a trained label: \(labels.joined(separator: ", "))\(name.map { Suggestions.hint(for: $0, in: labels) } ?? "")")
      return nil
    }
    return name
  }

  func listRules(filter: String?) {
    for rule in engine.ruleSet.rules where filter.map({ rule.id.contains($0) || rule.pack.contains($0) }) ?? true {
      print("  " + rule.id.padding(toLength: 40, withPad: " ", startingAt: 0) + rule.status.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0) + rule.description)
    }
  }

  func showRule(_ id: String?) {
    guard let id, let rule = engine.ruleSet.rule(id) else {
      print("no rule '\(id ?? "")'\(Suggestions.hint(for: id ?? "", in: engine.ruleSet.rules.map(\.id)))")
      return
    }
    print(RuleSource.text(of: rule, in: engine.ruleSet))
    for label in engine.model.labels.keys.sorted() {
      let weight = rule.pinnedWeights[label] ?? engine.model.labels[label]!.fused.rules[id]
      let pinned = rule.pinnedWeights[label] != nil ? " (pinned in the YAML)" : ""
      print("  weight for \(label): " + (weight.map { String(format: "%+.3f", $0) } ?? "untrained (counts 0)") + pinned)
    }
  }

  mutating func setComparison(_ folder: String?) {
    guard let folder else { return print("give a model folder to compare with (:compare Models/ours), or :compare off") }
    if folder == "off" {
      comparison = nil
      return print("comparison off")
    }
    do {
      comparison = (try Engine(rules: rules, policy: policy, encoder: engine.encoder, model: folder), folder)
      print("comparing with \(folder): each message is decided by both models")
      if let last { compare(last, with: comparison!.engine.decide(last.text, thresholds: thresholds), folder: folder) }
    } catch {
      print(error.description)
      print("no comparison: '\(folder)' did not load")
    }
  }

  /// One line per label: this model's probability and flag, then the compared model's; `changes`
  /// where the flag differs.
  func compare(_ decision: Decision, with other: Decision, folder: String) {
    print("compared with \(folder):")
    for label in decision.labels {
      guard let theirs = other.label(label.label) else { continue }
      let flag = { (flagged: Bool) in flagged ? "flagged" : "not flagged" }
      let change = label.flagged != theirs.flagged ? "   changes" : ""
      let p = { (probability: Double) in String(format: "%.2f", probability) }
      print("  \(label.label.padding(toLength: 18, withPad: " ", startingAt: 0))p \(p(label.probability)) \(flag(label.flagged))  →  p \(p(theirs.probability)) \(flag(theirs.flagged))\(change)")
    }
  }

  mutating func reload() {
    do {
      let fresh = try Engine(rules: rules, policy: policy, encoder: engine.encoder, model: model)
      // By what each rule says, not where it sits: a line added above a rule moves it, not changes it.
      let before = Dictionary(uniqueKeysWithValues: engine.ruleSet.rules.map { ($0.id, RuleSource.content(of: $0.node)) })
      let after = Dictionary(uniqueKeysWithValues: fresh.ruleSet.rules.map { ($0.id, RuleSource.content(of: $0.node)) })
      let added = after.keys.filter { before[$0] == nil }.sorted()
      let removed = before.keys.filter { after[$0] == nil }.sorted()
      let changed = after.keys.filter { before[$0] != nil && before[$0] != after[$0] }.sorted()
      engine = fresh
      print("reloaded \(fresh.ruleSet.rules.count) rules: \(added.count) added, \(removed.count) removed, \(changed.count) changed")
      for id in added { print("  + \(id)") }
      for id in removed { print("  - \(id)") }
      for id in changed { print("  ~ \(id)") }
      for warning in fresh.warnings { print("warning: \(warning)") }
    } catch {
      print(error.description)
      print("kept the last good rules (\(engine.ruleSet.rules.count) rules)")
    }
  }

  func why(_ name: String?) {
    guard let last else { return print("explain a message first") }
    guard let name = labelArgument(name), let label = last.label(name) else { return }
    print("urgency: " + last.urgency.summary)
    if let scope = DecisionView.scopeLine(last.scope) { print(scope.trimmingCharacters(in: .whitespaces)) }
    print(String(format: "%@: logit %.3f = bias %.3f + %d contributions; p %.3f (threshold %.2f)", name, label.logit, label.bias, label.contributions.count, label.probability, label.threshold))
    for c in label.contributions {
      print("  " + c.feature.padding(toLength: 40, withPad: " ", startingAt: 0) + String(format: "%7.3f × %+7.3f = %+7.3f", c.value, c.weight, c.contribution))
    }
  }

  func flip(_ name: String?) {
    guard let last else { return print("explain a message first") }
    guard let name = labelArgument(name), let label = last.label(name) else { return }
    guard let (removed, probability) = engine.flip(last, label: name) else {
      return print("no set of contributions flips \(name): removing every term that pushes it \(label.flagged ? "up" : "down") is not enough")
    }
    let features = removed.map { String(format: "%@ (%+.2f)", $0.feature, $0.contribution) }.joined(separator: ", ")
    print(String(format: "without %@, %@ would be %@ (p %.2f → %.2f, threshold %.2f)", features, name, label.flagged ? "not flagged" : "flagged", label.probability, probability, label.threshold))
  }

  mutating func setThreshold(_ arguments: [String]) {
    guard let name = labelArgument(arguments.first) else { return }
    guard arguments.count == 2, let value = Double(arguments[1]), value > 0, value < 1 else {
      return print("usage: :threshold LABEL P, with P between 0 and 1")
    }
    thresholds[name] = value
    print(String(format: "%@ threshold %.2f for this session", name, value))
  }
}

/// The YAML a rule was written as: from its line to the next rule of the same file.
enum RuleSource {
  /// A rule's YAML as its values alone — no positions, quoting style or comments — to compare two
  /// loads of a rule by what it says.
  static func content(of node: YAMLNode) -> String {
    switch node.content {
    case .scalar(let value, _): return value.debugDescription
    case .sequence(let items): return "[" + items.map(content).joined(separator: ",") + "]"
    case .mapping(let pairs): return "{" + pairs.map { content(of: $0.key) + ":" + content(of: $0.value) }.joined(separator: ",") + "}"
    }
  }

  static func text(of rule: RuleDefinition, in ruleSet: RuleSet) -> String {
    let source = rule.node.mark.source
    let start = rule.node.mark.line
    let next = ruleSet.rules.filter { $0.node.mark.source.path == source.path && $0.node.mark.line > start }.map(\.node.mark.line).min()
    var lines = (start..<(next ?? source.lines.count + 1)).compactMap { source.line($0).map(String.init) }
    while let tail = lines.last, tail.trimmingCharacters(in: .whitespaces).isEmpty { lines.removeLast() }
    return "\(source.path):\(start)\n" + lines.joined(separator: "\n")
  }
}
