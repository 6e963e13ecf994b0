import DiscernAudit

/// Why a request was refused before the engine saw it. Each says where (a byte offset or a field)
/// and what, and the status it is answered with.
public enum RequestError: Error, Equatable, Sendable {
  /// The body is longer than `--max-body-bytes`.
  case bodyTooLarge(limit: Int)
  /// The body is not JSON; `offset` is the parser's byte offset.
  case malformedJSON(offset: Int, reason: String)
  /// The body is JSON but not an object.
  case notAnObject(found: String)
  /// A required field is absent.
  case missingField(String)
  /// A field holds the wrong kind of value.
  case wrongType(field: String, expected: String, found: String)
  /// Both `text` and `messages` were given.
  case bothForms
  /// `messages` is an empty array.
  case emptyBatch
  /// More messages than `--max-batch`.
  case batchTooLarge(count: Int, limit: Int)
  /// One message's text is longer than `--max-message-bytes`.
  case messageTooLarge(field: String, bytes: Int, limit: Int)

  /// The HTTP status code it is answered with.
  public var status: Int {
    switch self {
    case .bodyTooLarge, .batchTooLarge, .messageTooLarge: 413
    default: 400
    }
  }

  /// A stable name a client can branch on.
  public var code: String {
    switch self {
    case .bodyTooLarge: "body_too_large"
    case .malformedJSON: "malformed_json"
    case .notAnObject: "not_an_object"
    case .missingField: "missing_field"
    case .wrongType: "wrong_type"
    case .bothForms: "both_forms"
    case .emptyBatch: "empty_batch"
    case .batchTooLarge: "batch_too_large"
    case .messageTooLarge: "message_too_large"
    }
  }

  public var message: String {
    switch self {
    case .bodyTooLarge(let limit):
      "The request body is over \(limit) bytes (--max-body-bytes). Send fewer messages per request."
    case .malformedJSON(let offset, let reason):
      "The body is not valid JSON at byte \(offset): \(reason)."
    case .notAnObject(let found):
      "The body is \(found); send an object: {\"text\": \"…\"} or {\"messages\": [{\"id\": \"…\", \"text\": \"…\"}]}."
    case .missingField(let field):
      "Missing '\(field)': send {\"text\": \"…\"} or {\"messages\": [{\"id\": \"…\", \"text\": \"…\"}]}."
    case .wrongType(let field, let expected, let found):
      "'\(field)' is \(found); it must be \(expected)."
    case .bothForms:
      "Both 'text' and 'messages' are given; send one of them."
    case .emptyBatch:
      "'messages' is empty; send at least one message."
    case .batchTooLarge(let count, let limit):
      "'messages' has \(count) messages, over the limit of \(limit) (--max-batch). Split the batch."
    case .messageTooLarge(let field, let bytes, let limit):
      "'\(field)' is \(bytes) bytes, over the limit of \(limit) (--max-message-bytes)."
    }
  }

  /// The response body: `{"error": {"code": …, "message": …}}`, plus `offset` or `field` where known.
  public var json: String {
    var members = ["\"code\":\(DecisionJSON.string(code))"]
    switch self {
    case .malformedJSON(let offset, _): members.append("\"offset\":\(offset)")
    case .missingField(let field), .wrongType(let field, _, _), .messageTooLarge(let field, _, _): members.append("\"field\":\(DecisionJSON.string(field))")
    case .batchTooLarge, .emptyBatch, .bothForms: members.append("\"field\":\"messages\"")
    default: break
    }
    members.append("\"message\":\(DecisionJSON.string(message))")
    return "{\"error\":{\(members.joined(separator: ","))}}"
  }
}
