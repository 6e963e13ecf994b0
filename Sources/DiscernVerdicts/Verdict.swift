import Foundation

/// A span a moderator marked on a message, in Unicode-scalar offsets of its text (as `Decision`
/// spans are), with an engine span type ("serious_intent", "casual_mention", …).
public struct VerdictSpan: Codable, Sendable, Equatable {
  public var start: Int
  public var end: Int
  public var type: String

  public init(start: Int, end: Int, type: String) {
    self.start = start
    self.end = end
    self.type = type
  }
}

/// A moderator's judgement of one label on one message, with what the engine had decided and which
/// engine decided it (the fingerprints an audit record carries), so a later `discern learn` knows
/// whether the verdict was given against the model it is refitting.
public struct Verdict: Codable, Sendable, Equatable {
  public var messageID: String
  public var text: String
  /// A label of the policy (Rules/policy.yaml).
  public var label: String
  /// The moderator's verdict: the label applies to this message.
  public var applies: Bool
  public var engineProbability: Double
  public var engineFlagged: Bool
  public var rulesHash: String
  public var modelHash: String
  public var encoderFingerprint: String?
  public var moderator: String
  /// Kept to the millisecond (the store's resolution), so a verdict reads back equal to what was saved.
  public var decidedAt: Date
  /// Spans the moderator marked (may be empty).
  public var spans: [VerdictSpan]
  /// The corpus source when known (for per-source reports), else nil.
  public var source: String?

  public init(
    messageID: String, text: String, label: String, applies: Bool, engineProbability: Double, engineFlagged: Bool, rulesHash: String,
    modelHash: String, encoderFingerprint: String?, moderator: String, decidedAt: Date, spans: [VerdictSpan] = [], source: String? = nil
  ) {
    self.messageID = messageID
    self.text = text
    self.label = label
    self.applies = applies
    self.engineProbability = engineProbability
    self.engineFlagged = engineFlagged
    self.rulesHash = rulesHash
    self.modelHash = modelHash
    self.encoderFingerprint = encoderFingerprint
    self.moderator = moderator
    self.decidedAt = Verdict.millisecond(decidedAt)
    self.spans = spans
    self.source = source
  }

  /// `date` on a whole millisecond: SQLite keeps dates as text to the millisecond.
  static func millisecond(_ date: Date) -> Date {
    Date(timeIntervalSince1970: (date.timeIntervalSince1970 * 1000).rounded() / 1000)
  }
}
