import DiscernRules
import Foundation
import Testing

/// The authored cases in Playground/messages.txt must show the spans a reader expects (`#>` lines).
@Suite struct PlaygroundTests {
  struct Case: CustomStringConvertible, Sendable {
    let message: String
    var expected: [(type: String, texts: [String])] = []
    var absent: [String] = []
    /// `#> flags:`, `#> tier:` and `#> cues:`, where the case has them.
    var flags: [String]? = nil
    var tier: String? = nil
    var cues: [String]? = nil
    var description: String { message }
  }

  static let cases: [Case] = {
    guard let text = try? String(contentsOfFile: repositoryRoot + "/Playground/messages.txt", encoding: .utf8) else {
      return []
    }
    var cases: [Case] = []
    for line in text.split(separator: "\n").map(String.init) {
      if line.hasPrefix("#>"), !cases.isEmpty {
        let body = line.dropFirst(2).trimmingCharacters(in: .whitespaces)
        guard let colon = body.firstIndex(of: ":") else { continue }
        let key = String(body[..<colon])
        let values = body[body.index(after: colon)...]
        let list = { (separator: Character) in values.split(separator: separator).map { $0.trimmingCharacters(in: .whitespaces) } }
        if key == "flags" {
          // The engine's test holds the model to these; the tier test below starts from them.
          cases[cases.count - 1].flags = list(",") == ["nothing"] ? [] : list(",")
        } else if key == "tier" {
          cases[cases.count - 1].tier = values.trimmingCharacters(in: .whitespaces)
        } else if key == "cues" {
          cases[cases.count - 1].cues = list("|")
        } else if key == "none" {
          cases[cases.count - 1].absent += values.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        } else {
          let texts = values.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
          cases[cases.count - 1].expected.append((key, texts))
        }
      } else if !line.isEmpty, line != "#", !line.hasPrefix("# ") {
        cases.append(Case(message: line))
      }
    }
    return cases
  }()

  static let ruleSet = RuleCompiler.compile(directory: repositoryRoot + "/Rules").ruleSet

  static let policy = Policy.load(path: repositoryRoot + "/Rules/policy.yaml").policy

  /// The tier the policy's tiers choose from the labels the label guide flags (`#> flags:`) and the
  /// cues the rules find: the choice staff can check without the model.
  @Test(arguments: cases.filter { $0.tier != nil || $0.cues != nil })
  func takesTheExpectedUrgencyTier(_ playgroundCase: Case) throws {
    let (ruleSet, policy) = (try #require(Self.ruleSet), try #require(Self.policy))
    let stable = Set(ruleSet.rules.filter { $0.status == .stable }.map(\.id))
    let evidence = ruleSet.evaluate(playgroundCase.message).evidence.filter { stable.contains($0.rule) }
    let cueRules = Set(policy.tiers.flatMap { $0.when.flatMap(\.cues) }.map(\.rule))
    if let cues = playgroundCase.cues {
      #expect(evidence.filter { cueRules.contains($0.rule) }.map(\.text) == cues)
    }
    if let tier = playgroundCase.tier {
      let flags = try #require(playgroundCase.flags, "a '#> tier:' needs the '#> flags:' it starts from")
      #expect(policy.urgency(flagged: flags, evidence: evidence).tier.rawValue == tier)
    }
  }

  @Test func thePlaygroundShowsEveryUrgencyTierButResources() {
    #expect(Set(Self.cases.compactMap(\.tier)).isSuperset(of: ["urgent", "review", "none"]))
  }

  @Test func thePlaygroundCoversEveryKindOfMessage() {
    #expect(Self.cases.count >= 15)
    let types = Set(Self.cases.flatMap { $0.expected.map(\.type) })
    #expect(types.isSuperset(of: ["casual_mention", "serious_intent", "recovery", "past", "negation",
                                  "toward_others", "by_others", "between_others"]))
  }

  @Test(arguments: cases)
  func showsTheExpectedSpans(_ playgroundCase: Case) throws {
    let ruleSet = try #require(Self.ruleSet)
    let evidence = ruleSet.evaluate(playgroundCase.message).evidence
    for (type, texts) in playgroundCase.expected {
      let found = Set(evidence.filter { $0.type?.rawValue == type }.map(\.text))
      for text in texts {
        #expect(found.contains(text), "no \(type) span '\(text)'; \(type) spans: \(found.sorted())")
      }
    }
    for type in playgroundCase.absent {
      let found = evidence.filter { $0.type?.rawValue == type }.map { "\($0.rule): '\($0.text)'" }
      #expect(found.isEmpty, "unexpected \(type) spans: \(found)")
    }
  }
}
