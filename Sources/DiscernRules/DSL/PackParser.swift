/// Reads one rule pack file into rule definitions, reporting every problem it can find in one pass.
public enum PackParser {
  static let packKeys = ["pack", "description", "rules"]
  static let commonRuleKeys = ["id", "kind", "description", "marks", "status", "unless", "weight", "examples"]
  static let exampleKeys = ["hit", "miss"]

  /// What one file holds.
  public struct Pack: Sendable {
    /// Rules that passed validation, in file order.
    public var rules: [RuleDefinition] = []
    /// Ids of rules that were written but rejected (the diagnostics say why). References to
    /// them are not reported again as unknown.
    public var rejectedIDs: [String] = []
  }

  /// The rules of one file. Rules with errors are left out; the diagnostics say why.
  public static func parse(
    _ source: SourceText, text: String, context: CompileContext = CompileContext(), diagnostics: inout DiagnosticList
  ) -> Pack {
    guard let root = YAMLLoader().load(source, text: text, diagnostics: &diagnostics) else {
      if !diagnostics.hasErrors {
        diagnostics.error("empty rule file; expected 'pack:' and 'rules:'", at: SourceMark(source: source, line: 1, column: 1))
      }
      return Pack()
    }
    guard let pairs = root.mapping else {
      diagnostics.error("a rule pack is a mapping with 'pack:' and 'rules:', found \(root.kindName)", at: root.mark)
      return Pack()
    }
    NodeChecks.reportUnknownKeys(in: pairs, allowed: packKeys, context: "in the pack", diagnostics: &diagnostics)

    guard let packNode = root["pack"] else {
      diagnostics.error("the pack needs a name: add 'pack: NAME' at the top", at: root.mark)
      return Pack()
    }
    guard let pack = packNode.scalar, isName(pack) else {
      diagnostics.error(
        "pack name must be lowercase letters, digits and '-', found '\(packNode.scalar ?? packNode.kindName)'",
        at: packNode.mark)
      return Pack()
    }
    guard let rulesNode = root["rules"] else {
      diagnostics.error("pack '\(pack)' has no 'rules:' list", at: root.mark)
      return Pack()
    }
    guard let items = rulesNode.sequence else {
      diagnostics.error("'rules' must be a list of rules, found \(rulesNode.kindName)", at: rulesNode.mark)
      return Pack()
    }
    var result = Pack()
    for item in items {
      if let rule = parseRule(item, pack: pack, source: source, context: context, diagnostics: &diagnostics) {
        result.rules.append(rule)
      } else if let id = item["id"]?.scalar {
        result.rejectedIDs.append(id)
      }
    }
    return result
  }

  static func parseRule(
    _ node: YAMLNode, pack: String, source: SourceText, context: CompileContext, diagnostics: inout DiagnosticList
  ) -> RuleDefinition? {
    guard let pairs = node.mapping else {
      diagnostics.error("each rule is a mapping with 'id:' and 'kind:', found \(node.kindName)", at: node.mark)
      return nil
    }
    guard let idNode = node["id"] else {
      diagnostics.error("rule has no 'id'; add 'id: \(pack).NAME'", at: node.mark)
      return nil
    }
    guard let id = idNode.scalar else {
      diagnostics.error("'id' must be a string, found \(idNode.kindName)", at: idNode.mark)
      return nil
    }
    var ok = true
    let prefix = pack + "."
    if !id.hasPrefix(prefix) || !isName(String(id.dropFirst(prefix.count))) {
      diagnostics.error(
        "rule id '\(id)' must be '\(prefix)NAME', with NAME in lowercase letters, digits and '-'", at: idNode.mark)
      ok = false
    }

    // The kind decides which keys are valid; read it before judging the others.
    let kindType: (any RuleKind.Type)?
    if let kindNode = node["kind"] {
      let name = kindNode.scalar ?? ""
      kindType = RuleKinds.named(name)
      if kindType == nil {
        diagnostics.error(
          "unknown rule kind '\(name)'\(Suggestions.hint(for: name, in: RuleKinds.names)) "
            + "(kinds: \(RuleKinds.names.joined(separator: ", ")))", at: kindNode.mark)
      }
    } else {
      diagnostics.error("rule '\(id)' has no 'kind'; one of: \(RuleKinds.names.joined(separator: ", "))", at: node.mark)
      kindType = nil
    }
    let allowed = commonRuleKeys + (kindType?.keys ?? RuleKinds.all.flatMap { $0.keys })
    let misspelt = NodeChecks.reportUnknownKeys(in: pairs, allowed: allowed, context: "in rule '\(id)'", diagnostics: &diagnostics)

    let description = node["description"]?.scalar ?? ""
    if node["description"] == nil {
      diagnostics.error("rule '\(id)' has no 'description'; say in one line what it catches", at: idNode.mark)
      ok = false
    }
    let marks = NodeChecks.parseEnum(node["marks"], key: "marks", as: SpanType.self, diagnostics: &diagnostics, ok: &ok)
    let status = NodeChecks.parseEnum(node["status"], key: "status", as: RuleStatus.self, diagnostics: &diagnostics, ok: &ok) ?? .stable
    let unless = parseReferences(node["unless"], key: "unless", diagnostics: &diagnostics, ok: &ok)
    let examples = parseExamples(node["examples"], id: id, diagnostics: &diagnostics, ok: &ok)
    let pinned = parsePinnedWeights(node["weight"], id: id, diagnostics: &diagnostics, ok: &ok)

    guard let kindType else { return nil }
    let reader = RuleReader(id: id, node: node, source: source, context: context, misspelt: misspelt)
    let kind = kindType.read(reader)
    diagnostics.append(contentsOf: reader.diagnostics.items)
    guard let kind, ok else { return nil }
    return RuleDefinition(
      id: id, pack: pack, kind: kind, description: description, marks: marks, status: status,
      unless: unless, pinnedWeights: pinned, examples: examples, node: node, idMark: idNode.mark)
  }

