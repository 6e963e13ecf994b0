import Discern
import DiscernAudit
import Foundation

/// JSON text pieces the server writes, escaped as the audit's records are.
enum ServerJSON {
  static func string(_ text: String) -> String { DecisionJSON.string(text) }
}

/// One loaded engine and what identifies it: every response names the rules hash, model hash and
/// encoder fingerprint that decided it, as an audit record does.
public struct ModerationService: Sendable {
  public let engine: Engine
  public let variant: Engine.Variant
  public let fingerprints: EngineFingerprints

  public init(engine: Engine, variant: Engine.Variant, fingerprints: EngineFingerprints) {
    self.engine = engine
    self.variant = variant
    self.fingerprints = fingerprints
  }

  /// `"engine": {"encoder": …, "model": …, "rules": …, "variant": …}`; `encoder` is null for rules-only.
  public var engineJSON: String {
    let encoder = variant == .fused ? engine.encoder.map { ServerJSON.string($0.fingerprint) } ?? "null" : "null"
    return "{\"encoder\":\(encoder),\"model\":\(ServerJSON.string(fingerprints.model)),\"rules\":\(ServerJSON.string(fingerprints.rules)),\"variant\":\(ServerJSON.string(variant.rawValue))}"
  }

  /// The response body for a checked request: the engine, then one record per message in order.
  public func moderate(_ request: ModerateRequest) -> String {
    let decisions = engine.decide(request.messages.map(\.text), variant: variant)
    let records = zip(request.messages, decisions).map { DecisionJSON.record(id: $0.id, $1, explain: request.explain) }
    return "{\"engine\":\(engineJSON),\"results\":[\(records.joined(separator: ","))]}"
  }
}

/// The engine the routes decide with, nil until it has loaded: the server answers `/healthz` from
/// the start and `/readyz` once the engine is in.
public actor EngineSlot {
  public private(set) var service: ModerationService?

  public init(_ service: ModerationService? = nil) { self.service = service }

  public func load(_ service: ModerationService) { self.service = service }
}
