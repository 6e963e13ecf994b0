import Foundation

/// What Discern does about each label: `Rules/policy.yaml`, edited by trust-and-safety staff.
///
///     labels:
///       self_harm:
///         description: …
///         threshold: 0.4          # flagged when the calibrated probability reaches it
///         responses:
///           author: [offer crisis resources]
///           others: [add a trigger warning]
///     tiers:                      # urgency tiers (see Urgency.swift): when, and what a moderator does
///       urgent:
///         description: …
///         moderator: …
///         when: {flagged: [self_harm], cues: {urgency.time: names a time}}
///     scopes:
///       unsupported_language:
///         description: …
///         action: route to a human moderator who reads the language
public struct Policy: Sendable, Equatable {
  public struct Label: Sendable, Equatable {
    public let name: String
    public let description: String
    public let threshold: Double
    /// The moderation response to the message's author, and to everyone else who sees it.
    public let author: [String]
    public let others: [String]
  }

  public static let labelNames = ["self_harm", "harming_others", "harmed_by_others", "reference_to_harm"]

  /// What to do with a message outside what the engine reads (`MessageScope`), whatever its labels say.
  public struct ScopeEntry: Sendable, Equatable {
    public let scope: MessageScope
    public let description: String
    public let action: String
  }

  public let labels: [Label]
  /// The urgency tiers, each once.
  public let tiers: [Tier]
  public var scopes: [ScopeEntry] = []

  public func label(_ name: String) -> Label? { labels.first { $0.name == name } }
  public func action(for scope: MessageScope) -> String? { scopes.first { $0.scope == scope }?.action }

  /// The policy, or every problem with `file:line:col`, the line and a caret.
  public static func load(path: String) -> (policy: Policy?, diagnostics: [Diagnostic]) {
    var diagnostics = DiagnosticList()
    guard let text = SourceFiles.read(path, kind: "policy", diagnostics: &diagnostics),
      let root = YAMLLoader().load(SourceText(path: path, text: text), text: text, diagnostics: &diagnostics)
    else { return (nil, diagnostics.items) }
    guard let top = root.mapping else {
      diagnostics.error("a policy is a mapping with 'labels'", at: root.mark)
      return (nil, diagnostics.items)
    }
    NodeChecks.reportUnknownKeys(in: top, allowed: ["labels", "tiers", "scopes"], context: "in the policy", diagnostics: &diagnostics)
    guard let labelsNode = root["labels"], let pairs = labelsNode.mapping else {
      diagnostics.error("the policy needs 'labels', a mapping from label name to its policy", at: root.mark)
      return (nil, diagnostics.items)
    }
    var labels: [Label] = []
    for pair in pairs {
      let name = pair.key.scalar ?? ""
      guard labelNames.contains(name) else {
        diagnostics.error(
          "unknown label '\(name)'\(Suggestions.hint(for: name, in: labelNames)) (one of: \(labelNames.joined(separator: ", ")))",
          at: pair.key.mark)
        continue
      }
      guard let fields = pair.value.mapping else {
        diagnostics.error("label '\(name)' needs description, threshold and responses", at: pair.value.mark)
        continue
      }
      NodeChecks.reportUnknownKeys(
        in: fields, allowed: ["description", "threshold", "responses"], context: "in label '\(name)'", diagnostics: &diagnostics)
      let description = pair.value["description"]?.scalar ?? ""
      guard let thresholdNode = pair.value["threshold"] else {
        diagnostics.error("label '\(name)' needs a 'threshold' between 0 and 1", at: pair.key.mark)
        continue
      }
      guard let threshold = thresholdNode.scalar.flatMap(Double.init), threshold > 0, threshold < 1 else {
        diagnostics.error("'threshold' of '\(name)' must be a probability between 0 and 1, exclusive", at: thresholdNode.mark)
        continue
      }
      var responses: [String: [String]] = [:]
      if let node = pair.value["responses"] {
        if let pairs = node.mapping {
          NodeChecks.reportUnknownKeys(in: pairs, allowed: ["author", "others"], context: "in the responses of '\(name)'", diagnostics: &diagnostics)
        }
        for audience in ["author", "others"] {
          guard let value = node[audience] else { continue }
          if let one = value.scalar { responses[audience] = [one] } else if let many = value.sequence {
            responses[audience] = many.compactMap(\.scalar)
          }
        }
      }
      labels.append(
        Label(name: name, description: description, threshold: threshold, author: responses["author"] ?? [], others: responses["others"] ?? []))
    }
    for name in labelNames where !labels.contains(where: { $0.name == name }) && !diagnostics.hasErrors {
      diagnostics.error("the policy has no entry for label '\(name)'", at: labelsNode.mark)
    }
    let tiers = parseTiers(root["tiers"], at: root, diagnostics: &diagnostics)
    let scopes = loadScopes(root, diagnostics: &diagnostics)
    return diagnostics.hasErrors ? (nil, diagnostics.items) : (Policy(labels: labels, tiers: tiers, scopes: scopes), diagnostics.items)
  }

  /// `scopes`: one entry, with an action, per scope the engine does not read.
  static func loadScopes(_ root: YAMLNode, diagnostics: inout DiagnosticList) -> [ScopeEntry] {
    let names = MessageScope.outOfScope.map(\.rawValue)
    guard let node = root["scopes"], let pairs = node.mapping else {
      // Like a missing label: said once the rest of the policy is right, so it does not bury a typo.
      guard root["scopes"] != nil || !diagnostics.hasErrors else { return [] }
      diagnostics.error(
        "the policy needs 'scopes', the action for messages Discern cannot read (\(names.joined(separator: ", "))), e.g. 'action: route to a human moderator'",
        at: root["scopes"]?.mark ?? root.mark)
      return []
    }
    var entries: [ScopeEntry] = []
    for pair in pairs {
      let name = pair.key.scalar ?? ""
      guard let scope = MessageScope(rawValue: name), scope != .supported else {
        let why = name == MessageScope.supported.rawValue ? "'supported' needs no action: the labels decide" : "unknown scope '\(name)'\(Suggestions.hint(for: name, in: names))"
        diagnostics.error("\(why) (one of: \(names.joined(separator: ", ")))", at: pair.key.mark)
        continue
      }
      guard let fields = pair.value.mapping else {
        diagnostics.error("scope '\(name)' needs a description and an action", at: pair.value.mark)
        continue
      }
      NodeChecks.reportUnknownKeys(in: fields, allowed: ["description", "action"], context: "in scope '\(name)'", diagnostics: &diagnostics)
      guard let actionNode = pair.value["action"] else {
        diagnostics.error("scope '\(name)' needs an 'action', what a moderator does with such a message", at: pair.key.mark)
        continue
      }
      guard let action = actionNode.scalar, !action.trimmingCharacters(in: .whitespaces).isEmpty else {
        diagnostics.error("the 'action' of scope '\(name)' must be one line of text, e.g. 'route to a human moderator'", at: actionNode.mark)
        continue
      }
      entries.append(ScopeEntry(scope: scope, description: pair.value["description"]?.scalar ?? "", action: action))
    }
    for scope in MessageScope.outOfScope where !entries.contains(where: { $0.scope == scope }) && !diagnostics.hasErrors {
      diagnostics.error("the policy has no entry for scope '\(scope.rawValue)'", at: node.mark)
    }
    return entries
  }
}
