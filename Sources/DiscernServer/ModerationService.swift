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

  /// `{"encoder": …, "model": …, "rules": …, "variant": …}`; `encoder` is null for rules-only.
  public var engineJSON: String {
    let encoder = fingerprints.encoder.map(ServerJSON.string) ?? "null"
    return "{\"encoder\":\(encoder),\"model\":\(ServerJSON.string(fingerprints.model)),\"rules\":\(ServerJSON.string(fingerprints.rules)),\"variant\":\(ServerJSON.string(variant.rawValue))}"
  }

  /// The response body for a checked request decided by this engine: the engine, then one record
  /// per message in order.
  public func response(_ request: ModerateRequest, decisions: [Decision]) -> String {
    let records = zip(request.messages, decisions).map { DecisionJSON.record(id: $0.id, $1, explain: request.explain) }
    return "{\"engine\":\(engineJSON),\"results\":[\(records.joined(separator: ","))]}"
  }

  /// The response body, deciding here (no queue): what a test or a single caller needs.
  public func moderate(_ request: ModerateRequest) -> String {
    response(request, decisions: engine.decide(request.messages.map(\.text), variant: variant))
  }
}

/// Loads an engine from the files as they are now; `current` is the engine serving, whose encoder
/// a reload may reuse (rules, policy and model are small; the encoder's weights are not).
public typealias EngineLoader = @Sendable (_ current: ModerationService?) throws -> ModerationService

/// What a reload did.
public enum ReloadOutcome: Sendable {
  /// The new set serves from now on.
  case loaded(previous: ModerationService?, current: ModerationService)
  /// The files did not load; the last good set (nil before any) keeps serving.
  case kept(current: ModerationService?, reason: String)
}

/// The engine the routes decide with, nil until the first load. A reload builds the new engine
/// beside the serving one and swaps it in one step; a request holds the engine it started with, so
/// requests in flight finish on their set. Loads run one at a time, off Swift's cooperative threads
/// (they read files and weights for a second or more).
public final class EngineSlot: Sendable {
  private let current: Mutex<ModerationService?>
  private let loader: EngineLoader?
  private let metrics: ServerMetrics?
  private let loads = DispatchQueue(label: "discern.engine-load")

  public init(_ service: ModerationService? = nil, loader: EngineLoader? = nil, metrics: ServerMetrics? = nil) {
    current = Mutex(service)
    self.loader = loader
    self.metrics = metrics
  }

  /// The engine serving now.
  public var service: ModerationService? { current.withLock { $0 } }

  /// Puts `service` in, as a load would.
  public func load(_ service: ModerationService) { current.withLock { $0 = service } }

  /// Loads the files again; on success swaps the new set in, else keeps the last good one and says why.
  public func reload() async -> ReloadOutcome {
    guard let loader else { return .kept(current: service, reason: "this server was started without a loader; nothing to reload from") }
    let outcome = await withCheckedContinuation { (reply: CheckedContinuation<ReloadOutcome, Never>) in
      loads.async { [current] in
        let serving = current.withLock { $0 }
        do {
          let loaded = try loader(serving)
          current.withLock { $0 = loaded }
          reply.resume(returning: .loaded(previous: serving, current: loaded))
        } catch {
          reply.resume(returning: .kept(current: serving, reason: "\(error)"))
        }
      }
    }
    if case .loaded = outcome { metrics?.reload(succeeded: true) } else { metrics?.reload(succeeded: false) }
    return outcome
  }
}
