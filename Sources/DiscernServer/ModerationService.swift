import Discern
import DiscernAudit
import Foundation
import NIOConcurrencyHelpers

/// One loaded engine and what identifies it: every response names the rules hash, model hash and
/// encoder fingerprint that decided it, as an audit record does.
public struct ModerationService: Sendable {
  public let engine: Engine
  public let variant: Engine.Variant
  public let fingerprints: EngineFingerprints
  /// `{"encoder": …, "model": …, "rules": …, "variant": …}`; `encoder` is null for rules-only.
  /// Written once here: every response carries it.
  public let engineJSON: String

  public init(engine: Engine, variant: Engine.Variant, fingerprints: EngineFingerprints) {
    self.engine = engine
    self.variant = variant
    self.fingerprints = fingerprints
    let encoder = fingerprints.encoder.map(DecisionJSON.string) ?? "null"
    engineJSON = "{\"encoder\":\(encoder),\"model\":\(DecisionJSON.string(fingerprints.model)),\"rules\":\(DecisionJSON.string(fingerprints.rules)),\"variant\":\(DecisionJSON.string(variant.rawValue))}"
  }

  /// The response body for a checked request decided by this engine: the engine, then one record
  /// per message in order.
  public func response(_ request: ModerateRequest, decisions: [Decision]) -> String {
    let records = zip(request.messages, decisions).map { DecisionJSON.record(id: $0.id, $1, explain: request.explain) }
    return "{\"engine\":\(engineJSON),\"results\":[\(records.joined(separator: ","))]}"
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
  private let current: NIOLockedValueBox<ModerationService?>
  private let loader: EngineLoader?
  private let metrics: ServerMetrics?
  private let loads = DispatchQueue(label: "discern.engine-load")

  public init(_ service: ModerationService? = nil, loader: EngineLoader? = nil, metrics: ServerMetrics? = nil) {
    current = NIOLockedValueBox(service)
    self.loader = loader
    self.metrics = metrics
  }

  /// The engine serving now.
  public var service: ModerationService? { current.withLockedValue { $0 } }

  /// Loads the files again; on success swaps the new set in, else keeps the last good one and says why.
  public func reload() async -> ReloadOutcome {
    guard let loader else { return .kept(current: service, reason: "this server was started without a loader; nothing to reload from") }
    let outcome = await withCheckedContinuation { (reply: CheckedContinuation<ReloadOutcome, Never>) in
      loads.async { [current] in
        let serving = current.withLockedValue { $0 }
        do {
          let loaded = try loader(serving)
          current.withLockedValue { $0 = loaded }
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
