import Discern
import DiscernModel
import DiscernRules
import Foundation

/// What an audit learns across its records, for `--report`: counts per label and action, the
/// probability histogram, and — where records carry labels — metrics, confusion matrices, the
/// reliability diagram, the most confident mistakes, per-rule hit frequencies and precision
/// (SpamAssassin's hit-frequencies), and what each shadow rule would have changed.
///
/// Memory grows with the records only by one probability (and label) per record and label; the
/// examples kept are the ten most confident mistakes per label.
public struct AuditReport {
  let engine: Engine
  let variant: Engine.Variant
  let labels: [String]
  let shadowRules: [RuleDefinition]
  var decided = 0
  var errors = 0
  var flagged: [String: Int] = [:]
  var actions: [String: Int] = [:]
  /// Per label, 20 bins of calibrated probability.
  var histogram: [String: [Int]] = [:]
  /// Per label, (probability, truth) for the records that carry the label.
  var scored: [String: (probabilities: [Double], truth: [Int])] = [:]
  var falsePositives: [String: [Example]] = [:]
  var falseNegatives: [String: [Example]] = [:]
  /// Per rule: messages it fired on, and per label the labelled ones and the positives among them.
  var ruleHits: [String: Int] = [:]
  /// Per rule and limit, the messages a PCRE2 limit stopped it on (its evidence there may be partial).
  var limitStops: [String: [PCRE2Limit: Int]] = [:]
  /// Messages decided on their core, padding set aside.
  var padded = 0
  /// Messages outside what the engine reads, per scope, and the first `outOfScopeListed` of them.
  var outOfScope: [MessageScope: Int] = [:]
  var outOfScopeExamples: [(line: Int, id: String?, scope: ScopeReading, text: String)] = []
  static let outOfScopeListed = 100
  var ruleLabelled: [String: [String: (count: Int, positive: Int)]] = [:]
  /// Decisions per urgency tier, and the first `tierListLimit` of each tier but `none` (input order).
  var tierCounts: [UrgencyTier: Int] = [:]
  var tierLists: [UrgencyTier: [TierEntry]] = [:]
  static let tierListLimit = 100
  /// Per shadow rule and label: decisions its weight (pinned, or a what-if ±1) would have flipped.
  var shadowFlips: [String: [String: (up: Int, down: Int)]] = [:]

  struct Example {
    let id: String?
    let line: Int
    let probability: Double
    let text: String
    /// The decision and the label it is listed under: its rationale is written for that label when
    /// the report is (only the ten kept per list need one).
    let decision: Decision
    let label: String
    let top: String
  }

  /// A message in the report's list by urgency.
  struct TierEntry {
    let id: String?
    let line: Int
    let reasons: String
    let text: String
  }

  init(engine: Engine, variant: Engine.Variant) {
    self.engine = engine
    self.variant = variant
    labels = engine.heads.labels
    shadowRules = engine.ruleSet.rules.filter { $0.status == .shadow }
    for label in labels { histogram[label] = Array(repeating: 0, count: 20) }
  }

  mutating func addError() { errors += 1 }

  /// The record's label for `label`: a `labels` object ({"self_harm": 1, …}, as in the corpus) or a
  /// column named after the label ("1"/"0", "true"/"false"); nil when absent or null.
  static func truth(_ metadata: [String: Any], _ label: String) -> Int? {
    let value = (metadata["labels"] as? [String: Any])?[label] ?? metadata[label]
    switch value {
    case let number as NSNumber: return number.intValue == 0 ? 0 : 1
    case let string as String:
      switch string.lowercased().trimmingCharacters(in: .whitespaces) {
      case "1", "true", "yes": return 1
      case "0", "false", "no": return 0
      default: return nil
      }
    default: return nil
    }
  }

