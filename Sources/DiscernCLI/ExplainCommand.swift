import ArgumentParser
import Discern
import DiscernAudit
import DiscernEncoder
import DiscernRules
import Foundation

struct ExplainCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "explain",
    abstract: "Explain Discern's decision for messages: probabilities, actions, every contribution, spans, emoji, rationale.",
    discussion: """
      The contributions are the fusion layer's own terms (weight × feature value): with the bias they \
      sum to the logit before calibration. Offsets count Unicode scalars. Colour only on a terminal.
      """)

  @OptionGroup var rulesOptions: RulesOptions
  @OptionGroup var encoderOptions: EncoderOptions
  @OptionGroup var engineOptions: EngineOptions

  @Argument(help: "Messages to explain.")
  var messages: [String] = []

  @Option(help: "Explain one message per line of this file ('-' for standard input).")
  var file: String?



  @Flag(help: "One JSON object per message (documented in the README).")
  var json = false

  @OptionGroup var colourOption: ColourOption

  func validate() throws {
    if messages.isEmpty && file == nil { throw ValidationError("Give a message to explain, or --file PATH.") }
  }

  func run() throws {
    var texts = messages
    if let file { texts += try MessageLines.read(file) }
    let engine = try engineOptions.load(rules: rulesOptions.rules, encoder: try encoderOptions.load(model: engineOptions.model))
    let colour = colourOption.enabled()
    for start in stride(from: 0, to: texts.count, by: 32) {
      for decision in engine.decide(Array(texts[start..<min(start + 32, texts.count)])) {
        do {
          try OutputFile.standardOutput.write((json ? DecisionJSON.line(decision) : DecisionView.render(decision, colour: colour)) + "\n")
        } catch {
          throw CommandError(error)
        }
      }
    }
  }
}

/// The compact terminal view.
enum DecisionView {
  static let colours = [
    "serious_intent": "\u{1B}[1;31m", "casual_mention": "\u{1B}[33m", "past": "\u{1B}[34m", "present": "\u{1B}[35m",
    "recovery": "\u{1B}[32m", "negation": "\u{1B}[36m", "toward_others": "\u{1B}[1;35m", "by_others": "\u{1B}[1;34m",
    "between_others": "\u{1B}[1;36m",
  ]
  static let reset = "\u{1B}[0m"

  static func render(_ decision: Decision, colour: Bool) -> String {
    var lines = ["» " + highlighted(decision, colour: colour)]
    if let scope = scopeLine(decision.scope) { lines.append(scope) }
    let unreliable = decision.scope.scope == .supported ? "" : " (unreliable)"
    for label in decision.labels {
      let state = (label.flagged ? "FLAGGED" : "not flagged") + unreliable
      let actions = label.flagged ? "  → author: \(label.actions.author.joined(separator: "; ")); others: \(label.actions.others.joined(separator: "; "))" : ""
      lines.append(
        "  " + label.label.padding(toLength: 18, withPad: " ", startingAt: 0)
          + String(format: "p %.2f  (threshold %.2f)  ", label.probability, label.threshold) + state + actions)
    }
    lines.append("  urgency: " + decision.urgency.summary)
    if !decision.urgency.moderator.isEmpty { lines.append("    moderator: " + decision.urgency.moderator) }
    if let main = decision.explained {
      lines.append(String(format: "  contributions to %@ (logit %.2f = bias %.2f + the terms below):", main.label, main.logit, main.bias))
      // Terms too small to print at two decimals are folded into one line with their sum, so the
      // view stays exact without rows of "+0.00" (rules the fusion shrank toward zero).
      let (shown, folded) = (main.contributions.filter { abs($0.contribution) >= 0.005 }, main.contributions.filter { abs($0.contribution) < 0.005 })
      for c in shown {
        lines.append("    " + c.feature.padding(toLength: 36, withPad: " ", startingAt: 0) + String(format: "%6.2f × %+6.2f = %+6.2f", c.value, c.weight, c.contribution))
      }
      if !folded.isEmpty {
        let sum = folded.reduce(0) { $0 + $1.contribution }
        let names = folded.map(\.feature).joined(separator: ", ")
        lines.append("    " + String(format: "%d term%@ under 0.005, together %+.3f: ", folded.count, folded.count == 1 ? "" : "s", sum) + names)
      }
      if main.contributions.isEmpty { lines.append("    (none: the bias alone)") }
    }
    if !decision.spans.isEmpty {
      lines.append("  spans:")
      for span in decision.spans {
        let type = span.type.padding(toLength: 15, withPad: " ", startingAt: 0)
        let paint = colour ? (colours[span.type] ?? "") : ""
        let by = span.confidence.map { "model (\(fixed2($0)))" } ?? span.rule
        lines.append("    \(paint)\(type)\(colour ? reset : "") \(by) [\(span.start), \(span.end)) '\(span.text)'")
      }
    }
    for emoji in decision.emoji {
      lines.append("  emoji: \(emoji.emoji) \(emoji.name) — \(emoji.meaning); casual mention \(emoji.casualMention), serious intent \(emoji.seriousIntent)")
    }
    for event in decision.limits {
      lines.append("  limit: \(event.rule) stopped at its \(event.limit.rawValue) limit; what it found before counts, the rest of the message went unread by it")
    }
    lines.append("  rationale: " + decision.rationale)
    return lines.joined(separator: "\n")
  }

  /// "scope  unsupported_language (German, de) → ACTION" and why, for a message outside what the
  /// engine reads; nil for a supported one (most messages), so the usual view stays as it was.
  static func scopeLine(_ scope: ScopeReading) -> String? {
    guard scope.scope != .supported else { return nil }
    let language = scope.language == "und" ? "" : " (\(scope.languageName), \(scope.language))"
    let action = scope.action.map { " → \($0)" } ?? ""
    return "  " + "scope".padding(toLength: 18, withPad: " ", startingAt: 0) + scope.scope.rawValue + language + action
      + "\n    " + scope.reason + " The labels below were computed anyway and are unreliable."
  }

  /// The message with each span painted by its type (the first span wins where spans overlap).
  static func highlighted(_ decision: Decision, colour: Bool) -> String {
    guard colour else { return decision.text }
    let scalars = Array(decision.text.unicodeScalars)
    var paint = [String?](repeating: nil, count: scalars.count)
    for span in decision.spans {
      for i in max(0, span.start)..<min(scalars.count, span.end) where paint[i] == nil { paint[i] = colours[span.type] }
    }
    var out = "", current: String? = nil
    for (i, scalar) in scalars.enumerated() {
      if paint[i] != current {
        if current != nil { out += reset }
        if let p = paint[i] { out += p }
        current = paint[i]
      }
      out.unicodeScalars.append(scalar)
    }
    return out + (current != nil ? reset : "")
  }
}

/// A probability as explain prints it: two decimals.
private func fixed2(_ value: Double) -> String { String(format: "%.2f", value) }
