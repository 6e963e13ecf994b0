import Discern
import DiscernAudit
import DiscernServer
import Foundation
import Hummingbird
import NIOConcurrencyHelpers
import HummingbirdTesting
import Testing

/// Holds the decision thread back until opened, and counts the batches that reached it: a test can
/// then fill the queue, reload, or drain while a request is known to be in flight.
final class Gate: @unchecked Sendable {
  private let lock = NSLock()
  private var open = false
  private var arrived = 0
  private var batchSizes: [Int] = []

  var batches: Int { lock.withLock { arrived } }
  var sizes: [Int] { lock.withLock { batchSizes } }

  func opened() { lock.withLock { open = true } }

  /// A decide function that waits at the gate.
  func deciding(_ service: ModerationService, _ texts: [String]) -> [Decision] {
    lock.withLock {
      arrived += 1
      batchSizes.append(texts.count)
    }
    while !lock.withLock({ open }) { usleep(1000) }
    return service.engine.decide(texts, variant: service.variant)
  }

  /// Waits (polling, off no thread) until `count` batches have reached the gate.
  func waitFor(batches count: Int) async throws {
    for _ in 0..<5000 where batches < count { try await Task.sleep(for: .milliseconds(2)) }
    #expect(batches >= count)
  }
}

/// A copy of the shipped rules in a temporary folder, and rules-only engines loaded from it as it
/// stands: what a reload reads after a moderator's edit.
struct RulesFolder {
  let root: String
  var rules: String { root + "/Rules" }

  init() throws {
    root = FileManager.default.temporaryDirectory.appendingPathComponent("serve-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    for name in ["Rules", "Lexicons"] { try FileManager.default.copyItem(atPath: repositoryRoot + "/" + name, toPath: root + "/" + name) }
  }

  func append(_ text: String, to pack: String) throws {
    let path = rules + "/" + pack
    try (try String(contentsOfFile: path, encoding: .utf8) + text).write(toFile: path, atomically: true, encoding: .utf8)
  }

  /// Loads rules-only from the folder as it is now; throws the engine's own error.
  var loader: EngineLoader {
    { [rules] _ in
      let policy = rules + "/policy.yaml", model = repositoryRoot + "/Models/default"
      let engine = try Engine(rules: rules, policy: policy, encoder: nil, model: model)
      let fingerprints = EngineFingerprints(
        rules: rules, policy: policy, model: model, variant: .rulesOnly, encoder: nil, lexicon: nil, ruleLexicons: engine.ruleSet.lexicons)
      return ModerationService(engine: engine, variant: .rulesOnly, fingerprints: fingerprints)
    }
  }
}

func jsonObject(_ buffer: ByteBuffer?) -> [String: Any] {
  guard let buffer, let object = try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any] else { return [:] }
  return object
}

/// The rules hash a moderation response names.
func rulesHash(_ buffer: ByteBuffer?) -> String? { (jsonObject(buffer)["engine"] as? [String: Any])?["rules"] as? String }

@Suite struct ServerLifecycleTests {
  static let moderate = ByteBuffer(string: "{\"text\":\"I want to die\"}")
  /// Every request through the queue's thread: a test that holds a decision at its gate must not hold
  /// one of the few threads that run the tests' own tasks, as a request decided inline would.
  static let queuedOnly = QueueSettings(capacity: 2048, batchMessages: 64, batchWait: .zero, inlineLimit: 0)

  /// A lone request when nothing is queued is decided on its own thread, without the hand-off to the
  /// queue's thread and back, so /metrics shows it decided but never queued; a larger one still goes
  /// through the queue (and waits there, however briefly).
  @Test func aLoneSmallRequestIsDecidedWithoutTheQueueThread() async throws {
    let folder = try RulesFolder()
    let metrics = ServerMetrics()
    let queue = DecisionQueue(settings: QueueSettings(capacity: 64, batchMessages: 64, batchWait: .zero, inlineLimit: 2), metrics: metrics)
    defer { queue.stop() }
    let service = try folder.loader(nil)
    func counts() -> (decided: String?, queued: String?) {
      let lines = metrics.exposition().split(separator: "\n")
      func value(_ name: String) -> String? { lines.first { $0.hasPrefix(name + " ") }.map { String($0.split(separator: " ")[1]) } }
      return (value("discern_batch_decide_seconds_count"), value("discern_queue_wait_seconds_count"))
    }
    #expect(try await queue.decide(["alone"], with: service).map(\.text) == ["alone"])
    #expect(counts().decided == "1" && (counts().queued ?? "0") == "0", "\(counts())")
    #expect(try await queue.decide(["one", "two", "three"], with: service).map(\.text) == ["one", "two", "three"])
    #expect(counts().decided == "2" && counts().queued == "1", "\(counts())")
  }

