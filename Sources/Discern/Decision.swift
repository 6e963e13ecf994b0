import DiscernEncoder
import DiscernRules
import Foundation

/// Everything Discern concluded about one message, and exactly why.
public struct Decision: Sendable, Codable {
  public let text: String
  /// Per trained label, in the label guide's order.
  public let labels: [LabelDecision]
  /// Evidence spans with a span type, offsets in Unicode scalars.
  public let spans: [Span]
  /// The emoji found, with their lexicon meanings.
  public let emoji: [EmojiMeaning]
  /// Two or three sentences built only from the largest contributions and their evidence.
  public let rationale: String
  /// Every rule that fired (stable and shadow) with its feature value: what audits count per rule.
  public let hits: [String: Double]
  /// Rules a PCRE2 limit stopped on this message: each kept what it found before the limit, so its
  /// evidence may be incomplete (a moderator should read the message itself).
  public let limits: [LimitEvent]
  /// The scalar ranges set aside as padding (the decision is the rest's); empty for most messages.
  public var padding: [Range<Int>] = []
  /// How soon a moderator should act, and why (the policy's `tiers`, chosen from the flagged labels
  /// and the cue rules that hit).
  public var urgency: Urgency = .unassessed
  /// Whether the engine reads the message's language at all, with the policy's action when it does
  /// not. Outside `.supported` the labels are still computed (a message CLD2 misread keeps its
  /// flags) but are unreliable, and the message is never "nothing flagged".
  public var scope: ScopeReading

  public func label(_ name: String) -> LabelDecision? { labels.first { $0.label == name } }

  /// The label the rationale explains, and every view breaks down: the most probable flagged one,
  /// else self-harm (what staff ask first). One choice, made here, so a view's contributions and
  /// the rationale above them never speak of different labels.
  public var explained: LabelDecision? { Decision.explained(in: labels) }

  static func explained(in labels: [LabelDecision]) -> LabelDecision? {
    labels.filter(\.flagged).max(by: { $0.probability < $1.probability }) ?? labels.first(where: { $0.label == "self_harm" }) ?? labels.first
  }
}

public struct LabelDecision: Sendable, Codable {
  public let label: String
  /// Calibrated.
  public let probability: Double
  public let flagged: Bool
  public let threshold: Double
  /// Before calibration: bias + Σ contributions.
  public let logit: Double
  public let bias: Double
  /// Every non-zero term, largest magnitude first.
  public let contributions: [Contribution]
  /// The policy's responses when flagged, else none.
  public let actions: Actions
}

public struct Actions: Sendable, Codable, Equatable {
  public let author: [String]
  public let others: [String]
}

/// One term of the fused logit: weight · value. `feature` is a rule id, or "encoder".
public struct Contribution: Sendable, Codable, Equatable {
  public let feature: String
  public let value: Double
  public let weight: Double
  public let contribution: Double
}

public struct Span: Sendable, Codable, Equatable {
  public let type: String
  /// The rule that marked it; "encoder" for a span the encoder's tagger marked.
  public let rule: String
  public let start: Int
  public let end: Int
  public let text: String
  /// "model" for a span the encoder's tagger marked; absent for a rule's.
  public var source: String? = nil
  /// The tagger's mean probability over the span's tokens (model spans only).
  public var confidence: Double? = nil
}

public struct EmojiMeaning: Sendable, Codable, Equatable {
  public let emoji: String
  public let name: String
  public let meaning: String
  public let casualMention: String
  public let seriousIntent: String

  enum CodingKeys: String, CodingKey {
    case emoji, name, meaning
    case casualMention = "casual_mention"
    case seriousIntent = "serious_intent"
  }
}

extension Engine {
  /// The decision for one message.
  public func decide(_ text: String, thresholds: [String: Double] = [:]) -> Decision { decide([text], thresholds: thresholds)[0] }