  mutating func add(_ decision: Decision, id: String?, line: Int, metadata: [String: Any]) {
    decided += 1
    for rule in decision.hits.keys { ruleHits[rule, default: 0] += 1 }
    for event in decision.limits { limitStops[event.rule, default: [:]][event.limit, default: 0] += 1 }
    if !decision.padding.isEmpty { padded += 1 }
    let tier = decision.urgency.tier
    tierCounts[tier, default: 0] += 1
    if tier != .none, tierLists[tier, default: []].count < Self.tierListLimit {
      tierLists[tier, default: []].append(TierEntry(
          id: id, line: line, reasons: decision.urgency.reasons,
          // One table row per message: its line breaks would end the Markdown row.
          text: String(decision.text.prefix(280)).replacingOccurrences(of: "\r\n", with: " ").replacingOccurrences(of: "\n", with: " ")
            .replacingOccurrences(of: "\r", with: " ")))
    }
    if decision.scope.scope != .supported {
      outOfScope[decision.scope.scope, default: 0] += 1
      if outOfScopeExamples.count < Self.outOfScopeListed { outOfScopeExamples.append((line, id, decision.scope, decision.text)) }
    }
    for label in decision.labels {
      let name = label.label
      histogram[name]![min(19, Int(label.probability * 20))] += 1
      if label.flagged {
        flagged[name, default: 0] += 1
        for action in label.actions.author { actions["\(name) → author: \(action)", default: 0] += 1 }
        for action in label.actions.others { actions["\(name) → others: \(action)", default: 0] += 1 }
      }
      shadowWhatIf(decision, label)
      guard let truth = Self.truth(metadata, name) else { continue }
      scored[name, default: ([], [])].probabilities.append(label.probability)
      scored[name, default: ([], [])].truth.append(truth)
      for rule in decision.hits.keys {
        var entry = ruleLabelled[rule, default: [:]][name, default: (0, 0)]
        entry.count += 1
        entry.positive += truth
        ruleLabelled[rule, default: [:]][name] = entry
      }
      if label.flagged != (truth == 1) {
        let example = Example(
          id: id, line: line, probability: label.probability, text: String(decision.text.prefix(280)),
          decision: decision, label: name,
          top: label.contributions.prefix(3).map { String(format: "%@ %+.2f", $0.feature, $0.contribution) }.joined(separator: ", "))
        if label.flagged {
          falsePositives[name, default: []].append(example)
          falsePositives[name] = Array(falsePositives[name]!.sorted { $0.probability > $1.probability }.prefix(10))
        } else {
          falseNegatives[name, default: []].append(example)
          falseNegatives[name] = Array(falseNegatives[name]!.sorted { $0.probability < $1.probability }.prefix(10))
        }
      }
    }
  }

  /// For each shadow rule that fired: would its weight have flipped this decision?
  mutating func shadowWhatIf(_ decision: Decision, _ label: LabelDecision) {
    guard let calibration = engine.model.labels[label.label]?.calibration[variant.rawValue] else { return }
    for rule in shadowRules {
      guard let value = decision.hits[rule.id] else { continue }
      let weights: [Double] = rule.pinnedWeights[label.label].map { [$0] } ?? [1, -1]
      var entry = shadowFlips[rule.id, default: [:]][label.label, default: (0, 0)]
      for weight in weights {
        let flagged = calibration.probability(label.logit + weight * value) >= label.threshold
        if flagged && !label.flagged { entry.up += 1 }
        if !flagged && label.flagged { entry.down += 1 }
      }
      shadowFlips[rule.id, default: [:]][label.label] = entry
    }
  }

  // MARK: - Writing

  /// report.md and report.html; with an impact diff, the HTML carries it too (impact.md is written beside).
  public func write(to folder: String, input: String, impact: (AuditImpact, baseline: String)? = nil) throws {
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    try markdown(input: input).write(toFile: folder + "/report.md", atomically: true, encoding: .utf8)
    try html(input: input, impact: impact).write(toFile: folder + "/report.html", atomically: true, encoding: .utf8)
  }

  func percent(_ part: Int, _ whole: Int) -> String { whole == 0 ? "–" : String(format: "%.1f%%", 100 * Double(part) / Double(whole)) }

