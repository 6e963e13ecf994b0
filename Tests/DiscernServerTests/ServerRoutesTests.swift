import Discern
import DiscernAudit
import DiscernServer
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .deletingLastPathComponent().path

/// The routes through Hummingbird's test client. Rules-only, so no test needs the encoder's weights;
/// nothing asserts a model probability, only structure and exact error text.
@Suite struct ServerRoutesTests {
  static let service: ModerationService? = {
    let rules = repositoryRoot + "/Rules", policy = rules + "/policy.yaml", model = repositoryRoot + "/Models/default"
    guard let engine = try? Engine(rules: rules, policy: policy, encoder: nil, model: model) else { return nil }
    let fingerprints = EngineFingerprints(
      rules: rules, policy: policy, model: model, variant: .rulesOnly, encoder: nil, lexicon: nil, ruleLexicons: engine.ruleSet.lexicons)
    return ModerationService(engine: engine, variant: .rulesOnly, fingerprints: fingerprints)
  }()

  static let small = ServerLimits(bodyBytes: 400, batchMessages: 3, messageBytes: 40)

  /// One queue for the suite: its thread decides with whichever engine a request brings.
  static let queue = DecisionQueue()

  func app(loaded: Bool = true, limits: ServerLimits = small, metrics: ServerMetrics = ServerMetrics()) throws -> some ApplicationProtocol {
    let slot = EngineSlot(loaded ? try #require(Self.service as ModerationService?) : nil)
    return Application(router: ServerRoutes.router(slot: slot, queue: Self.queue, limits: limits, version: "discern test", metrics: metrics))
  }

  func object(_ buffer: ByteBuffer) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any])
  }

  func moderate(_ body: String, _ check: @escaping @Sendable (TestResponse) throws -> Void) async throws {
    try await app().test(.router) { client in
      try await client.execute(uri: "/v1/moderate", method: .post, body: ByteBuffer(string: body)) { try check($0) }
    }
  }

  /// The error body's message, nil when the body is no error object.
  func errorMessage(_ response: TestResponse) -> String? {
    ((try? object(response.body))?["error"] as? [String: Any])?["message"] as? String
  }

  @Test func healthzIsUpBeforeTheEngineLoadsAndReadyzWaitsForIt() async throws {
    try await app(loaded: false).test(.router) { client in
      try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok); #expect(String(buffer: $0.body) == "{\"status\":\"up\"}\n") }
      try await client.execute(uri: "/readyz", method: .get) { #expect($0.status == .serviceUnavailable) }
      try await client.execute(uri: "/v1/moderate", method: .post, body: ByteBuffer(string: "{\"text\":\"hi\"}")) {
        #expect($0.status == .serviceUnavailable)
      }
    }
    try await app().test(.router) { client in
      try await client.execute(uri: "/readyz", method: .get) { response in
        #expect(response.status == .ok)
        #expect((try? object(response.body))?["status"] as? String == "ready")
      }
    }
  }

  @Test func versionNamesTheReleaseAndTheEngine() async throws {
    let service = try #require(Self.service)
    try await app().test(.router) { client in
      try await client.execute(uri: "/v1/version", method: .get) { response in
        let body = try object(response.body)
        #expect(body["version"] as? String == "discern test")
        let engine = try #require(body["engine"] as? [String: Any])
        #expect(engine["rules"] as? String == service.fingerprints.rules)
        #expect(engine["model"] as? String == service.fingerprints.model)
        #expect(engine["variant"] as? String == "rules")
      }
    }
  }

  @Test func aBatchOfThreeComesBackInOrderWithFingerprints() async throws {
    let service = try #require(Self.service)
    let body = #"{"messages": [{"id": "m1", "text": "see you at practice"}, {"id": "m2", "text": "hi"}, {"id": "m3", "text": "good game"}]}"#
    try await moderate(body) { response in
      #expect(response.status == .ok)
      let object = try object(response.body)
      let engine = try #require(object["engine"] as? [String: Any])
      #expect(engine["rules"] as? String == service.fingerprints.rules)
      #expect(engine["model"] as? String == service.fingerprints.model)
      #expect(engine.keys.contains("encoder"))
      let results = try #require(object["results"] as? [[String: Any]])
      #expect(results.map { $0["id"] as? String } == ["m1", "m2", "m3"])
      #expect(results.map { $0["text"] as? String } == ["see you at practice", "hi", "good game"])
      let labels = try #require(results[0]["labels"] as? [String: [String: Any]])
      #expect(Set(labels.keys) == Set(service.engine.model.labels.keys))
      for (_, label) in labels {
        #expect(Set(label.keys) == ["actions", "flagged", "probability", "threshold"])
        let probability = try #require(label["probability"] as? Double), threshold = try #require(label["threshold"] as? Double)
        #expect(label["flagged"] as? Bool == (probability >= threshold))
      }
      #expect(results[0]["rationale"] == nil)
      for key in ["scope", "spans", "urgency"] { #expect(results[0][key] != nil) }
    }
  }

  @Test func explainAddsContributionsAndTheRationaleAsTheAuditWritesThem() async throws {
    let service = try #require(Self.service)
    let text = "see you at practice"
    try await moderate(#"{"text": "\#(text)", "explain": true}"#) { response in
      let results = try #require(try object(response.body)["results"] as? [[String: Any]])
      #expect(results.count == 1)
      #expect(results[0]["id"] is NSNull)
      let decision = service.engine.decide([text], variant: .rulesOnly)[0]
      #expect(results[0]["rationale"] as? String == decision.rationale)
      let expected = try #require(try JSONSerialization.jsonObject(with: Data(DecisionJSON.line(decision).utf8)) as? [String: Any])
      #expect(NSDictionary(dictionary: results[0].filter { $0.key != "id" }).isEqual(to: expected))
    }
  }

  @Test func malformedJSONSaysTheByteOffset() async throws {
    try await moderate(#"{"text": x}"#) { response in
      #expect(response.status == .badRequest)
      #expect(errorMessage(response) == "The body is not valid JSON at byte 9: Invalid value.")
      #expect(((try? object(response.body))?["error"] as? [String: Any])?["offset"] as? Int == 9)
    }
  }

  @Test func missingTextNamesTheField() async throws {
    try await moderate(#"{"messages": [{"id": "a", "text": "hi"}, {"id": "b"}]}"#) { response in
      #expect(response.status == .badRequest)
      #expect(errorMessage(response) == #"Missing 'messages[1].text': send {"text": "…"} or {"messages": [{"id": "…", "text": "…"}]}."#)
    }
    try await moderate(#"{"explain": true}"#) { response in
      #expect(errorMessage(response) == #"Missing 'text': send {"text": "…"} or {"messages": [{"id": "…", "text": "…"}]}."#)
    }
    try await moderate(#"{"text": 3}"#) { response in
      #expect(response.status == .badRequest)
      #expect(errorMessage(response) == "'text' is a number or boolean; it must be a string.")
    }
  }

  @Test func limitsRefuseWith413AndSayWhichOption() async throws {
    try await moderate(#"{"text": "\#(String(repeating: "a", count: 41))"}"#) { response in
      #expect(response.status == .contentTooLarge)
      #expect(errorMessage(response) == "'text' is 41 bytes, over the limit of 40 (--max-message-bytes).")
    }
    let four = (1...4).map { #"{"id": "\#($0)", "text": "hi"}"# }.joined(separator: ",")
    try await moderate(#"{"messages": [\#(four)]}"#) { response in
      #expect(response.status == .contentTooLarge)
      #expect(errorMessage(response) == "'messages' has 4 messages, over the limit of 3 (--max-batch). Split the batch.")
    }
    try await moderate(#"{"text": "\#(String(repeating: "a", count: 500))"}"#) { response in
      #expect(response.status == .contentTooLarge)
      #expect(errorMessage(response) == "The request body is over 400 bytes (--max-body-bytes). Send fewer messages per request.")
    }
  }

  @Test func wrongMethodIs405AndUnknownRouteIs404() async throws {
    try await app().test(.router) { client in
      try await client.execute(uri: "/v1/moderate", method: .get) { response in
        #expect(response.status == .methodNotAllowed)
        #expect(response.headers[.allow] == "POST")
        #expect(errorMessage(response) == "GET is not allowed on /v1/moderate; use POST.")
      }
      try await client.execute(uri: "/healthz", method: .post) { #expect($0.status == .methodNotAllowed) }
      try await client.execute(uri: "/v1/nothing", method: .get) { #expect($0.status == .notFound) }
    }
  }
}