  /// The smallest set of contributions whose removal flips `label`'s decision: the largest terms
  /// pushing toward the current decision, taken in order until the calibrated probability crosses
  /// the threshold (for a sum, no smaller set can move it further). Nil when removing every such
  /// term is not enough.
  public func flip(_ decision: Decision, label name: String) -> (removed: [Contribution], probability: Double)? {
    guard let label = decision.label(name), let calibration = model.labels[name]?.calibration["fused"] else { return nil }
    let pushing = label.contributions.filter { label.flagged ? $0.contribution > 0 : $0.contribution < 0 }
      .sorted { abs($0.contribution) > abs($1.contribution) }
    var logit = label.logit
    var removed: [Contribution] = []
    for term in pushing {
      logit -= term.contribution
      removed.append(term)
      let probability = calibration.probability(logit)
      if (probability >= label.threshold) != label.flagged { return (removed, probability) }
    }
    return nil
  }

  /// Decisions for a batch (the encoder runs once over the batch). `thresholds` overrides the
  /// policy's per label (the REPL's `:threshold`). `.rulesOnly` skips the encoder and decides with
  /// the model's rules-only ablation and its own calibration: a fast triage pass, less accurate.
  /// Messages are split between the engine's threads.
  /// `readings`, when given, are the encoder's for `texts` (an impact diff shares them between two
  /// engines on the same encoder).
  public func decide(
    _ texts: [String], thresholds: [String: Double] = [:], variant: Variant = .fused, readings given: [EncoderReading]? = nil
  ) -> [Decision] {
    var readings: [EncoderReading]? = nil
    if variant == .fused {
      guard encoder != nil else { preconditionFailure("a rules-only engine (loaded without an encoder) decides with variant .rulesOnly") }
      readings = given ?? read(texts)
    }
    return parallelParts(texts.count, threads: threads) { range in
      let matcher = PCRE2Matcher()
      return range.map { row in
        decide(
          texts[row], variant: variant, encoderLogits: readings.map { heads.logits($0[row].embedding) }, modelSpans: readings?[row].spans ?? [],
          thresholds: thresholds, matcher: matcher)
      }
    }
  }

  /// Which logit decides: the fusion of rules and encoder, or the rules alone.
  public enum Variant: String, Sendable {
    case fused
    case rulesOnly = "rules"
  }

  /// The decision for one message whose encoder logits (one per head) are already known — nil for
  /// `.rulesOnly`. Reuse one matcher per thread.
  /// `encoderLogits` and `modelSpans` (the encoder's tagger's spans, shown beside the rules' and
  /// cited by the rationale) are the heads' and the tagger's reading of the message as `read` gives
  /// it: of its core, when it has padding.
  ///
  /// A message with padding (`PaddedMessage`: runs of emoji, punctuation, whitespace, zero-width
  /// characters, a word or phrase repeated four times or more) is decided on its core, so padding
  /// cannot move the decision; its spans are shown on the message as written, and the rationale
  /// says what was set aside.
  public func decide(
    _ text: String, variant: Variant, encoderLogits: [Float]?, modelSpans: [TaggedSpan] = [], thresholds: [String: Double] = [:],
    matcher: PCRE2Matcher = PCRE2Matcher()
  ) -> Decision {
    let scope = scope(of: text)
    guard let padded = PaddedMessage.strip(text) else {
      return decideAsWritten(
        text, variant: variant, encoderLogits: encoderLogits, modelSpans: modelSpans, thresholds: thresholds, matcher: matcher, scope: scope)
    }
    let core = decideAsWritten(
      padded.core, variant: variant, encoderLogits: encoderLogits, modelSpans: modelSpans, thresholds: thresholds, matcher: matcher,
      scope: scope)
    let scalars = Array(text.unicodeScalars)
    // A range of the core, and its text, on the message as written.
    func asWritten(_ start: Int, _ end: Int) -> (range: Range<Int>, text: String) {
      let range = padded.originalRange(start..<end)
      var view = String.UnicodeScalarView()
      view.append(contentsOf: scalars[range])
      return (range, String(view))
    }
    let spans = core.spans.map { span in
      let written = asWritten(span.start, span.end)
      return Span(
        type: span.type, rule: span.rule, start: written.range.lowerBound, end: written.range.upperBound, text: written.text,
        source: span.source, confidence: span.confidence)
    }
    let urgency = Urgency(
      tier: core.urgency.tier, moderator: core.urgency.moderator, labels: core.urgency.labels,
      cues: core.urgency.cues.map { cue in
        let written = asWritten(cue.start, cue.end)
        return UrgencyCue(rule: cue.rule, reason: cue.reason, start: written.range.lowerBound, end: written.range.upperBound, text: written.text)
      })
    let note = " Read without its padding: \(padded.removedCount) of \(scalars.count) characters (repeats, zero-width or extra whitespace) set aside."
    return Decision(
      text: text, labels: core.labels, spans: spans, emoji: core.emoji, rationale: core.rationale + note, hits: core.hits, limits: core.limits,
      padding: padded.removed, urgency: urgency, scope: scope)
  }

