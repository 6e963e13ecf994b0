/// Checks shared by every YAML file Discern reads (rule packs, lexicons): unknown keys with a
/// did-you-mean, and closed sets of values.
enum NodeChecks {
  /// Reports keys outside `allowed` with a did-you-mean, and returns the keys they were probably
  /// meant to be (so a "missing key" error does not repeat the same mistake).
  @discardableResult
  static func reportUnknownKeys(
    in pairs: [YAMLPair], allowed: [String], context: String, diagnostics: inout DiagnosticList
  ) -> Set<String> {
    var meant: Set<String> = []
    for pair in pairs {
      let key = pair.key.scalar ?? ""
      guard !allowed.contains(key) else { continue }
      let suggestion = Suggestions.nearest(to: key, in: allowed)
      if let suggestion { meant.insert(suggestion) }
      let hint = suggestion.map { "; did you mean '\($0)'?" } ?? " (expected one of: \(allowed.joined(separator: ", ")))"
      diagnostics.error("unknown key '\(key)' \(context)\(hint)", at: pair.key.mark)
    }
    return meant
  }

  static func parseEnum<T: RawRepresentable & CaseIterable>(
    _ node: YAMLNode?, key: String, as: T.Type, diagnostics: inout DiagnosticList, ok: inout Bool
  ) -> T? where T.RawValue == String {
    guard let node else { return nil }
    let names = T.allCases.map(\.rawValue)
    guard let text = node.scalar, let value = T(rawValue: text) else {
      let found = node.scalar ?? node.kindName
      diagnostics.error(
        "'\(key)' cannot be '\(found)'\(Suggestions.hint(for: found, in: names)) (one of: \(names.joined(separator: ", ")))",
        at: node.mark)
      ok = false
      return nil
    }
    return value
  }

}