  @Test func metricsCountRequestsByRouteFlagsPerLabelAndErrors() async throws {
    let folder = try RulesFolder()
    let metrics = ServerMetrics()
    let slot = EngineSlot(try folder.loader(nil))
    let queue = DecisionQueue(metrics: metrics)
    defer { queue.stop() }
    let app = Application(router: ServerRoutes.router(slot: slot, queue: queue, limits: .defaults, version: "t", metrics: metrics))
    try await app.test(.router) { client in
      try await client.execute(uri: "/v1/moderate", method: .post, body: Self.moderate) { #expect($0.status == .ok) }
      try await client.execute(uri: "/v1/moderate", method: .post, body: ByteBuffer(string: "{\"text\": ")) { #expect($0.status == .badRequest) }
      try await client.execute(uri: "/metrics", method: .get) { response in
        #expect(response.status == .ok)
        #expect(response.headers[.contentType] == "text/plain; version=0.0.4; charset=utf-8")
        let text = String(buffer: response.body)
        #expect(text.contains("discern_http_requests_total{route=\"/v1/moderate\",method=\"POST\",status=\"200\"} 1\n"))
        #expect(text.contains("discern_http_requests_total{route=\"/v1/moderate\",method=\"POST\",status=\"400\"} 1\n"))
        #expect(text.contains("discern_http_errors_total{route=\"/v1/moderate\",method=\"POST\",status=\"400\"} 1\n"))
        #expect(!text.contains("discern_http_errors_total{route=\"/v1/moderate\",method=\"POST\",status=\"200\"}"))
        #expect(text.contains("discern_flags_total{label=\"self_harm\"} 1\n"))
        #expect(text.contains("discern_messages_total 1\n"))
        #expect(text.contains("discern_queue_depth 0"))
        #expect(text.contains("discern_http_request_duration_seconds_bucket{route=\"/v1/moderate\",le=\"0.01\"}"))
        #expect(text.contains("discern_encoder_batch_messages_count 1\n"))
      }
    }
  }

  @Test func aFullQueueAnswers503WithRetryAfterAndTheAdmittedRequestsAreAnswered() async throws {
    let folder = try RulesFolder()
    let gate = Gate()
    let queue = DecisionQueue(settings: QueueSettings(capacity: 2, batchMessages: 1, batchWait: .zero, inlineLimit: 0), decide: gate.deciding)
    defer { queue.stop() }
    let slot = EngineSlot(try folder.loader(nil))
    let app = Application(router: ServerRoutes.router(slot: slot, queue: queue, limits: .defaults, version: "t", metrics: ServerMetrics()))
    try await app.test(.router) { client in
      // One request in the decision thread, two waiting: the queue (capacity 2) is full.
      let held = Task { try await client.execute(uri: "/v1/moderate", method: .post, body: Self.moderate) { $0.status } }
      try await gate.waitFor(batches: 1)
      let waiting = (0..<2).map { _ in Task { try await client.execute(uri: "/v1/moderate", method: .post, body: Self.moderate) { $0.status } } }
      for _ in 0..<2000 where queue.waiting < 2 { try await Task.sleep(for: .milliseconds(2)) }
      #expect(queue.waiting == 2)
      try await client.execute(uri: "/v1/moderate", method: .post, body: Self.moderate) { response in
        #expect(response.status == .serviceUnavailable)
        #expect(response.headers[.retryAfter] == "1")
        let error = jsonObject(response.body)["error"] as? [String: Any]
        #expect(error?["code"] as? String == "overloaded")
        #expect(error?["message"] as? String == "The decision queue is full (2 messages waiting, --queue-limit 2); retry after 1 s.")
      }
      gate.opened()
      #expect(try await held.value == .ok)
      for request in waiting { #expect(try await request.value == .ok) }
    }
  }

  @Test func concurrentRequestsShareAnEncoderBatch() async throws {
    let folder = try RulesFolder()
    let gate = Gate()
    let queue = DecisionQueue(settings: QueueSettings(capacity: 64, batchMessages: 16, batchWait: .zero, inlineLimit: 0), decide: gate.deciding)
    defer { queue.stop() }
    let service = try folder.loader(nil)
    let held = Task { try await queue.decide(["first"], with: service) }
    try await gate.waitFor(batches: 1)
    // Five requests arrive while the first batch is held; they go through as one batch.
    let texts = (0..<5).map { "message \($0)" }
    let rest = texts.map { text in Task { try await queue.decide([text], with: service) } }
    for _ in 0..<2000 where queue.waiting < 5 { try await Task.sleep(for: .milliseconds(2)) }
    gate.opened()
    _ = try await held.value
    for (request, text) in zip(rest, texts) { #expect(try await request.value.map(\.text) == [text]) }
    #expect(gate.sizes == [1, 5])
  }

  @Test func aRequestInFlightFinishesOnTheRulesItStartedWithAndTheNextUsesTheReloadedOnes() async throws {
    let folder = try RulesFolder()
    let gate = Gate()
    let queue = DecisionQueue(settings: Self.queuedOnly, decide: gate.deciding)
    defer { queue.stop() }
    let metrics = ServerMetrics()
    let slot = EngineSlot(try folder.loader(nil), loader: folder.loader, metrics: metrics)
    let before = try #require(slot.service?.fingerprints.rules)
    let app = Application(router: ServerRoutes.router(slot: slot, queue: queue, limits: .defaults, version: "t", metrics: metrics))
    let admin = Application(router: ServerRoutes.adminRouter(slot: slot, metrics: metrics))
    try await app.test(.router) { client in
      let held = Task { try await client.execute(uri: "/v1/moderate", method: .post, body: Self.moderate) { rulesHash($0.body) } }
      try await gate.waitFor(batches: 1)
      try folder.append("\n# a comment a moderator added\n", to: "hyperbole.yaml")
      try await admin.test(.router) { adminClient in
        try await adminClient.execute(uri: "/admin/reload", method: .post) { response in
          #expect(response.status == .ok)
          #expect(jsonObject(response.body)["status"] as? String == "reloaded")
          #expect((jsonObject(response.body)["previous"] as? [String: Any])?["rules"] as? String == before)
        }
      }
      let after = try #require(slot.service?.fingerprints.rules)
      #expect(after != before)
      gate.opened()
      #expect(try await held.value == before)
      try await client.execute(uri: "/v1/moderate", method: .post, body: Self.moderate) { #expect(rulesHash($0.body) == after) }
    }
  }

  @Test func aBrokenEditIsRefusedWithItsDiagnosticAndTheLastGoodRulesKeepServing() async throws {
    let folder = try RulesFolder()
    let metrics = ServerMetrics()
    let slot = EngineSlot(try folder.loader(nil), loader: folder.loader, metrics: metrics)
    let queue = DecisionQueue()
    defer { queue.stop() }
    let before = try #require(slot.service?.fingerprints.rules)
    try folder.append("  - id: hyperbole.extra\n    kind: pattern\n    patern: 'zzq'\n    description: a typo\n", to: "hyperbole.yaml")
    let admin = Application(router: ServerRoutes.adminRouter(slot: slot, metrics: metrics))
    try await admin.test(.router) { client in
      try await client.execute(uri: "/admin/reload", method: .post) { response in
        #expect(response.status == .unprocessableContent)
        let body = jsonObject(response.body)
        #expect(body["status"] as? String == "kept_last_good")
        #expect((body["engine"] as? [String: Any])?["rules"] as? String == before)
        let message = try #require((body["error"] as? [String: Any])?["message"] as? String)
        #expect(message.contains("/Rules/hyperbole.yaml:"))
        #expect(message.contains("error: unknown key 'patern' in rule 'hyperbole.extra'; did you mean 'pattern'?"))
        #expect(message.contains("    patern: 'zzq'\n    ^"))
      }
    }
    let app = Application(router: ServerRoutes.router(slot: slot, queue: queue, limits: .defaults, version: "t", metrics: metrics))
    try await app.test(.router) { client in
      try await client.execute(uri: "/v1/moderate", method: .post, body: Self.moderate) { response in
        #expect(response.status == .ok)
        #expect(rulesHash(response.body) == before)
      }
      try await client.execute(uri: "/metrics", method: .get) { #expect(String(buffer: $0.body).contains("discern_reloads_total{outcome=\"kept_last_good\"} 1\n")) }
    }
  }

  /// A live server (real sockets, port 0) under four clients while the rules are reloaded again and
  /// again: every request is answered 200, by the rules before or after an edit, never by neither.
  @Test func reloadUnderSustainedLoadFailsNoRequest() async throws {
    let folder = try RulesFolder()
    let ports = NIOLockedValueBox<[String: Int]>([:])
    let ready = NIOLockedValueBox(false)
    let server = ModerationServer(
      configuration: ServeConfiguration(host: "127.0.0.1", port: 0, adminPort: 0, limits: .defaults, queue: .defaults, version: "t"),
      loader: folder.loader
    ) { event in
      switch event {
      case .listening(let name, _, let port): ports.withLockedValue { $0[name] = port }
      case .ready: ready.withLockedValue { $0 = true }
      default: break
      }
    }
    let running = Task { try await server.run(gracefulShutdownSignals: []) }
    for _ in 0..<5000 where !(ready.withLockedValue { $0 } && ports.withLockedValue { $0.count } == 2) { try await Task.sleep(for: .milliseconds(2)) }
    let port = try #require(ports.withLockedValue { $0["listening"] }), adminPort = try #require(ports.withLockedValue { $0["admin"] })
    let first = try #require(server.slot.service?.fingerprints.rules)

    let stop = NIOLockedValueBox(false)
    let load = (0..<4).map { _ in
      Task {
        try await TestClient.withClient(host: "127.0.0.1", port: port) { client in
          var outcomes: [(HTTPResponse.Status, String?)] = []
          while !stop.withLockedValue({ $0 }) {
            let response = try await client.execute(.init("/v1/moderate", method: .post, body: Self.moderate))
            outcomes.append((response.status, rulesHash(response.body)))
          }
          return outcomes
        }
      }
    }
    let hashes = try await TestClient.withClient(host: "127.0.0.1", port: adminPort) { admin in
      var hashes = [first]
      for round in 0..<6 {
        try await Task.sleep(for: .milliseconds(60))
        try folder.append("\n# edit \(round)\n", to: "hyperbole.yaml")
        let response = try await admin.execute(.init("/admin/reload", method: .post))
        #expect(response.head.status == .ok)
        if let hash = (jsonObject(response.body)["engine"] as? [String: Any])?["rules"] as? String { hashes.append(hash) }
      }
      return hashes
    }
    try await Task.sleep(for: .milliseconds(60))
    stop.withLockedValue { $0 = true }
    var answered = 0
    var seen = Set<String>()
    for client in load {
      for (status, hash) in try await client.value {
        #expect(status == .ok)
        #expect(hash.map(hashes.contains) == true)
        answered += 1
        if let hash { seen.insert(hash) }
      }
    }
    await server.shutdown()
    try await running.value
    #expect(hashes.count == 7)
    #expect(answered > 20)
    #expect(seen.count >= 3)  // the load saw the rules change under it
  }

  /// SIGTERM's drain, begun by `shutdown()`: the request already admitted is answered before the
  /// server stops.
  @Test func drainAnswersTheRequestInFlightBeforeStopping() async throws {
    let folder = try RulesFolder()
    let gate = Gate()
    let events = NIOLockedValueBox<[ServerEvent]>([])
    let ports = NIOLockedValueBox<Int?>(nil)
    let server = ModerationServer(
      configuration: ServeConfiguration(host: "127.0.0.1", port: 0, adminPort: nil, limits: .defaults, queue: .defaults, version: "t"),
      loader: folder.loader, queue: DecisionQueue(settings: Self.queuedOnly, decide: gate.deciding)
    ) { event in
      events.withLockedValue { $0.append(event) }
      if case .listening(_, _, let port) = event { ports.withLockedValue { $0 = port } }
    }
    let running = Task { try await server.run(gracefulShutdownSignals: []) }
    for _ in 0..<5000 where server.slot.service == nil || ports.withLockedValue({ $0 }) == nil { try await Task.sleep(for: .milliseconds(2)) }
    let port = try #require(ports.withLockedValue { $0 })
    let held = Task {
      try await TestClient.withClient(host: "127.0.0.1", port: port) { client in
        try await client.execute(.init("/v1/moderate", method: .post, body: Self.moderate)).head.status
      }
    }
    try await gate.waitFor(batches: 1)
    await server.shutdown()
    for _ in 0..<2000 where !events.withLockedValue({ $0.contains(.draining) }) { try await Task.sleep(for: .milliseconds(2)) }
    #expect(!events.withLockedValue { $0.contains(.stopped) })
    gate.opened()
    #expect(try await held.value == .ok)
    try await running.value
    #expect(events.withLockedValue { Array($0.suffix(2)) } == [.draining, .stopped])
  }
}