  /// A decision by `variant` is coming (a request has arrived): the encoder's threads are woken now,
  /// while the request is parsed, rather than at the first step of its forward pass.
  public func prepare(_ variant: Variant) {
    if variant == .fused { encoder?.prepare() }
  }

  /// What the encoder reads of each message, as the rules read it: its core when it has padding
  /// (`PaddedMessage`, what `decide` decides it on), with obfuscation undone — the encoder learned
  /// plain English, and "k!ll mys3lf" is mostly unknown word pieces to it — and its tagger's spans
  /// put back on that core (on the message as written when it has no padding). Needs an engine with
  /// an encoder.
  public func read(_ texts: [String]) -> [EncoderReading] {
    guard let encoder else { preconditionFailure("a rules-only engine (loaded without an encoder) reads nothing") }
    let cores = parallelMap(texts.count, threads: threads) { row in
      let core = PaddedMessage.strip(texts[row])?.core ?? texts[row]
      return (core: core, undone: Obfuscation.undo(core))
    }
    let undone = cores.map(\.undone)
    let readings = encoder.read(cores.map { $0.undone?.text ?? $0.core })
    return zip(readings, undone).map { reading, undone in
      // Stand-ins are read one scalar for one; only joined letters move offsets.
      guard let removed = undone?.removed, !removed.isEmpty else { return reading }
      return EncoderReading(
        embedding: reading.embedding,
        spans: reading.spans.map { TaggedSpan(type: $0.type, scalars: removed.originalRange($0.scalars), confidence: $0.confidence) })
    }
  }

  /// The message's scope (`LanguageScope`) with the policy's action for it.
  public func scope(of text: String) -> ScopeReading {
    var reading = LanguageScope.read(text)
    if reading.scope != .supported { reading.action = policy.action(for: reading.scope) }
    return reading
  }

