import DiscernRules
import Foundation
import Testing

/// The authored cases in Playground/messages.txt must show the spans a reader expects (`#>` lines).
@Suite struct PlaygroundTests {
  struct Case: CustomStringConvertible, Sendable {
    let message: String
    var expected: [(type: String, texts: [String])] = []
    var absent: [String] = []
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
        if key == "flags" {
          continue  // the engine's test reads these
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
