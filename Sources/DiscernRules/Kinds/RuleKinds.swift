/// The registry of rule kinds: the one list a new kind is added to.
public enum RuleKinds {
  public static let all: [any RuleKind.Type] = [
    PatternRule.self,
    TermsRule.self,
    NearRule.self,
    AllRule.self,
    AnyRule.self,
    NotRule.self,
    EmojiRule.self,
  ]

  public static func named(_ name: String) -> (any RuleKind.Type)? {
    all.first { $0.name == name }
  }

  public static var names: [String] { all.map { $0.name } }
}