  /// The report's sections as (title, markdown table or text) pairs; the HTML renders the same.
  func sections() -> [(title: String, body: [[String]], note: String?)] {
    var out: [(String, [[String]], String?)] = []
    out.append((
      "Records", [["records", "decided", "errors", "decided with"], ["\(decided + errors)", "\(decided)", "\(errors)", variant == .fused ? "rules + encoder (fused)" : "rules only"]], nil))
    out.append((
      "Flagged per label",
      [["label", "flagged", "share", "threshold"]]
        + labels.map { [$0, "\(flagged[$0] ?? 0)", percent(flagged[$0] ?? 0, decided), String(format: "%.2f", engine.policy.label($0)?.threshold ?? 0.5)] }, nil))
    out.append((
      "Urgency tiers",
      [["tier", "messages", "share", "what a moderator does"]]
        + UrgencyTier.allCases.map { [$0.rawValue, "\(tierCounts[$0] ?? 0)", percent(tierCounts[$0] ?? 0, decided), engine.policy.tier($0)?.moderator ?? ""] },
      "Chosen by the policy's tiers (Rules/policy.yaml) from the flagged labels and the urgency cues; `discern audit --tier urgent` writes those records alone."))
    let listed = UrgencyTier.allCases.filter { $0 != .none }
    out.append((
      "Messages by urgency, most urgent first",
      [["tier", "line", "id", "why", "message"]]
        + listed.flatMap { tier in (tierLists[tier] ?? []).map { [tier.rawValue, "\($0.line)", $0.id ?? "", $0.reasons, $0.text] } },
      listed.allSatisfy { (tierCounts[$0] ?? 0) == 0 }
        ? "No message took a tier above none."
        : "Each tier's first \(Self.tierListLimit) messages in the input's order"
          + (listed.contains { (tierCounts[$0] ?? 0) > Self.tierListLimit } ? " (more were left out: `discern audit --tier TIER` writes every record of a tier)" : "") + "."))
    out.append(outOfScopeSection())
    out.append(("Actions prompted", [["action", "messages"]] + actions.sorted { $0.key < $1.key }.map { [$0.key, "\($0.value)"] }, actions.isEmpty ? "No message was flagged." : nil))
    let labelled = labels.filter { (scored[$0]?.truth.count ?? 0) > 0 }
    if !labelled.isEmpty {
      var rows = [["label", "labelled", "positive", "precision", "recall", "F1", "AUROC", "ECE", "ECE by chance (95%)", "TP", "FP", "FN", "TN"]]
      for label in labelled {
        let (p, y) = scored[label]!
        let threshold = engine.policy.label(label)?.threshold ?? 0.5
        let m = LabelMetrics(probabilities: p, truth: y, threshold: threshold)
        var tp = 0, fp = 0, fn = 0, tn = 0
        for (probability, truth) in zip(p, y) {
          switch (probability >= threshold, truth == 1) {
          case (true, true): tp += 1
          case (true, false): fp += 1
          case (false, true): fn += 1
          case (false, false): tn += 1
          }
        }
        let chance = ChanceCalibration(probabilities: p, observedECE: m.ece)
        rows.append(
          [label, "\(y.count)", "\(m.positives)"] + [m.precision, m.recall, m.f1, m.auroc, m.ece, chance.upper95].map { String(format: "%.3f", $0) }
            + ["\(tp)", "\(fp)", "\(fn)", "\(tn)"])
      }
      out.append((
        "Accuracy against the input's labels (confusion matrix at the policy threshold)", rows,
        "ECE by chance: 95% of the time, a model whose probabilities are exactly right scores at most this ECE on as many rows; an ECE below it is no evidence of miscalibration."))
    }
    var ruleRows = [["rule", "status", "hits", "of messages"] + labelled.map { "precision (\($0))" }]
    let statuses = Dictionary(uniqueKeysWithValues: engine.ruleSet.rules.map { ($0.id, $0.status.rawValue) })
    for (rule, hits) in ruleHits.sorted(by: { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }) {
      ruleRows.append(
        [rule, statuses[rule] ?? "?", "\(hits)", percent(hits, decided)]
          + labelled.map { label in
            guard let entry = ruleLabelled[rule]?[label], entry.count > 0 else { return "–" }
            return String(format: "%.2f (%d)", Double(entry.positive) / Double(entry.count), entry.count)
          })
    }
    out.append((
      "Rules stopped by a matching limit",
      [["rule", "limit", "messages"]]
        + limitStops.sorted { $0.key < $1.key }.flatMap { rule, limits in
          limits.sorted { $0.key.rawValue < $1.key.rawValue }.map { [rule, $0.key.rawValue, "\($0.value)"] }
        },
      limitStops.isEmpty
        ? "No rule hit a matching limit."
        : "On these messages the rule kept what it found before the limit and read no further: read them yourself (their records name the rule under 'limits')."))
    out.append((
      "Padding set aside", [["messages decided without their padding", "share"], ["\(padded)", percent(padded, decided)]],
      "Repeated emoji, punctuation, words or phrases (four or more in a row), zero-width characters and long whitespace runs are set aside before deciding; each record's 'padding' says where."))
    out.append(("Rule hit frequencies", ruleRows, ruleHits.isEmpty ? "No rule fired." : "Precision: the share of labelled messages the rule fired on that carry the label (how many labelled)."))
    var shadowRows = [["shadow rule", "hits", "label", "weight", "would flag", "would unflag"]]
    for rule in shadowRules {
      let hits = ruleHits[rule.id] ?? 0
      for label in labels {
        let entry = shadowFlips[rule.id]?[label] ?? (0, 0)
        let weight = rule.pinnedWeights[label].map { String(format: "%+.2f (pinned)", $0) } ?? "±1 (what-if)"
        shadowRows.append([rule.id, "\(hits)", label, weight, "\(entry.up)", "\(entry.down)"])
      }
    }
    out.append((
      "Shadow rules", shadowRows,
      shadowRules.isEmpty
        ? "No shadow rules." : "Decisions each shadow rule would have changed had it counted: with its pinned weight, or else with a weight of +1 (would flag) and −1 (would unflag)."))
    return out
  }

