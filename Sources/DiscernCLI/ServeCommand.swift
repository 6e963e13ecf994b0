import ArgumentParser
import Discern
import DiscernAudit
import DiscernEncoder
import DiscernModel
import DiscernRules
import DiscernServer
import DiscernVerdicts
import Foundation
import Hummingbird
import NIOConcurrencyHelpers

/// `discern serve`: options plus wiring; the routes live in DiscernServer.
struct ServeCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "serve",
    abstract: "Serve decisions over HTTP: POST /v1/moderate, GET /healthz, /readyz, /v1/version, /metrics.",
    discussion: """
      The server listens at once; /readyz answers 503 until the engine has loaded, then 200.
      Reload rules, policy and model with SIGHUP or POST /admin/reload on the admin port (127.0.0.1 only); \
      a broken edit keeps the last good set and says why. SIGTERM or SIGINT drains: no new connections, \
      requests in flight are answered, then the server exits.
      """)

  @Option(help: "The address to listen on.")
  var host = "127.0.0.1"

  @Option(help: "The port to listen on (0: one the system chooses, printed at start).")
  var port = 8080

  @Option(help: "The admin port (POST /admin/reload), bound to 127.0.0.1 only. Default: --port + 1 (0 when --port is 0).")
  var adminPort: Int?

  @Flag(help: "No admin listener (reload with SIGHUP only).")
  var noAdmin = false

  @Flag(help: "Decide with the rules alone (the model's rules-only ablation): no encoder, much faster, less accurate.")
  var rulesOnly = false

  @Option(help: "The most bytes a request body may have.")
  var maxBodyBytes = ServerLimits.defaults.bodyBytes

  @Option(help: "The most messages one request may carry.")
  var maxBatch = ServerLimits.defaults.batchMessages

  @Option(help: "The most UTF-8 bytes one message's text may have.")
  var maxMessageBytes = ServerLimits.defaults.messageBytes

  @Option(help: "The most messages waiting to be decided; past it a request is answered 503 with Retry-After.")
  var queueLimit = QueueSettings.defaults.capacity

  @Option(help: "The most messages the encoder reads in one batch (concurrent requests share batches).")
  var batchMessages = QueueSettings.defaults.batchMessages

  @Option(help: "Milliseconds a batch waits for more requests before it runs (0: it takes what arrived while the last one ran).")
  var batchWaitMs = 0.0

  @Option(help: "A SQLite file for moderators' verdicts: serves the review queue at /review (created when absent).")
  var verdicts: String?

  @Option(name: .customLong("review"), help: "An audit's JSONL records to put in the review queue, most urgent first (needs --verdicts; repeatable).")
  var reviewFiles: [String] = []

  @Option(help: "A token the review queue requires (open /review?token=…); needed when --host is not a loopback address.")
  var reviewToken: String?

  @OptionGroup var rulesOptions: RulesOptions
  @OptionGroup var encoderOptions: EncoderOptions
  @OptionGroup var engineOptions: EngineOptions

  func validate() throws {
    for (name, value) in [
      ("--max-body-bytes", maxBodyBytes), ("--max-batch", maxBatch), ("--max-message-bytes", maxMessageBytes), ("--queue-limit", queueLimit),
      ("--batch-messages", batchMessages),
    ] where value < 1 {
      throw ValidationError("\(name) must be at least 1; got \(value).")
    }
    for (name, value) in [("--port", port), ("--admin-port", adminPort ?? 0)] where !(0...65535).contains(value) {
      throw ValidationError("\(name) must be between 0 and 65535; got \(value).")
    }
    guard queueLimit >= maxBatch else {
      throw ValidationError("--queue-limit (\(queueLimit)) must be at least --max-batch (\(maxBatch)), or a full batch request could never be admitted.")
    }
    if !reviewFiles.isEmpty && verdicts == nil {
      throw ValidationError("--review needs --verdicts FILE: the SQLite file the moderators' verdicts are kept in.")
    }
    if verdicts != nil && reviewToken == nil && !["127.0.0.1", "localhost", "::1"].contains(host) {
      throw ValidationError("The review queue on --host \(host) is reachable from other machines: give it --review-token TOKEN, or serve it on 127.0.0.1.")
    }
    guard (0...1000).contains(batchWaitMs) else { throw ValidationError("--batch-wait-ms must be between 0 and 1000; got \(batchWaitMs).") }
  }

  /// The root command stays synchronous (an async main moves the REPL off the main thread, where
  /// its Ctrl-C handling lives), so the server runs in a task while this thread waits for it.
  func run() throws {
    ModerationServer.runTasksOnEventLoops()
    let outcome = NIOLockedValueBox<(any Error)?>(nil)
    let done = DispatchSemaphore(value: 0)
    Task {
      do { try await serve() } catch { outcome.withLockedValue { $0 = error } }
      done.signal()
    }
    done.wait()
    if let error = outcome.withLockedValue({ $0 }) { throw error }
  }

  func serve() async throws {
    let configuration = ServeConfiguration(
      host: host, port: port, adminPort: noAdmin ? nil : (adminPort ?? (port == 0 ? 0 : port + 1)),
      limits: ServerLimits(bodyBytes: maxBodyBytes, batchMessages: maxBatch, messageBytes: maxMessageBytes),
      queue: QueueSettings(capacity: queueLimit, batchMessages: batchMessages, batchWait: .microseconds(Int64(batchWaitMs * 1000))),
      version: discernVersion)
    let server = ModerationServer(configuration: configuration, loader: { try loadService(current: $0) }, review: try reviewQueue()) {
      progressLine($0.line)
    }
    try await server.run()
  }

  /// The review queue over `--verdicts`, holding the `--review` audits' records; nil without `--verdicts`.
  func reviewQueue() throws -> (queue: ReviewQueue, token: String?)? {
    guard let verdicts else { return nil }
    let (policy, diagnostics) = Policy.load(path: try engineOptions.policy)
    guard let policy else {
      progressLine(diagnostics.map(\.description).joined(separator: "\n"))
      throw ExitCode.failure
    }
    do {
      let queue = ReviewQueue(store: try VerdictStore(path: verdicts), labels: policy.labels.map(\.name))
      for file in reviewFiles {
        let (added, errors) = try queue.add(auditFile: file)
        progressLine("review: \(added) records from \(file)" + (errors > 0 ? " (\(errors) error records left out: nothing to review)" : ""))
      }
      return (queue, reviewToken)
    } catch {
      progressLine("error: \(error)")
      throw ExitCode.failure
    }
  }

  /// Reads rules, policy and model as they are on disk now. A reload keeps the serving encoder when
  /// the model was trained on it (its weights are most of the load); a model trained on another
  /// encoder loads that one.
  func loadService(current: ModerationService?) throws -> ModerationService {
    let variant: Engine.Variant = rulesOnly ? .rulesOnly : .fused
    let model = try engineOptions.model, rules = try rulesOptions.rules, policy = try engineOptions.policy
    // The engine's own error, not the CLI's exit: a reload answers it (diagnostics with file:line:col).
    let engine: Engine
    do {
      let encoder = rulesOnly ? nil : try current?.engine.encoder ?? encoderOptions.make(model: model)
      engine = try Engine(rules: rules, policy: policy, encoder: encoder, model: model, threads: encoderOptions.threads)
    } catch EngineError.model(.otherEncoder) {
      // The model was trained on another encoder than the one serving: load that one.
      engine = try Engine(rules: rules, policy: policy, encoder: try encoderOptions.make(model: model), model: model, threads: encoderOptions.threads)
    }
    for warning in engine.warnings { progressLine("warning: \(warning)") }
    let fingerprints = EngineFingerprints(
      rules: rules, policy: policy, model: model, variant: variant,
      encoder: engine.encoder?.fingerprint, lexicon: encoderOptions.lexicon, ruleLexicons: engine.ruleSet.lexicons)
    return ModerationService(engine: engine, variant: variant, fingerprints: fingerprints)
  }
}
