/// One rule as written and validated, before it joins a `RuleSet`.
public struct RuleDefinition: Sendable {
  /// `pack.name`, unique across all packs; learned weights are keyed by it.
  public let id: String
  public let pack: String
  public let kind: any RuleKind
  public let description: String
  /// The span type its hits carry, if it marks any.
  public let marks: SpanType?
  public let status: RuleStatus
  /// Rules whose hit in the same sentence cancels this rule's span.
  public let unless: [RuleReference]
  /// Weights staff pinned per label (`weight:`); training keeps them instead of learning them.
  public let pinnedWeights: [String: Double]
  public let examples: RuleExamples
  /// The rule's whole YAML mapping (shown by tools that print a rule).
  public let node: YAMLNode
  /// Where the id was written.
  public let idMark: SourceMark

  /// Every rule this one reads: its kind's references, then `unless`.
  public var allReferences: [RuleReference] { kind.references + unless }
}
