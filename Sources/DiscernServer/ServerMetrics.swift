import CoreMetrics
import Foundation
import Metrics
import NIOConcurrencyHelpers
import Prometheus

/// What `GET /metrics` reports, in Prometheus text format. The metrics are swift-metrics handles made
/// by a Prometheus factory over this server's own registry (not the process-wide bootstrap), so two
/// servers in one process — the tests — each count only their own traffic.
public final class ServerMetrics: Sendable {
  public let registry: PrometheusCollectorRegistry
  let factory: PrometheusMetricsFactory

  /// Request latency buckets: the budget is 10 ms, so most of the resolution sits below it.
  static let latencyBuckets: [Duration] = [
    .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(3), .milliseconds(5), .milliseconds(7),
    .milliseconds(10), .milliseconds(15), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
    .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5),
  ]
  /// Messages per encoder batch.
  static let batchBuckets: [Double] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]

  let queueDepth: CoreMetrics.Gauge
  let inFlight: CoreMetrics.Meter
  let batchSize: CoreMetrics.Recorder
  /// How long one batch takes to decide (encoder, rules, fusion), and how long a request waits in the
  /// queue before its batch starts: with the request latency, where a slow request's time went.
  let decideTime: CoreMetrics.Timer
  let queueWait: CoreMetrics.Timer
  let messages: CoreMetrics.Counter
  let overloads: CoreMetrics.Counter
  /// Counters and timers made on first use, by name and dimensions (routes, labels and rules are
  /// known only as traffic arrives).
  private let counters = NIOLockedValueBox<[String: CoreMetrics.Counter]>([:])
  private let timers = NIOLockedValueBox<[String: CoreMetrics.Timer]>([:])

  public init() {
    registry = PrometheusCollectorRegistry()
    var factory = PrometheusMetricsFactory(registry: registry)
    factory.defaultDurationHistogramBuckets = Self.latencyBuckets
    factory.defaultValueHistogramBuckets = Self.batchBuckets
    self.factory = factory
    queueDepth = CoreMetrics.Gauge(label: "discern_queue_depth", factory: factory)
    inFlight = CoreMetrics.Meter(label: "discern_http_requests_in_flight", factory: factory)
    batchSize = CoreMetrics.Recorder(label: "discern_encoder_batch_messages", aggregate: true, factory: factory)
    messages = CoreMetrics.Counter(label: "discern_messages_total", factory: factory)
    decideTime = CoreMetrics.Timer(label: "discern_batch_decide_seconds", factory: factory)
    queueWait = CoreMetrics.Timer(label: "discern_queue_wait_seconds", factory: factory)
    overloads = CoreMetrics.Counter(label: "discern_overload_rejections_total", factory: factory)
  }

  /// The Prometheus text exposition of everything counted so far.
  public func exposition() -> String { registry.emitToString() }

  /// One finished request: counted by route, method and status, and among the errors when its
  /// status is 4xx or 5xx; timed by route.
  func request(route: String, method: String, status: Int, seconds: Double) {
    let dimensions = [("route", route), ("method", method), ("status", String(status))]
    counter("discern_http_requests_total", dimensions).increment()
    if status >= 400 { counter("discern_http_errors_total", dimensions).increment() }
    let timer = timers.withLockedValue { timers in
      if let timer = timers[route] { return timer }
      let timer = CoreMetrics.Timer(label: "discern_http_request_duration_seconds", dimensions: [("route", route)], factory: factory)
      timers[route] = timer
      return timer
    }
    timer.recordNanoseconds(Int64(seconds * 1e9))
  }

  func flagged(label: String) { counter("discern_flags_total", [("label", label)]).increment() }

  /// A rule that stopped at a PCRE2 limit (its match is then unknown, and the decision says so).
  func limitEvent(rule: String) { counter("discern_rule_limit_events_total", [("rule", rule)]).increment() }

  func reload(succeeded: Bool) {
    counter("discern_reloads_total", [("outcome", succeeded ? "loaded" : "kept_last_good")]).increment()
  }

  private func counter(_ name: String, _ dimensions: [(String, String)]) -> CoreMetrics.Counter {
    let key = ([name] + dimensions.map { $0.0 + "=" + $0.1 }).joined(separator: "\u{1}")
    return counters.withLockedValue { counters in
      if let counter = counters[key] { return counter }
      let counter = CoreMetrics.Counter(label: name, dimensions: dimensions, factory: factory)
      counters[key] = counter
      return counter
    }
  }
}
