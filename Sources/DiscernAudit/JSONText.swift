import Discern
import DiscernRules
import Foundation

/// A decision's JSON record (`discern explain --json`, the REPL's :json): `labels` keyed by label
/// name, as tools expect. An audit's JSONL record is this object with id, line and fingerprints put
/// in front (`AuditRecordFormat`): the same code writes both.
public enum DecisionJSON {
  public static func line(_ decision: Decision) -> String {
    var json = JSONText()
    json.decision(decision)
    return json.text
  }

  /// One message's record in a `discern serve` response: `id` first, then the decision. `explain`
  /// false gives the compact form, which drops what only explains a decision (each label's bias,
  /// logit and contributions, and the rationale) and keeps what a platform acts on.
  public static func record(id: String?, _ decision: Decision, explain: Bool) -> String {
    var json = JSONText()
    json += "{"
    json.key("id")
    if let id { json.string(id) } else { json += "null" }
    json += ","
    json.decision(decision, opened: true, explain: explain)
    return json.text
  }

  /// `text` as a JSON string literal, escaped as every record escapes it.
  public static func string(_ text: String) -> String {
    var json = JSONText()
    json.string(text)
    return json.text
  }
}

/// JSON written by hand as UTF-8 bytes: an audit writes a record per message, and Foundation's
/// encoders (generic Codable boxing, `Any` casts, key sorting) took half its time. Keys are written
/// in sorted order, as `JSONEncoder(.sortedKeys)` did, so the output reads the same.
struct JSONText {
  /// UTF-8 bytes: building a String scalar by scalar cost a third of an audit.
  var bytes: [UInt8] = []

  var text: String { String(decoding: bytes, as: UTF8.self) }

  init() { bytes.reserveCapacity(2048) }

  static let hex = Array("0123456789abcdef".utf8)

  /// Punctuation and literals written in the source.
  static func += (json: inout JSONText, s: StaticString) {
    json.bytes.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
  }

  mutating func raw(_ s: String) { bytes.append(contentsOf: s.utf8) }

