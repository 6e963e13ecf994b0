import Foundation

/// Turns rule packs into one `RuleSet`, or into the full list of what is wrong with them.
public enum RuleCompiler {
  /// What a compile produced. `ruleSet` is nil when any diagnostic is an error.
  public struct Result: Sendable {
    public let ruleSet: RuleSet?
    public let diagnostics: [Diagnostic]
    /// Every rule that parsed, disabled ones included, in file order.
    public let definitions: [RuleDefinition]
    /// Ids of rules that were written but rejected with errors.
    public var rejectedIDs: [String] = []
  }

  /// Files in a rules folder that are not rule packs.
  public static let nonPackFiles: Set<String> = ["policy.yaml"]

  /// Compiles every `*.yaml` / `*.yml` pack in `directory` (sorted by name; `policy.yaml` is
  /// the labels' file, not a pack).
  public static func compile(directory: String) -> Result {
    let files: [String]
    do {
      files = try FileManager.default.contentsOfDirectory(atPath: directory)
        .filter { ($0.hasSuffix(".yaml") || $0.hasSuffix(".yml")) && !nonPackFiles.contains($0) }
        .sorted()
    } catch {
      return Result(
        ruleSet: nil, diagnostics: [.error("cannot read rules folder '\(directory)': \(error.localizedDescription)", at: nil)],
        definitions: [])
    }
    var sources: [(path: String, text: String)] = []
    var diagnostics = DiagnosticList()
    for file in files {
      let path = directory.hasSuffix("/") ? directory + file : directory + "/" + file
      guard let text = SourceFiles.read(path, diagnostics: &diagnostics) else { continue }
      sources.append((path, text))
    }
    if sources.isEmpty && !diagnostics.hasErrors {
      diagnostics.error("no rule packs (*.yaml) in '\(directory)'", at: nil)
    }
    let result = compile(sources: sources)
    return Result(
      ruleSet: diagnostics.hasErrors ? nil : result.ruleSet, diagnostics: diagnostics.items + result.diagnostics,
      definitions: result.definitions, rejectedIDs: result.rejectedIDs)
  }

  /// Compiles packs given as text, each with the path its diagnostics should name.
  public static func compile(sources: [(path: String, text: String)]) -> Result {
    var diagnostics = DiagnosticList()
    var definitions: [RuleDefinition] = []
    var rejectedIDs: [String] = []
    let context = CompileContext()
    for (path, text) in sources {
      let pack = PackParser.parse(SourceText(path: path, text: text), text: text, context: context, diagnostics: &diagnostics)
      definitions += pack.rules
      rejectedIDs += pack.rejectedIDs
    }
    diagnostics.append(contentsOf: context.diagnostics.items)
    let linked = link(definitions, rejectedIDs: Set(rejectedIDs), diagnostics: &diagnostics)
    return Result(
      ruleSet: diagnostics.hasErrors ? nil : linked, diagnostics: diagnostics.items, definitions: definitions,
      rejectedIDs: rejectedIDs)
  }

  /// Checks ids and references across all packs and orders the rules.
  static func link(
    _ definitions: [RuleDefinition], rejectedIDs: Set<String>, diagnostics: inout DiagnosticList
  ) -> RuleSet? {
    var byID: [String: RuleDefinition] = [:]
    var unique: [RuleDefinition] = []
    for rule in definitions {
      if let first = byID[rule.id] {
        diagnostics.error("duplicate rule id '\(rule.id)' (first defined at \(first.idMark))", at: rule.idMark)
        continue
      }
      byID[rule.id] = rule
      unique.append(rule)
    }
    let allIDs = unique.map(\.id) + rejectedIDs.sorted()
    for rule in unique {
      for reference in rule.allReferences {
        guard let target = byID[reference.id] else {
          // A rule rejected above was already reported; do not report each use of it again.
          if rejectedIDs.contains(reference.id) { continue }
          diagnostics.error(
            "unknown rule '\(reference.id)' in '\(rule.id)'\(Suggestions.hint(for: reference.id, in: allIDs))",
            at: reference.mark)
          continue
        }
        if reference.id == rule.id {
          diagnostics.error("rule '\(rule.id)' refers to itself", at: reference.mark)
        } else if target.status == .disabled && rule.status != .disabled {
          diagnostics.error(
            "rule '\(rule.id)' uses disabled rule '\(target.id)'; enable it or disable this rule too", at: reference.mark)
        } else if target.status == .shadow && rule.status == .stable {
          diagnostics.warning(
            "stable rule '\(rule.id)' uses shadow rule '\(target.id)', so the shadow rule moves decisions through it",
            at: reference.mark)
        }
      }
    }
    if diagnostics.hasErrors { return nil }

    let active = unique.filter { $0.status != .disabled }
    guard let order = DependencyOrder.order(active, diagnostics: &diagnostics) else { return nil }
    return RuleSet(rules: active, evaluationOrder: order)
  }
}
