import Discern
import Foundation

/// What a rule or model change would do, for `--baseline-rules` / `--baseline-model`: every message
/// whose decision flips between the baseline and the configuration under review, grouped by the
/// rule (or the encoder) that moved its logit most toward the new decision.
public struct AuditImpact {
  struct Flip {
    let id: String?
    let line: Int
    let label: String
    let before: Double
    let after: Double
    let text: String
    /// Terms whose contribution changed, largest change toward the new decision first.
    let changes: [(feature: String, delta: Double)]
    /// The input's own label for this message, when it carries one.
    let truth: Int?

    /// Against the input's label: the change made the decision right (a fix) or wrong (a regression).
    var verdict: String? { truth.map { ($0 == 1) == (after > before) ? "fix" : "regression" } }
  }

  var flips: [Flip] = []
  var compared = 0

  mutating func add(baseline: Decision, candidate: Decision, id: String?, line: Int, truth: (String) -> Int? = { _ in nil }) {
    compared += 1
    for after in candidate.labels {
      guard let before = baseline.label(after.label), before.flagged != after.flagged else { continue }
      var delta: [String: Double] = [:]
      for term in after.contributions { delta[term.feature, default: 0] += term.contribution }
      for term in before.contributions { delta[term.feature, default: 0] -= term.contribution }
      if after.bias != before.bias { delta["(bias)"] = after.bias - before.bias }
      let direction = after.flagged ? 1.0 : -1.0
      let changes = delta.filter { abs($0.value) > 1e-9 }.map { (feature: $0.key, delta: $0.value) }
        .sorted { $0.delta * direction > $1.delta * direction }
      flips.append(
        Flip(
          id: id, line: line, label: after.label, before: before.probability, after: after.probability, text: String(candidate.text.prefix(200)),
          changes: changes, truth: truth(after.label)))
    }
  }

  /// The rule (or encoder, or bias) most responsible for a flip.
  static func cause(_ flip: Flip) -> String { flip.changes.first?.feature ?? "(threshold or calibration)" }

  public var summary: String {
    let newlyFlagged = flips.filter { $0.after > $0.before }.count
    let judged = flips.filter { $0.verdict != nil }
    let verdicts = judged.isEmpty ? "" : "; against the input's labels \(judged.filter { $0.verdict == "fix" }.count) fixes, \(judged.filter { $0.verdict == "regression" }.count) regressions"
    return "impact: \(flips.count) decisions flip over \(compared) messages (\(newlyFlagged) newly flagged, \(flips.count - newlyFlagged) no longer flagged\(verdicts))"
  }

  /// The flips grouped by the rule (or the encoder) that caused them, the largest group first.
  var flipsByCause: [(key: String, value: [Flip])] {
    Dictionary(grouping: flips, by: Self.cause).sorted { $0.value.count != $1.value.count ? $0.value.count > $1.value.count : $0.key < $1.key }
  }

  public func markdown(baseline: String) -> String {
    var out = "# Impact of the change against \(baseline)\n\n\(summary).\n"
    for (cause, flips) in flipsByCause {
      out += "\n## \(cause) — \(flips.count) flip\(flips.count == 1 ? "" : "s")\n\n| line | id | label | before | after | verdict | change | message |\n|---|---|---|---|---|---|---|---|\n"
      for flip in flips.sorted(by: { $0.line < $1.line }) {
        let change = flip.changes.prefix(3).map { String(format: "%@ %+.2f", $0.feature, $0.delta) }.joined(separator: ", ")
        let text = flip.text.replacingOccurrences(of: "\n", with: " ")
        out += String(
          format: "| %d | %@ | %@ | %.2f | %.2f | %@ | %@ | %@ |\n", flip.line, AuditReport.markdownEscaped(flip.id ?? ""), flip.label, flip.before, flip.after,
          flip.verdict ?? "–", change, AuditReport.markdownEscaped(text))
      }
    }
    return out
  }

  /// The same, as a section of the HTML report (`escape` is the report's).
  func html(baseline: String, escape: (String) -> String) -> String {
    var out = "<h2>Impact of the change against \(escape(baseline))</h2>\n<p class=\"note\">\(escape(summary)).</p>\n"
    for (cause, flips) in flipsByCause {
      out += "<h3>\(escape(cause)) — \(flips.count) flip\(flips.count == 1 ? "" : "s")</h3>\n<table><tr><th>line</th><th>id</th><th>label</th><th>before</th><th>after</th><th>verdict</th><th>change</th><th>message</th></tr>\n"
      for flip in flips.sorted(by: { $0.line < $1.line }) {
        let change = flip.changes.prefix(3).map { String(format: "%@ %+.2f", $0.feature, $0.delta) }.joined(separator: ", ")
        out += "<tr><td>\(flip.line)</td><td>\(escape(flip.id ?? ""))</td><td>\(flip.label)</td><td>\(String(format: "%.2f", flip.before))</td>"
          + "<td>\(String(format: "%.2f", flip.after))</td><td>\(flip.verdict ?? "–")</td><td>\(escape(change))</td><td>\(escape(flip.text))</td></tr>\n"
      }
      out += "</table>\n"
    }
    return out
  }
}