  mutating func string(_ s: String) {
    var s = s
    s.withUTF8 { utf8 in
      bytes.append(UInt8(ascii: "\""))
      // Runs of bytes that need no escape are copied whole; most text is one run.
      var runStart = 0
      for (i, byte) in utf8.enumerated() where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<i]))
        runStart = i + 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), byte])
        case UInt8(ascii: "\n"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
        case UInt8(ascii: "\r"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
        case UInt8(ascii: "\t"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
        default: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), Self.hex[Int(byte >> 4)], Self.hex[Int(byte & 15)]])
        }
      }
      bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...]))
      bytes.append(UInt8(ascii: "\""))
    }
  }

  mutating func number(_ d: Double) { d.isFinite ? raw("\(d)") : (self += "null") }

  mutating func key(dynamic k: String) {
    string(k)
    bytes.append(UInt8(ascii: ":"))
  }

  /// A key written in the source (no escaping needed): its bytes go in as they are.
  mutating func key(_ k: StaticString) {
    bytes.append(UInt8(ascii: "\""))
    bytes.append(contentsOf: UnsafeBufferPointer(start: k.utf8Start, count: k.utf8CodeUnitCount))
    bytes.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
  }

  mutating func strings(_ values: [String]) {
    self += "["
    for (i, v) in values.enumerated() {
      if i > 0 { self += "," }
      string(v)
    }
    self += "]"
  }

  /// The `discern explain --json` object; `opened` when its opening brace is already written (an
  /// audit record puts its own members first).
  /// `explain` false leaves out each label's bias, logit and contributions and the rationale.
  mutating func decision(_ decision: Decision, opened: Bool = false, explain: Bool = true) {
    if !opened { self += "{" }
    key("emoji")
    self += "["
    for (i, e) in decision.emoji.enumerated() {
      if i > 0 { self += "," }
      self += "{"
      key("casual_mention"); string(e.casualMention); self += ","
      key("emoji"); string(e.emoji); self += ","
      key("meaning"); string(e.meaning); self += ","
      key("name"); string(e.name); self += ","
      key("serious_intent"); string(e.seriousIntent)
      self += "}"
    }
    self += "],"
    key("labels")
    self += "{"
    for (i, label) in decision.labels.sorted(by: { $0.label < $1.label }).enumerated() {
      if i > 0 { self += "," }
      key(dynamic: label.label)
      self += "{"
      key("actions"); self += "{"; key("author"); strings(label.actions.author); self += ","; key("others"); strings(label.actions.others); self += "},"
      if explain {
        key("bias"); number(label.bias); self += ","
        key("contributions"); self += "["
        for (j, c) in label.contributions.enumerated() {
          if j > 0 { self += "," }
          self += "{"
          key("contribution"); number(c.contribution); self += ","
          key("feature"); string(c.feature); self += ","
          key("value"); number(c.value); self += ","
          key("weight"); number(c.weight)
          self += "}"
        }
        self += "],"
      }
      key("flagged"); self += label.flagged ? "true," : "false,"
      if explain { key("logit"); number(label.logit); self += "," }
      key("probability"); number(label.probability); self += ","
      key("threshold"); number(label.threshold)
      self += "}"
    }
    self += "},"
    // Only present when a rule hit a limit, so ordinary records keep their shape.
    if !decision.limits.isEmpty {
      key("limits"); self += "["
      for (i, event) in decision.limits.enumerated() {
        if i > 0 { self += "," }
        self += "{"; key("limit"); string(event.limit.rawValue); self += ","; key("rule"); string(event.rule); self += "}"
      }
      self += "],"
    }
    if !decision.padding.isEmpty {
      key("padding"); self += "["
      for (i, range) in decision.padding.enumerated() {
        if i > 0 { self += "," }
        raw("[\(range.lowerBound),\(range.upperBound)]")
      }
      self += "],"
    }
    if explain { key("rationale"); string(decision.rationale); self += "," }
    key("scope"); self += "{"
    key("action"); if let action = decision.scope.action { string(action) } else { self += "null" }; self += ","
    key("language"); string(decision.scope.language); self += ","
    key("language_name"); string(decision.scope.languageName); self += ","
    key("reason"); string(decision.scope.reason); self += ","
    key("scope"); string(decision.scope.scope.rawValue)
    self += "},"
    key("spans"); self += "["
    for (i, span) in decision.spans.enumerated() {
      if i > 0 { self += "," }
      self += "{"
      if let confidence = span.confidence { key("confidence"); number(confidence); self += "," }
      key("end"); raw("\(span.end),")
      key("rule"); string(span.rule); self += ","
      if let source = span.source { key("source"); string(source); self += "," }
      key("start"); raw("\(span.start),")
      key("text"); string(span.text); self += ","
      key("type"); string(span.type)
      self += "}"
    }
    self += "],"
    key("text"); string(decision.text); self += ","
    urgency(decision.urgency)
    self += "}"
  }

  /// `"urgency": {"cues": […], "labels": […], "moderator": …, "tier": …}`.
  mutating func urgency(_ urgency: Urgency) {
    key("urgency"); self += "{"
    key("cues"); self += "["
    for (i, cue) in urgency.cues.enumerated() {
      if i > 0 { self += "," }
      self += "{"
      key("end"); raw("\(cue.end),")
      key("reason"); string(cue.reason); self += ","
      key("rule"); string(cue.rule); self += ","
      key("start"); raw("\(cue.start),")
      key("text"); string(cue.text)
      self += "}"
    }
    self += "],"
    key("labels"); strings(urgency.labels); self += ","
    key("moderator"); string(urgency.moderator); self += ","
    key("tier"); string(urgency.tier.rawValue)
    self += "}"
  }
}
