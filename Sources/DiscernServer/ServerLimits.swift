/// The limits a request is held to before the engine sees it, so one client cannot make the
/// service hold an unbounded body or decide an unbounded batch.
public struct ServerLimits: Sendable, Equatable {
  /// The most bytes a request body may have.
  public var bodyBytes: Int
  /// The most messages one request may carry.
  public var batchMessages: Int
  /// The most UTF-8 bytes one message's text may have.
  public var messageBytes: Int

  public static let defaults = ServerLimits(bodyBytes: 1 << 20, batchMessages: 256, messageBytes: 16 * 1024)

  public init(bodyBytes: Int, batchMessages: Int, messageBytes: Int) {
    self.bodyBytes = bodyBytes
    self.batchMessages = batchMessages
    self.messageBytes = messageBytes
  }
}
