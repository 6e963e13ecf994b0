/// A YAML node that remembers where it came from. Scalars stay strings: the DSL decides what
/// type a value must have, so that it can say so at the value's own line and column.
public struct YAMLNode: Sendable {
  public enum ScalarStyle: Sendable { case plain, singleQuoted, doubleQuoted, literal, folded }

  public enum Content: Sendable {
    case scalar(String, ScalarStyle)
    case sequence([YAMLNode])
    case mapping([YAMLPair])
  }

  public var content: Content
  /// Where the node starts (for a quoted scalar: at its opening quote).
  public var mark: SourceMark

  public var scalar: String? {
    if case .scalar(let value, _) = content { return value }
    return nil
  }

  public var sequence: [YAMLNode]? {
    if case .sequence(let items) = content { return items }
    return nil
  }

  public var mapping: [YAMLPair]? {
    if case .mapping(let pairs) = content { return pairs }
    return nil
  }

  /// The value under a scalar key of a mapping.
  public subscript(key: String) -> YAMLNode? {
    mapping?.first { $0.key.scalar == key }?.value
  }

  /// What the node is, for messages such as "expected a list, found a mapping".
  public var kindName: String {
    switch content {
    case .scalar: "a scalar"
    case .sequence: "a list"
    case .mapping: "a mapping"
    }
  }
}

public struct YAMLPair: Sendable {
  public var key: YAMLNode
  public var value: YAMLNode
}
