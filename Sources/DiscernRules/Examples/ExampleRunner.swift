/// Runs every rule's own examples against the whole rule set, the way SwiftLint runs a rule's
/// triggering and non-triggering examples.
public enum ExampleRunner {
  public struct Failure: Sendable, CustomStringConvertible {
    public enum Problem: Sendable, Equatable {
      /// A `hit` example the rule did not hit.
      case missed
      /// A `miss` example the rule hit.
      case unexpectedHit
      /// A `hit` example hit, but no span matched a marked one.
      case wrongSpan
    }

    public let rule: String
    public let problem: Problem
    public let example: RuleExample
    /// The rule's spans on the example, in scalar offsets.
    public let actualSpans: [Range<Int>]

    public var description: String {
      let header: String
      switch problem {
      case .missed: header = "'\(rule)' should hit this example but did not"
      case .unexpectedHit: header = "'\(rule)' should miss this example but hit it"
      case .wrongSpan: header = "'\(rule)' hit this example with a different span"
      }
      let expected = problem == .unexpectedHit ? "no hit" : ExampleRunner.marked(example.text, example.expectedSpans)
      let actual: String
      if problem == .missed {
        actual = "no hit"
      } else if actualSpans.isEmpty {
        actual = "hit (no span)"
      } else {
        actual = ExampleRunner.marked(example.text, actualSpans)
      }
      return Diagnostic.error(header, at: example.mark).description
        + "\n  expected: \(expected)\n  actual:   \(actual)"
    }
  }

  public struct Report: Sendable {
    public var checked = 0
    public var failures: [Failure] = []
  }

  public static func run(_ ruleSet: RuleSet, only filter: ((RuleDefinition) -> Bool)? = nil) -> Report {
    var report = Report()
    let matcher = PCRE2Matcher()
    for rule in ruleSet.rules where filter?(rule) ?? true {
      for example in rule.examples.hit {
        report.checked += 1
        let evaluation = ruleSet.evaluate(example.text, matcher: matcher)
        let spans = evaluation.evidence(for: rule.id).map { $0.start..<$0.end }
        if !evaluation.hit(rule.id) {
          report.failures.append(Failure(rule: rule.id, problem: .missed, example: example, actualSpans: []))
        } else if !example.expectedSpans.allSatisfy(spans.contains) {
          report.failures.append(Failure(rule: rule.id, problem: .wrongSpan, example: example, actualSpans: spans))
        }
      }
      for example in rule.examples.miss {
        report.checked += 1
        let evaluation = ruleSet.evaluate(example.text, matcher: matcher)
        if evaluation.hit(rule.id) {
          let spans = evaluation.evidence(for: rule.id).map { $0.start..<$0.end }
          report.failures.append(Failure(rule: rule.id, problem: .unexpectedHit, example: example, actualSpans: spans))
        }
      }
    }
    return report
  }

  /// The text with `⟦ ⟧` around each span (spans that overlap an earlier one are skipped).
  public static func marked(_ text: String, _ spans: [Range<Int>]) -> String {
    var out = String.UnicodeScalarView()
    let sorted = spans.sorted { $0.lowerBound < $1.lowerBound }
    var opens: [Int: Int] = [:]
    var closes: Set<Int> = []
    var lastEnd = -1
    for span in sorted where span.lowerBound >= lastEnd {
      opens[span.lowerBound, default: 0] += 1
      closes.insert(span.upperBound)
      lastEnd = span.upperBound
    }
    let scalars = Array(text.unicodeScalars)
    for i in 0...scalars.count {
      if closes.contains(i) { out.append(RuleExample.close) }
      if opens[i] != nil { out.append(RuleExample.open) }
      if i < scalars.count { out.append(scalars[i]) }
    }
    return String(out)
  }
}