  /// `weight: {label: number, …}`: a fixed effect staff set by hand, which training keeps as is.
  static func parsePinnedWeights(
    _ node: YAMLNode?, id: String, diagnostics: inout DiagnosticList, ok: inout Bool
  ) -> [String: Double] {
    guard let node else { return [:] }
    guard let pairs = node.mapping else {
      diagnostics.error("'weight' of '\(id)' must map labels to numbers, e.g. {self_harm: -1.5}", at: node.mark)
      ok = false
      return [:]
    }
    var weights: [String: Double] = [:]
    for pair in pairs {
      let label = pair.key.scalar ?? ""
      guard Policy.labelNames.contains(label) else {
        diagnostics.error(
          "unknown label '\(label)' in the weight of '\(id)'\(Suggestions.hint(for: label, in: Policy.labelNames))", at: pair.key.mark)
        ok = false
        continue
      }
      guard let value = pair.value.scalar.flatMap(Double.init), value.isFinite else {
        diagnostics.error("the weight of '\(id)' for '\(label)' must be a number", at: pair.value.mark)
        ok = false
        continue
      }
      weights[label] = value
    }
    return weights
  }

  static func parseReferences(
    _ node: YAMLNode?, key: String, diagnostics: inout DiagnosticList, ok: inout Bool
  ) -> [RuleReference] {
    guard let node else { return [] }
    if let id = node.scalar { return [RuleReference(id: id, mark: node.mark)] }
    guard let items = node.sequence, items.allSatisfy({ $0.scalar != nil }) else {
      diagnostics.error("'\(key)' must be a rule id or a list of rule ids", at: node.mark)
      ok = false
      return []
    }
    return items.map { RuleReference(id: $0.scalar!, mark: $0.mark) }
  }

  static func parseExamples(
    _ node: YAMLNode?, id: String, diagnostics: inout DiagnosticList, ok: inout Bool
  ) -> RuleExamples {
    var examples = RuleExamples()
    guard let node else { return examples }
    guard let pairs = node.mapping else {
      diagnostics.error("'examples' must be a mapping with 'hit:' and 'miss:' lists", at: node.mark)
      ok = false
      return examples
    }
    NodeChecks.reportUnknownKeys(in: pairs, allowed: exampleKeys, context: "in the examples of '\(id)'", diagnostics: &diagnostics)
    for (key, list) in [("hit", node["hit"]), ("miss", node["miss"])] {
      guard let list else { continue }
      let items = list.scalar != nil ? [list] : (list.sequence ?? [])
      if list.scalar == nil && list.sequence == nil {
        diagnostics.error("'\(key)' must be a list of example messages", at: list.mark)
        ok = false
      }
      for item in items {
        guard let text = item.scalar else {
          diagnostics.error("an example is a string, found \(item.kindName)", at: item.mark)
          ok = false
          continue
        }
        do {
          let example = try RuleExample(text, mark: item.mark)
          if key == "hit" { examples.hit.append(example) } else { examples.miss.append(example) }
        } catch {
          diagnostics.error(error.message, at: item.mark(ofValueByteOffset: byteOffset(ofScalar: error.offset, in: text)))
          ok = false
        }
      }
    }
    return examples
  }

  static func byteOffset(ofScalar offset: Int, in text: String) -> Int {
    text.unicodeScalars.prefix(offset).reduce(0) { $0 + UTF8.width($1) }
  }

  /// Lowercase letters, digits and '-', starting with a letter or digit.
  static func isName(_ text: String) -> Bool {
    guard let first = text.unicodeScalars.first, first.isLowerAlnum else { return false }
    return text.unicodeScalars.allSatisfy { $0.isLowerAlnum || $0 == "-" }
  }
}

extension Unicode.Scalar {
  fileprivate var isLowerAlnum: Bool { ("a"..."z").contains(self) || ("0"..."9").contains(self) }
}