  func decideAsWritten(
    _ text: String, variant: Variant, encoderLogits: [Float]?, modelSpans: [TaggedSpan], thresholds: [String: Double],
    matcher: PCRE2Matcher, scope: ScopeReading
  ) -> Decision {
    precondition(variant == .rulesOnly || encoderLogits != nil, "a fused decision needs the encoder's logits")
    let evaluation = ruleSet.evaluate(text, matcher: matcher)
    let features = evaluation.features
    // The stable rules that fired, in feature (rule id) order: sums and contributions follow it, so a
    // decision's last bits do not depend on dictionary order.
    let fired = stableRules.filter { features[$0.index] != 0 }
    var labels: [LabelDecision] = []
    for plan in plans[variant]! {
      let encoderLogit = encoderLogits.map { Double($0[plan.head]) } ?? 0
      var logit = plan.linear.bias + plan.linear.encoder * encoderLogit
      var contributions: [Contribution] = []
      for (index, id) in fired {
        let weight = plan.weights[index]
        logit += weight * features[index]
        if weight != 0 { contributions.append(Contribution(feature: id, value: features[index], weight: weight, contribution: weight * features[index])) }
      }
      if plan.linear.encoder != 0 {
        contributions.append(
          Contribution(feature: "encoder", value: encoderLogit, weight: plan.linear.encoder, contribution: plan.linear.encoder * encoderLogit))
      }
      contributions.sort { abs($0.contribution) > abs($1.contribution) }
      let probability = plan.calibration.probability(logit)
      let threshold = thresholds[plan.label] ?? plan.policy?.threshold ?? 0.5
      let flagged = probability >= threshold
      labels.append(
        LabelDecision(
          label: plan.label, probability: probability, flagged: flagged, threshold: threshold, logit: logit, bias: plan.linear.bias,
          contributions: contributions,
          actions: flagged ? Actions(author: plan.policy?.author ?? [], others: plan.policy?.others ?? []) : Actions(author: [], others: [])))
    }
    let scalars = modelSpans.isEmpty ? [] : Array(text.unicodeScalars)
    let fromModel = modelSpans.map { tagged in
      var view = String.UnicodeScalarView()
      view.append(contentsOf: scalars[tagged.scalars])
      return Span(
        type: tagged.type, rule: "encoder", start: tagged.scalars.lowerBound, end: tagged.scalars.upperBound, text: String(view),
        source: "model", confidence: tagged.confidence)
    }
    let spans = evaluation.evidence.compactMap { evidence in
      evidence.type.map { Span(type: $0.rawValue, rule: evidence.rule, start: evidence.start, end: evidence.end, text: evidence.text) }
    } + fromModel
    var seen = Set<String>()
    let emoji = evaluation.evidence.compactMap(\.lexicon).filter { seen.insert($0.emoji).inserted }.map {
      EmojiMeaning(emoji: $0.emoji, name: $0.name, meaning: $0.meaning, casualMention: $0.casualMention.rawValue, seriousIntent: $0.seriousIntent.rawValue)
    }
    var hits: [String: Double] = [:]
    for (index, id) in ruleSet.featureIDs.enumerated() where features[index] != 0 { hits[id] = features[index] }
    let urgency = policy.urgency(flagged: labels.filter(\.flagged).map(\.label), evidence: evaluation.evidence.filter { stableIDs.contains($0.rule) })
    return Decision(
      text: text, labels: labels, spans: spans, emoji: emoji,
      rationale: Rationale.scopeNote(scope) + Rationale.write(labels: labels, evidence: evaluation.evidence, modelSpans: fromModel, limits: evaluation.limitEvents),
      hits: hits, limits: evaluation.limitEvents, urgency: urgency, scope: scope)
  }
}

extension Engine {
  /// The rationale for one label of a decision, whichever label the decision itself explains: the
  /// audit report lists false positives and negatives per label, and each needs its own reasons.
  public func rationale(of decision: Decision, label name: String) -> String {
    guard let label = decision.label(name) else { return decision.rationale }
    if decision.explained?.label == name { return decision.rationale }
    let read = PaddedMessage.strip(decision.text)?.core ?? decision.text
    let evaluation = ruleSet.evaluate(read, matcher: PCRE2Matcher())
    return Rationale.write(
      labels: [label], evidence: evaluation.evidence, modelSpans: decision.spans.filter { $0.source == "model" }, limits: decision.limits)
  }
}

/// `value` rounded to `digits` decimals, as "%.Nf" prints it (Foundation's String(format:) was a
/// tenth of a rules-only audit). Rounds half away from zero.
func fixed(_ value: Double, _ digits: Int) -> String {
  let scale = [1.0, 10, 100, 1000][min(digits, 3)]
  let scaled = (abs(value) * scale).rounded(.toNearestOrAwayFromZero)
  guard scaled < 1e15 else { return "\(value)" }
  let units = Int(scaled)
  let whole = units / Int(scale), part = units % Int(scale)
  let sign = value < 0 && units != 0 ? "-" : ""
  guard digits > 0 else { return sign + "\(whole)" }
  let fraction = String(part)
  return sign + "\(whole)." + String(repeating: "0", count: digits - fraction.count) + fraction
}

