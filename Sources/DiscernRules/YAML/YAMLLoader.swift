import CYAML

/// Loads YAML through libyaml's event parser into `YAMLNode`s that keep file, line and column.
///
/// Two YAML features are tamed on purpose:
/// - Aliases are shared, never copied, and the size a document *would* have if they were expanded
///   is counted as it is read; past `maxExpandedNodes` the file is refused at once (billion laughs).
/// - A key repeated in one mapping is an error, reported at the second occurrence.
/// - Nesting deeper than `maxDepth` is refused where it crosses the limit: a rule pack needs a
///   handful of levels, and a tree 100,000 deep took a minute to build and overflowed the stack
///   when it was freed.
public struct YAMLLoader: Sendable {
  /// The most nodes a document may hold once every alias is counted as a full copy.
  public var maxExpandedNodes: Int
  /// The deepest nesting of sequences and mappings accepted.
  public var maxDepth: Int

  public init(maxExpandedNodes: Int = 100_000, maxDepth: Int = 64) {
    self.maxExpandedNodes = maxExpandedNodes
    self.maxDepth = maxDepth
  }

  /// The first document of `text`, or nil when the text holds none. Syntax errors end the load
  /// (reported with their position); duplicate keys are reported and the first value is kept.
  public func load(_ source: SourceText, text: String, diagnostics: inout DiagnosticList) -> YAMLNode? {
    var parser = yaml_parser_t()
    guard yaml_parser_initialize(&parser) == 1 else {
      diagnostics.error("could not start the YAML parser", at: nil)
      return nil
    }
    defer { yaml_parser_delete(&parser) }

    let bytes = Array(text.utf8)
    return bytes.withUnsafeBufferPointer { buffer -> YAMLNode? in
      yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
      var builder = Builder(source: source, limit: maxExpandedNodes, maxDepth: maxDepth)
      while true {
        var event = yaml_event_t()
        guard yaml_parser_parse(&parser, &event) == 1 else {
          let mark = SourceMark(
            source: source, line: Int(parser.problem_mark.line) + 1,
            column: Int(parser.problem_mark.column) + 1)
          let problem = parser.problem.map { String(cString: $0) } ?? "unknown problem"
          let context = parser.context.map { String(cString: $0) + " " } ?? ""
          diagnostics.error("invalid YAML: \(context)\(problem)", at: mark)
          return nil
        }
        defer { yaml_event_delete(&event) }
        do {
          if try builder.consume(&event) { break }
        } catch let refusal as YAMLRefusal {
          diagnostics.append(refusal.diagnostic)
          return nil
        } catch {
          return nil
        }
      }
      diagnostics.append(contentsOf: builder.duplicateKeys)
      return builder.document
    }
  }
}

/// Why a YAML document was refused.
struct YAMLRefusal: Error {
  let diagnostic: Diagnostic
}

/// Turns the event stream into nodes. Only the first document is kept.
private struct Builder {
  enum Frame {
    case sequence(start: SourceMark, anchor: String?, items: [YAMLNode], size: Int)
    case mapping(start: SourceMark, anchor: String?, pairs: [YAMLPair], pendingKey: YAMLNode?, size: Int)
  }

  let source: SourceText
  let limit: Int
  let maxDepth: Int
  var stack: [Frame] = []
  var anchors: [String: (node: YAMLNode, size: Int)] = [:]
  var document: YAMLNode?
  var documentsSeen = 0
  var expandedSize = 0
  var duplicateKeys: [Diagnostic] = []

  init(source: SourceText, limit: Int, maxDepth: Int) {
    self.source = source
    self.limit = limit
    self.maxDepth = maxDepth
  }

  func mark(_ m: yaml_mark_t) -> SourceMark {
    SourceMark(source: source, line: Int(m.line) + 1, column: Int(m.column) + 1)
  }