  /// How many messages the engine could not read, with the policy's action, and which: their
  /// labels were computed but are unreliable, so they are counted and listed, never left as unflagged.
  func outOfScopeSection() -> (title: String, body: [[String]], note: String?) {
    let total = outOfScope.values.reduce(0, +)
    let counts = MessageScope.outOfScope.filter { outOfScope[$0] != nil }.map { scope in
      "\(outOfScope[scope]!) \(scope.rawValue) (\(engine.policy.action(for: scope) ?? "no action in the policy"))"
    }
    let note =
      total == 0
      ? "Every message was in a language Discern reads."
      : "\(total) of \(decided) messages (\(percent(total, decided))) are outside what Discern reads: \(counts.joined(separator: "; ")). Their labels are unreliable."
        + (total > outOfScopeExamples.count ? " The first \(outOfScopeExamples.count) are listed." : "")
    let rows = outOfScopeExamples.map { example in
      ["\(example.line)", example.id ?? "", example.scope.scope.rawValue, example.scope.language, example.scope.action ?? "", example.text]
    }
    return ("Outside what Discern reads", [["line", "id", "scope", "language", "action", "text"]] + rows, note)
  }

  func examples(_ label: String) -> [(title: String, examples: [Example])] {
    [("Most confident false positives — \(label)", falsePositives[label] ?? []), ("Most confident false negatives — \(label)", falseNegatives[label] ?? [])]
  }

  /// Text from messages, ids and paths as Markdown shows it literally: most renderers pass raw HTML
  /// through, so a message holding `<script>` or `<img onerror=…>` would run in the viewer.
  static func markdownEscaped(_ s: String) -> String {
    s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
      .replacingOccurrences(of: "|", with: "\\|")
  }

  func markdown(input: String) -> String {
    let esc = Self.markdownEscaped
    var out = "# Discern audit of \(esc(input))\n\nDiscern supports human moderators; it is not a clinical instrument.\n"
    for section in sections() {
      out += "\n## \(section.title)\n\n"
      if let note = section.note { out += note + "\n\n" }
      guard section.body.count > 1 else { continue }
      out += "| " + section.body[0].joined(separator: " | ") + " |\n|" + String(repeating: "---|", count: section.body[0].count) + "\n"
      for row in section.body.dropFirst() { out += "| " + row.map(esc).joined(separator: " | ") + " |\n" }
    }
    out += "\n## Probability histograms\n\n"
    for label in labels {
      out += "- \(label): " + (histogram[label] ?? []).enumerated().filter { $0.element > 0 }.map { String(format: "%.2f–%.2f: %d", Double($0.offset) / 20, Double($0.offset + 1) / 20, $0.element) }.joined(separator: ", ") + "\n"
    }
    for label in labels where scored[label] != nil {
      for (title, examples) in self.examples(label) where !examples.isEmpty {
        out += "\n## \(title)\n\n"
        for e in examples {
          out += String(
            format: "- line %d%@, p = %.2f: %@\n  - %@\n  - top contributions: %@\n", e.line, e.id.map { " (id \(esc($0)))" } ?? "", e.probability,
            esc(e.text.debugDescription), esc(engine.rationale(of: e.decision, label: e.label)), esc(e.top))
        }
      }
    }
    return out
  }

