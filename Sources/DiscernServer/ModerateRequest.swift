import Foundation

/// A `POST /v1/moderate` body, checked: `{"text": "…"}` or `{"messages": [{"id": "…", "text": "…"}, …]}`,
/// with an optional `"explain": true`.
public struct ModerateRequest: Sendable, Equatable {
  public struct Message: Sendable, Equatable {
    /// The caller's id, echoed in the response; nil for the single-text form or when not given.
    public let id: String?
    public let text: String
  }

  public let messages: [Message]
  /// Whether each record carries the contributions and rationale.
  public let explain: Bool

  /// The request `body` says, or the first thing wrong with it.
  public static func parse(_ body: Data, limits: ServerLimits) throws(RequestError) -> ModerateRequest {
    let root: Any
    do {
      root = try JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed])
    } catch {
      throw .malformedJSON(offset: Self.errorOffset(error, in: body), reason: Self.errorReason(error))
    }
    guard let object = root as? [String: Any] else { throw .notAnObject(found: Self.kind(of: root)) }
    var explain = false
    if let value = object["explain"] {
      guard let flag = value as? Bool else {
        throw .wrongType(field: "explain", expected: "true or false", found: Self.kind(of: value))
      }
      explain = flag
    }
    switch (object["text"], object["messages"]) {
    case (.some, .some):
      throw .bothForms
    case (.some(let text), nil):
      return ModerateRequest(messages: [Message(id: nil, text: try Self.text(text, field: "text", limits: limits))], explain: explain)
    case (nil, .some(let value)):
      guard let list = value as? [Any] else { throw .wrongType(field: "messages", expected: "an array of {\"id\", \"text\"} objects", found: Self.kind(of: value)) }
      guard !list.isEmpty else { throw .emptyBatch }
      guard list.count <= limits.batchMessages else { throw .batchTooLarge(count: list.count, limit: limits.batchMessages) }
      var messages: [Message] = []
      for (i, item) in list.enumerated() {
        let field = "messages[\(i)]"
        guard let message = item as? [String: Any] else { throw .wrongType(field: field, expected: "an object with \"text\"", found: Self.kind(of: item)) }
        var id: String? = nil
        if let value = message["id"] {
          guard let string = value as? String else { throw .wrongType(field: field + ".id", expected: "a string", found: Self.kind(of: value)) }
          id = string
        }
        guard let text = message["text"] else { throw .missingField(field + ".text") }
        messages.append(Message(id: id, text: try Self.text(text, field: field + ".text", limits: limits)))
      }
      return ModerateRequest(messages: messages, explain: explain)
    case (nil, nil):
      throw .missingField("text")
    }
  }

  private static func text(_ value: Any, field: String, limits: ServerLimits) throws(RequestError) -> String {
    guard let text = value as? String else { throw .wrongType(field: field, expected: "a string", found: kind(of: value)) }
    let bytes = text.utf8.count
    guard bytes <= limits.messageBytes else { throw .messageTooLarge(field: field, bytes: bytes, limit: limits.messageBytes) }
    return text
  }

  /// The JSON kind of a parsed value, as an error names it.
  static func kind(of value: Any) -> String {
    switch value {
    case is NSNull: "null"
    case is String: "a string"
    case is NSNumber: "a number or boolean"
    case is [Any]: "an array"
    case is [String: Any]: "an object"
    default: "a value"
    }
  }

  /// The parser's byte offset of a syntax error (0 for an empty body, where there is nothing else to point at).
  static func errorOffset(_ error: any Error, in body: Data) -> Int {
    let info = (error as NSError).userInfo
    if let index = info["NSJSONSerializationErrorIndex"] as? Int { return index }
    // Foundation on Linux says the offset only in its text: "… around character 9."
    if let text = info[NSDebugDescriptionErrorKey] as? String, let at = text.range(of: "around character ") {
      if let index = Int(text[at.upperBound...].prefix { $0.isNumber }) { return index }
    }
    return body.count
  }

  static func errorReason(_ error: any Error) -> String {
    let info = (error as NSError).userInfo
    var reason = (info[NSDebugDescriptionErrorKey] as? String) ?? "not valid JSON"
    // The parser's own text says the position in lines and columns; the response says it once, as a byte offset.
    for marker in [" around line", " around character"] {
      if let around = reason.range(of: marker) { reason = String(reason[..<around.lowerBound]) }
    }
    if reason.hasSuffix(".") { reason.removeLast() }
    return reason
  }
}

