import ArgumentParser
import Discern
import DiscernAudit
import DiscernServer
import Foundation
import Hummingbird

/// `discern serve`: options plus wiring; the routes live in DiscernServer.
struct ServeCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "serve",
    abstract: "Serve decisions over HTTP: POST /v1/moderate, GET /healthz, /readyz, /v1/version.",
    discussion: "The server listens at once; /readyz answers 503 until the engine has loaded, then 200.")

  @Option(help: "The address to listen on.")
  var host = "127.0.0.1"

  @Option(help: "The port to listen on.")
  var port = 8080

  @Flag(help: "Decide with the rules alone (the model's rules-only ablation): no encoder, much faster, less accurate.")
  var rulesOnly = false

  @Option(help: "The most bytes a request body may have.")
  var maxBodyBytes = ServerLimits.defaults.bodyBytes

  @Option(help: "The most messages one request may carry.")
  var maxBatch = ServerLimits.defaults.batchMessages

  @Option(help: "The most UTF-8 bytes one message's text may have.")
  var maxMessageBytes = ServerLimits.defaults.messageBytes

  @OptionGroup var rulesOptions: RulesOptions
  @OptionGroup var encoderOptions: EncoderOptions
  @OptionGroup var engineOptions: EngineOptions

  func validate() throws {
    for (name, value) in [("--max-body-bytes", maxBodyBytes), ("--max-batch", maxBatch), ("--max-message-bytes", maxMessageBytes)] where value < 1 {
      throw ValidationError("\(name) must be at least 1; got \(value).")
    }
    guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535; got \(port).") }
  }

  /// The root command stays synchronous (an async main moves the REPL off the main thread, where
  /// its Ctrl-C handling lives), so the server runs in a task while this thread waits for it.
  func run() throws {
    let outcome = ServeOutcome()
    let done = DispatchSemaphore(value: 0)
    Task {
      do { try await serve() } catch { outcome.set(error) }
      done.signal()
    }
    done.wait()
    if let error = outcome.error { throw error }
  }

  func serve() async throws {
    let slot = EngineSlot()
    let limits = ServerLimits(bodyBytes: maxBodyBytes, batchMessages: maxBatch, messageBytes: maxMessageBytes)
    let app = Application(
      router: ServerRoutes.router(slot: slot, limits: limits, version: discernVersion),
      configuration: .init(address: .hostname(host, port: port)))
    try await withThrowingTaskGroup(of: Void.self) { group in
      group.addTask { try await app.runService() }
      group.addTask {
        let service = try loadService()
        await slot.load(service)
        progressLine("ready: \(host):\(port) (\(service.variant.rawValue))")
      }
      // A failed load ends the server: it would never become ready.
      try await group.next()
      try await group.next()
    }
  }

  func loadService() throws -> ModerationService {
    let variant: Engine.Variant = rulesOnly ? .rulesOnly : .fused
    let encoder = rulesOnly ? nil : try encoderOptions.load(model: engineOptions.model)
    let engine = try engineOptions.load(rules: rulesOptions.rules, encoder: encoder, threads: encoderOptions.threads)
    let fingerprints = try EngineFingerprints(
      rules: rulesOptions.rules, policy: engineOptions.policy, model: engineOptions.model, variant: variant,
      encoder: engine.encoder?.fingerprint, lexicon: encoderOptions.lexicon, ruleLexicons: engine.ruleSet.lexicons)
    return ModerationService(engine: engine, variant: variant, fingerprints: fingerprints)
  }
}

/// The server task's error, handed to the waiting thread.
final class ServeOutcome: @unchecked Sendable {
  private let lock = NSLock()
  private var stored: (any Error)?
  var error: (any Error)? { lock.withLock { stored } }
  func set(_ error: any Error) { lock.withLock { stored = error } }
}
