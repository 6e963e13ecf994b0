import Discern
import Foundation
import NIOConcurrencyHelpers
import Hummingbird
import NIOCore
import NIOPosix
import Logging
import ServiceLifecycle
import UnixSignals

/// Where `discern serve` listens and what it holds requests to.
public struct ServeConfiguration: Sendable {
  public var host: String
  public var port: Int
  /// The admin listener (`POST /admin/reload`), always bound to 127.0.0.1; nil: none.
  public var adminPort: Int?
  public var limits: ServerLimits
  public var queue: QueueSettings
  public var version: String

  public init(host: String, port: Int, adminPort: Int?, limits: ServerLimits, queue: QueueSettings, version: String) {
    self.host = host
    self.port = port
    self.adminPort = adminPort
    self.limits = limits
    self.queue = queue
    self.version = version
  }
}

/// What the server says as it runs, one line each (the CLI prints them on stderr).
public enum ServerEvent: Sendable, Equatable {
  /// A listener is accepting connections, on the port the system gave when 0 was asked.
  case listening(name: String, host: String, port: Int)
  /// The first load finished.
  case ready(engine: String)
  case reloaded(engine: String)
  case reloadKept(reason: String)
  /// SIGTERM or SIGINT: no new connections; requests in flight finish.
  case draining
  case stopped

  public var line: String {
    switch self {
    case .listening(let name, let host, let port): "\(name): http://\(host):\(port)"
    case .ready(let engine): "ready: \(engine)"
    case .reloaded(let engine): "reloaded: \(engine)"
    case .reloadKept(let reason): "reload failed; the last good rules, policy and model keep serving:\n\(reason)"
    case .draining: "draining: no new connections; finishing the requests in flight"
    case .stopped: "stopped"
    }
  }
}

/// `discern serve` assembled: the HTTP listener, the admin listener, the decision queue, reload on
/// SIGHUP, and drain on SIGTERM/SIGINT, run as one swift-service-lifecycle group. The group stops
/// its services in reverse order, so the listener drains first and the queue finishes last.
public final class ModerationServer: Sendable {
  public let configuration: ServeConfiguration
  public let slot: EngineSlot
  public let queue: DecisionQueue
  public let metrics: ServerMetrics
  let report: @Sendable (ServerEvent) -> Void

  /// The running group, for `shutdown()`.
  private let group = NIOLockedValueBox<ServiceGroup?>(nil)

  /// The review queue at `/review`, and the token it needs (nil: none; the CLI allows that only on
  /// a loopback address).
  let review: (queue: ReviewQueue, token: String?)?

  /// `queue`: the decision queue to serve from (a test's, holding decisions back); by default one
  /// with `configuration.queue` over the engine's own `decide`.
  public init(
    configuration: ServeConfiguration, loader: @escaping EngineLoader, metrics: ServerMetrics = ServerMetrics(),
    queue: DecisionQueue? = nil, review: (queue: ReviewQueue, token: String?)? = nil, report: @escaping @Sendable (ServerEvent) -> Void
  ) {
    self.review = review
    self.configuration = configuration
    self.metrics = metrics
    self.slot = EngineSlot(loader: loader, metrics: metrics)
    self.queue = queue ?? DecisionQueue(settings: configuration.queue, metrics: metrics)
    self.report = report
  }

  /// Begins the drain a SIGTERM begins.
  public func shutdown() async {
    await group.withLockedValue { $0 }?.triggerGracefulShutdown()
  }

  /// Makes the event loops that read and write the connections also run Swift's tasks, so that a
  /// request's handler, its inline decision and its response stay on the thread that read it. With
  /// the default pool each request crossed threads twice (loop → task → loop), and on these two-core
  /// VMs a thread woken on an idle core waited about 2 ms on average to run (`perf sched latency`
  /// at 50 requests/s): most of a quiet server's latency. Call once, at the start of a process
  /// whose tasks are the server's (`discern serve`), before any task runs; in-process tests keep the
  /// default pool.
  @discardableResult
  public static func runTasksOnEventLoops() -> Bool {
    NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
  }

  /// Runs until a graceful shutdown (SIGTERM, SIGINT, or `shutdown` from a test's group), then
  /// returns once every admitted request has been answered. Throws when the first load fails.
  public func run(gracefulShutdownSignals: [UnixSignal] = [.sigterm, .sigint]) async throws {
    var logger = Logger(label: "discern.serve")
    logger.logLevel = .warning
    let report = self.report
    let router = ServerRoutes.router(slot: slot, queue: queue, limits: configuration.limits, version: configuration.version, metrics: metrics)
    if let review {
      ReviewRoutes.add(to: router, review: review.queue, slot: slot, queue: queue, limits: configuration.limits, token: review.token)
    }
    let main = Application(
      router: router,
      configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
      onServerRunning: { [host = configuration.host] channel in
        report(.listening(name: "listening", host: host, port: channel.localAddress?.port ?? 0))
      },
      logger: logger)
    var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: queue)]
    if let adminPort = configuration.adminPort {
      let admin = Application(
        router: ServerRoutes.adminRouter(slot: slot, metrics: metrics),
        configuration: .init(address: .hostname("127.0.0.1", port: adminPort), serverName: nil),
        onServerRunning: { channel in report(.listening(name: "admin", host: "127.0.0.1", port: channel.localAddress?.port ?? 0)) },
        logger: logger)
      services.append(.init(service: admin))
    }
    services.append(.init(service: main))
    services.append(.init(service: ReloadOnHangup(slot: slot, report: report)))
    // The first load runs beside the listener (/readyz says 503 until it ends); its failure ends
    // the group, since the server would never become ready.
    services.append(.init(service: FirstLoad(slot: slot, report: report), successTerminationBehavior: .ignore, failureTerminationBehavior: .gracefullyShutdownGroup))
    services.append(.init(service: DrainNotice(report: report), successTerminationBehavior: .ignore))
    let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: gracefulShutdownSignals, logger: logger))
    self.group.withLockedValue { $0 = group }
    try await group.run()
    report(.stopped)
  }
}

/// Loads the engine once at start.
struct FirstLoad: Service {
  let slot: EngineSlot
  let report: @Sendable (ServerEvent) -> Void

  func run() async throws {
    switch await slot.reload() {
    case .loaded(_, let current): report(.ready(engine: current.engineJSON))
    case .kept(_, let reason): throw FirstLoadFailed(reason: reason)
    }
  }
}

/// The first load's failure, as the CLI prints it.
public struct FirstLoadFailed: Error, CustomStringConvertible {
  public let reason: String
  public var description: String { reason }
}

/// Reloads rules, policy and model on every SIGHUP until shutdown.
struct ReloadOnHangup: Service {
  let slot: EngineSlot
  let report: @Sendable (ServerEvent) -> Void

  func run() async throws {
    for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
      switch await slot.reload() {
      case .loaded(_, let current): report(.reloaded(engine: current.engineJSON))
      case .kept(_, let reason): report(.reloadKept(reason: reason))
      }
    }
  }
}

/// Says "draining" the moment a graceful shutdown begins (it is the last service, so the first told).
struct DrainNotice: Service {
  let report: @Sendable (ServerEvent) -> Void

  func run() async throws {
    try? await gracefulShutdown()
    report(.draining)
  }
}