/// Sentences built from the contributions only: the decision, then what pushed it most each way
/// with the words behind each rule.
enum Rationale {
  static let names = [
    "self_harm": "self-harm", "harming_others": "harming others", "harmed_by_others": "harmed by others",
    "reference_to_harm": "a reference to harm",
  ]

  /// Said first for a message outside what the engine reads, so no reader takes "Not self-harm" for
  /// a reading of it; empty for a supported one.
  static func scopeNote(_ scope: ScopeReading) -> String {
    guard scope.scope != .supported else { return "" }
    let what = scope.scope == .unsupportedLanguage ? "Not a language Discern reads" : "Too little text for Discern to read"
    let action = scope.action.map { " Policy: \($0)." } ?? ""
    return "\(what) (\(scope.scope.rawValue)): \(scope.reason)\(action) The label figures below are unreliable. "
  }

  static func write(labels: [LabelDecision], evidence: [Evidence], modelSpans: [Span] = [], limits: [LimitEvent] = []) -> String {
    // The label to explain: the most probable flagged one, else self-harm (what staff ask first).
    guard let label = Decision.explained(in: labels)
    else { return "No trained label applies." }
    let name = names[label.label] ?? label.label
    var sentences = [
      "\(label.flagged ? "Flagged as \(name)" : "Not \(name)") (p = \(fixed(label.probability, 2)) against a threshold of \(fixed(label.threshold, 2)))."
    ]
    let top = label.contributions.filter { abs($0.contribution) >= 0.05 }.prefix(3)
    func phrase(_ c: Contribution) -> String {
      let amount = (c.contribution >= 0 ? "+" : "") + fixed(c.contribution, 1)
      if c.feature == "encoder" {
        // Cite the words the encoder's tagger marked, where its span type speaks to this push.
        let wanted = label.label == "self_harm" ? (c.contribution > 0 ? "serious_intent" : "casual_mention") : nil
        if let wanted, let span = modelSpans.filter({ $0.type == wanted }).max(by: { ($0.confidence ?? 0) < ($1.confidence ?? 0) }) {
          return "the encoder, which read '\(span.text)' as \(wanted.replacingOccurrences(of: "_", with: " ")) (\(amount))"
        }
        return "the encoder's reading of the whole message (\(amount))"
      }
      let spans = evidence.filter { $0.rule == c.feature }
      // A rule without spans (a measure, or a rule that fires on an absence) is named, not quoted.
      guard let first = spans.first else { return "rule \(c.feature) (\(amount))" }
      let quoted = "'\(first.text)'"
      // An emoji is described by its lexicon row, never by a fixed phrase: a phrase per signal called
      // 🥀 humour while the lexicon rates it high for serious intent.
      let row = first.lexicon.map { "; " + $0.citation } ?? ""
      let type = first.type.map { ", " + $0.rawValue.replacingOccurrences(of: "_", with: " ") } ?? ""
      return "\(quoted) (\(c.feature)\(type), \(amount)\(row))"
    }
    let raising = top.filter { $0.contribution > 0 }.map(phrase)
    let lowering = top.filter { $0.contribution < 0 }.map(phrase)
    if !raising.isEmpty { sentences.append("Raising it: " + raising.joined(separator: "; ") + ".") }
    if !lowering.isEmpty { sentences.append("Lowering it: " + lowering.joined(separator: "; ") + ".") }
    if raising.isEmpty && lowering.isEmpty { sentences.append("No rule or encoder signal moved it far from the base rate.") }
    if !limits.isEmpty {
      let rules = limits.map(\.rule).joined(separator: ", ")
      sentences.append("Incomplete: \(rules) stopped at a matching limit on this message, so \(limits.count == 1 ? "its" : "their") evidence may be partial.")
    }
    return sentences.joined(separator: " ")
  }
}