  /// Returns true at the end of the stream.
  mutating func consume(_ event: inout yaml_event_t) throws(YAMLRefusal) -> Bool {
    let start = mark(event.start_mark)
    switch event.type {
    case YAML_STREAM_END_EVENT:
      return true
    case YAML_DOCUMENT_START_EVENT:
      documentsSeen += 1
      if documentsSeen > 1 {
        throw YAMLRefusal(diagnostic: .error("a rule file holds one YAML document; remove the second '---'", at: start))
      }
    case YAML_SCALAR_EVENT:
      let scalar = event.data.scalar
      let value = String(decoding: UnsafeBufferPointer(start: scalar.value, count: scalar.length), as: UTF8.self)
      let style: YAMLNode.ScalarStyle =
        switch scalar.style {
        case YAML_SINGLE_QUOTED_SCALAR_STYLE: .singleQuoted
        case YAML_DOUBLE_QUOTED_SCALAR_STYLE: .doubleQuoted
        case YAML_LITERAL_SCALAR_STYLE: .literal
        case YAML_FOLDED_SCALAR_STYLE: .folded
        default: .plain
        }
      try add(YAMLNode(content: .scalar(value, style), mark: start), size: 1, anchor: anchorName(scalar.anchor))
    case YAML_ALIAS_EVENT:
      let name = anchorName(event.data.alias.anchor) ?? ""
      guard let target = anchors[name] else {
        throw YAMLRefusal(diagnostic: .error("unknown alias '*\(name)'", at: start))
      }
      var node = target.node
      node.mark = start
      try add(node, size: target.size, anchor: nil)
    case YAML_SEQUENCE_START_EVENT where stack.count >= maxDepth, YAML_MAPPING_START_EVENT where stack.count >= maxDepth:
      throw YAMLRefusal(
        diagnostic: .error("nesting deeper than \(maxDepth) levels; a rule file needs only a few, so this one is refused", at: start))
    case YAML_SEQUENCE_START_EVENT:
      stack.append(.sequence(start: start, anchor: anchorName(event.data.sequence_start.anchor), items: [], size: 1))
    case YAML_MAPPING_START_EVENT:
      stack.append(
        .mapping(start: start, anchor: anchorName(event.data.mapping_start.anchor), pairs: [], pendingKey: nil, size: 1))
    case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
      switch stack.removeLast() {
      case .sequence(let start, let anchor, let items, let size):
        try add(YAMLNode(content: .sequence(items), mark: start), size: size, anchor: anchor, counted: true)
      case .mapping(let start, let anchor, let pairs, _, let size):
        try add(YAMLNode(content: .mapping(pairs), mark: start), size: size, anchor: anchor, counted: true)
      }
    default:
      break
    }
    return false
  }

  func anchorName(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
    pointer.map { String(cString: $0) }
  }

  /// Adds a finished node to its parent. `size` is the node's expanded size; a collection's own
  /// nodes were counted as they arrived (`counted`), an alias's copy is counted here in full.
  mutating func add(_ node: YAMLNode, size: Int, anchor: String?, counted: Bool = false) throws(YAMLRefusal) {
    if !counted {
      let (total, overflow) = expandedSize.addingReportingOverflow(size)
      if overflow || total > limit {
        throw YAMLRefusal(
          diagnostic: .error(
            "document expands to more than \(limit) nodes through aliases; refusing it (billion laughs?)",
            at: node.mark))
      }
      expandedSize = total
    }
    if let anchor { anchors[anchor] = (node, size) }
    guard let parent = stack.popLast() else {
      if document == nil { document = node }
      return
    }
    switch parent {
    case .sequence(let start, let anchorName, var items, let parentSize):
      items.append(node)
      stack.append(.sequence(start: start, anchor: anchorName, items: items, size: parentSize &+ size))
    case .mapping(let start, let anchorName, var pairs, let pendingKey, let parentSize):
      if let key = pendingKey {
        if let name = key.scalar, let first = pairs.first(where: { $0.key.scalar == name }) {
          duplicateKeys.append(
            .error("duplicate key '\(name)' (first used at line \(first.key.mark.line)); keys must be unique", at: key.mark))
        } else {
          pairs.append(YAMLPair(key: key, value: node))
        }
        stack.append(.mapping(start: start, anchor: anchorName, pairs: pairs, pendingKey: nil, size: parentSize &+ size))
      } else {
        stack.append(.mapping(start: start, anchor: anchorName, pairs: pairs, pendingKey: node, size: parentSize &+ size))
      }
    }
  }
}
