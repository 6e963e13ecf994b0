/// Reads one rule's YAML mapping for a rule kind, reporting every problem at the node that has it.
/// It records which keys were read, so the pack parser can flag the rest as unknown.
public final class RuleReader {
  public let id: String
  public let node: YAMLNode
  private(set) var diagnostics = DiagnosticList()
  /// The file the rule is in (paths in it are relative to it).
  public let source: SourceText
  /// Shared resources of this compile, such as lexicons.
  public let context: CompileContext
  /// Keys an unknown key probably meant; a missing one of these was already reported.
  let misspelt: Set<String>

  init(id: String, node: YAMLNode, source: SourceText, context: CompileContext, misspelt: Set<String> = []) {
    self.id = id
    self.node = node
    self.source = source
    self.context = context
    self.misspelt = misspelt
  }

  private func reportMissing(_ key: String) {
    if !misspelt.contains(key) { error("rule '\(id)' needs '\(key)'", at: node.mark) }
  }

  public func error(_ message: String, at mark: SourceMark) { diagnostics.error(message, at: mark) }
  public func warning(_ message: String, at mark: SourceMark) { diagnostics.warning(message, at: mark) }

  /// The raw value of a key.
  public func value(_ key: String) -> YAMLNode? { node[key] }

  /// A required key's scalar; reports a missing key at the rule and a wrong shape at the value.
  public func string(_ key: String, required: Bool = true) -> (value: String, node: YAMLNode)? {
    guard let value = node[key] else {
      if required { reportMissing(key) }
      return nil
    }
    guard let text = value.scalar else {
      error("'\(key)' must be a string, found \(value.kindName)", at: value.mark)
      return nil
    }
    return (text, value)
  }

  /// A list of strings (a single string is taken as a one-item list).
  public func strings(_ key: String, required: Bool = true) -> [(value: String, node: YAMLNode)]? {
    guard let value = node[key] else {
      if required { reportMissing(key) }
      return nil
    }
    if let text = value.scalar { return [(text, value)] }
    guard let items = value.sequence else {
      error("'\(key)' must be a list of strings, found \(value.kindName)", at: value.mark)
      return nil
    }
    var result: [(String, YAMLNode)] = []
    for item in items {
      guard let text = item.scalar else {
        error("'\(key)' must be a list of strings, found \(item.kindName) in it", at: item.mark)
        return nil
      }
      result.append((text, item))
    }
    return result
  }

  /// An integer within bounds, or `defaultValue` when the key is absent.
  public func integer(_ key: String, default defaultValue: Int, in bounds: ClosedRange<Int>) -> Int? {
    guard let value = node[key] else { return defaultValue }
    guard let text = value.scalar, let number = Int(text) else {
      error("'\(key)' must be a whole number", at: value.mark)
      return nil
    }
    guard bounds.contains(number) else {
      error("'\(key)' must be between \(bounds.lowerBound) and \(bounds.upperBound), found \(number)", at: value.mark)
      return nil
    }
    return number
  }

  /// A number (`2`, `1.5`), or `defaultValue` when the key is absent.
  public func number(_ key: String, default defaultValue: Double) -> Double? {
    guard let value = node[key] else { return defaultValue }
    guard let text = value.scalar, let number = Double(text), number.isFinite else {
      error("'\(key)' must be a number", at: value.mark)
      return nil
    }
    return number
  }

  /// `true` or `false`, or `defaultValue` when the key is absent.
  public func boolean(_ key: String, default defaultValue: Bool) -> Bool? {
    guard let value = node[key] else { return defaultValue }
    switch value.scalar?.lowercased() {
    case "true", "yes": return true
    case "false", "no": return false
    default:
      error("'\(key)' must be true or false", at: value.mark)
      return nil
    }
  }

  /// Rule ids, as references to resolve once every pack is read.
  public func references(_ key: String, count: ClosedRange<Int>) -> [RuleReference]? {
    guard let items = strings(key) else { return nil }
    guard count.contains(items.count) else {
      let wanted = count.lowerBound == count.upperBound ? "exactly \(count.lowerBound)" : "at least \(count.lowerBound)"
      error("'\(key)' must name \(wanted) rule ids, found \(items.count)", at: node[key]?.mark ?? node.mark)
      return nil
    }
    return items.map { RuleReference(id: $0.value, mark: $0.node.mark) }
  }
}