  func html(input: String, impact: (AuditImpact, baseline: String)? = nil) -> String {
    func escape(_ s: String) -> String {
      s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
        .replacingOccurrences(of: "\"", with: "&quot;")
    }
    var out = """
      <!doctype html><html><head><meta charset="utf-8"><title>Discern audit of \(escape(input))</title>
      <style>body{font-family:sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse;margin:.5em 0}
      td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px;text-align:left}th{background:#f3f3f3}
      .note{color:#555;font-size:13px}li{margin:.4em 0;font-size:13px}</style></head><body>
      <h1>Discern audit of \(escape(input))</h1>
      <p class="note">Discern supports human moderators; it is not a clinical instrument.</p>

      """
    for section in sections() {
      out += "<h2>\(escape(section.title))</h2>\n"
      if let note = section.note { out += "<p class=\"note\">\(escape(note))</p>\n" }
      guard section.body.count > 1 else { continue }
      out += "<table><tr>" + section.body[0].map { "<th>\(escape($0))</th>" }.joined() + "</tr>\n"
      for row in section.body.dropFirst() { out += "<tr>" + row.map { "<td>\(escape($0))</td>" }.joined() + "</tr>\n" }
      out += "</table>\n"
    }
    out += "<h2>Probability histograms</h2>\n" + histogramSVG()
    let curves = labels.compactMap { label in scored[label].map { (label: label, probabilities: $0.probabilities, truth: $0.truth) } }
      .filter { Set($0.truth).count == 2 }
    if !curves.isEmpty {
      out += "<h2>Reliability and precision–recall</h2>\n" + EvaluationPlot.svg(curves, caption: "audit")
    }
    for label in labels where scored[label] != nil {
      for (title, examples) in self.examples(label) where !examples.isEmpty {
        out += "<h2>\(escape(title))</h2><ol>\n"
        for e in examples {
          out += "<li><b>line \(e.line)\(e.id.map { " (id \(escape($0)))" } ?? ""), p = \(String(format: "%.2f", e.probability))</b>: \(escape(e.text))<br>\(escape(engine.rationale(of: e.decision, label: e.label)))<br><i>\(escape(e.top))</i></li>\n"
        }
        out += "</ol>\n"
      }
    }
    if let (impact, baseline) = impact { out += impact.html(baseline: baseline, escape: escape) }
    return out + "</body></html>\n"
  }

  /// One bar chart per label: how many messages fall in each twentieth of probability, the policy
  /// threshold marked.
  func histogramSVG() -> String {
    let width = 360.0, height = 160.0, margin = 36.0
    var out = ""
    for label in labels {
      let bins = histogram[label] ?? []
      let top = Double(max(1, bins.max() ?? 1))
      out += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width + 2 * margin))\" height=\"\(Int(height + 2 * margin))\" font-family=\"sans-serif\" font-size=\"11\">"
      out += "<text x=\"\(margin)\" y=\"16\" font-weight=\"bold\">\(label)</text>"
      for (index, count) in bins.enumerated() {
        let barHeight = height * Double(count) / top
        out += String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#1f77b4\"><title>%d</title></rect>", margin + Double(index) * width / 20, margin + height - barHeight, width / 20 - 1, barHeight, count)
      }
      let threshold = engine.policy.label(label)?.threshold ?? 0.5
      out += String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#d62728\" stroke-dasharray=\"4 3\"/>", margin + threshold * width, margin, margin + threshold * width, margin + height)
      out += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">0</text><text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">1</text>", margin, margin + height + 14, margin + width, margin + height + 14)
      out += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%d</text></svg>\n", margin - 4, margin + 8, Int(top))
    }
    return out
  }
}
