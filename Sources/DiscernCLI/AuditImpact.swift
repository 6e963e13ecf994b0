import Discern
import Foundation

/// What a rule or model change would do, for `--baseline-rules` / `--baseline-model`: every message
/// whose decision flips between the baseline and the configuration under review, grouped by the
/// rule (or the encoder) that moved its logit most toward the new decision.
struct AuditImpact {
  struct Flip {
    let id: String?
    let line: Int
    let label: String
    let before: Double
    let after: Double
    let text: String
    /// Terms whose contribution changed, largest change toward the new decision first.
    let changes: [(feature: String, delta: Double)]
  }

  var flips: [Flip] = []
  var compared = 0

  mutating func add(baseline: Decision, candidate: Decision, id: String?, line: Int) {
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
        Flip(id: id, line: line, label: after.label, before: before.probability, after: after.probability, text: String(candidate.text.prefix(200)), changes: changes))
    }
  }

  /// The rule (or encoder, or bias) most responsible for a flip.
  static func cause(_ flip: Flip) -> String { flip.changes.first?.feature ?? "(threshold or calibration)" }

  var summary: String {
    let newlyFlagged = flips.filter { $0.after > $0.before }.count
    return "impact: \(flips.count) decisions flip over \(compared) messages (\(newlyFlagged) newly flagged, \(flips.count - newlyFlagged) no longer flagged)"
  }

  func markdown(baseline: String) -> String {
    var out = "# Impact of the change against \(baseline)\n\n\(summary).\n"
    let groups = Dictionary(grouping: flips, by: Self.cause).sorted { $0.value.count != $1.value.count ? $0.value.count > $1.value.count : $0.key < $1.key }
    for (cause, flips) in groups {
      out += "\n## \(cause) — \(flips.count) flip\(flips.count == 1 ? "" : "s")\n\n| line | id | label | before | after | change | message |\n|---|---|---|---|---|---|---|\n"
      for flip in flips.sorted(by: { $0.line < $1.line }) {
        let change = flip.changes.prefix(3).map { String(format: "%@ %+.2f", $0.feature, $0.delta) }.joined(separator: ", ")
        let text = flip.text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
        out += String(format: "| %d | %@ | %@ | %.2f | %.2f | %@ | %@ |\n", flip.line, flip.id ?? "", flip.label, flip.before, flip.after, change, text)
      }
    }
    return out
  }
}
