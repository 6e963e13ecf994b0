import Discern
import Foundation

/// JSON written by hand into one string: an audit writes a record per message, and Foundation's
/// encoders (generic Codable boxing, `Any` casts, key sorting) took half its time. Keys are written
/// in sorted order, as `JSONEncoder(.sortedKeys)` did, so the output reads the same.
struct JSONText {
  var text = ""

  mutating func raw(_ s: String) { text += s }

  mutating func string(_ s: String) {
    text += "\""
    for scalar in s.unicodeScalars {
      switch scalar {
      case "\"": text += "\\\""
      case "\\": text += "\\\\"
      case "\n": text += "\\n"
      case "\r": text += "\\r"
      case "\t": text += "\\t"
      case _ where scalar.value < 0x20: text += String(format: "\\u%04x", scalar.value)
      default: text.unicodeScalars.append(scalar)
      }
    }
    text += "\""
  }

  mutating func number(_ d: Double) { text += d.isFinite ? "\(d)" : "null" }

  mutating func key(_ k: String) {
    string(k)
    text += ":"
  }

  mutating func strings(_ values: [String]) {
    text += "["
    for (i, v) in values.enumerated() {
      if i > 0 { text += "," }
      string(v)
    }
    text += "]"
  }

  /// A value decoded by JSONSerialization (or a CSV cell): strings, numbers, booleans, null, arrays
  /// and objects.
  mutating func any(_ value: Any) {
    switch value {
    case let s as String: string(s)
    case let n as NSNumber:
      // JSONSerialization gives booleans as NSNumber too; their type encoding is "c" (char).
      switch String(cString: n.objCType) {
      case "c": text += n.boolValue ? "true" : "false"
      case "d", "f": number(n.doubleValue)
      default: text += "\(n.int64Value)"
      }
    case let a as [Any]:
      text += "["
      for (i, v) in a.enumerated() {
        if i > 0 { text += "," }
        any(v)
      }
      text += "]"
    case let o as [String: Any]:
      text += "{"
      for (i, k) in o.keys.sorted().enumerated() {
        if i > 0 { text += "," }
        key(k)
        any(o[k]!)
      }
      text += "}"
    default: text += "null"
    }
  }

  /// The `discern explain --json` object, without its closing brace when `open` (the audit appends
  /// its own keys).
  mutating func decision(_ decision: Decision) {
    text += "{"
    key("emoji")
    text += "["
    for (i, e) in decision.emoji.enumerated() {
      if i > 0 { text += "," }
      text += "{"
      key("casual_mention"); string(e.casualMention); text += ","
      key("emoji"); string(e.emoji); text += ","
      key("meaning"); string(e.meaning); text += ","
      key("name"); string(e.name); text += ","
      key("serious_intent"); string(e.seriousIntent)
      text += "}"
    }
    text += "],"
    key("labels")
    text += "{"
    for (i, label) in decision.labels.sorted(by: { $0.label < $1.label }).enumerated() {
      if i > 0 { text += "," }
      key(label.label)
      text += "{"
      key("actions"); text += "{"; key("author"); strings(label.actions.author); text += ","; key("others"); strings(label.actions.others); text += "},"
      key("bias"); number(label.bias); text += ","
      key("contributions"); text += "["
      for (j, c) in label.contributions.enumerated() {
        if j > 0 { text += "," }
        text += "{"
        key("contribution"); number(c.contribution); text += ","
        key("feature"); string(c.feature); text += ","
        key("value"); number(c.value); text += ","
        key("weight"); number(c.weight)
        text += "}"
      }
      text += "],"
      key("flagged"); text += label.flagged ? "true," : "false,"
      key("logit"); number(label.logit); text += ","
      key("probability"); number(label.probability); text += ","
      key("threshold"); number(label.threshold)
      text += "}"
    }
    text += "},"
    key("rationale"); string(decision.rationale); text += ","
    key("spans"); text += "["
    for (i, span) in decision.spans.enumerated() {
      if i > 0 { text += "," }
      text += "{"
      key("end"); text += "\(span.end),"
      key("rule"); string(span.rule); text += ","
      key("start"); text += "\(span.start),"
      key("text"); string(span.text); text += ","
      key("type"); string(span.type)
      text += "}"
    }
    text += "],"
    key("text"); string(decision.text)
    text += "}"
  }
}
