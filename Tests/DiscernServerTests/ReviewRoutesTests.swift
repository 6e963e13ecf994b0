import Discern
import DiscernServer
import DiscernVerdicts
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// The review queue's API: what it accepts, the exact text of what it refuses, the token.
@Suite struct ReviewRoutesTests {
  struct Fixture {
    let router: Router<BasicRequestContext>
    let review: ReviewQueue
    let database: String
  }

  func fixture(token: String? = nil) throws -> Fixture {
    let folder = try RulesFolder()
    let service = try folder.loader(nil)
    let database = folder.root + "/verdicts.sqlite"
    let review = ReviewQueue(store: try VerdictStore(path: database), labels: service.engine.policy.labels.map(\.name))
    let slot = EngineSlot(service)
    let queue = ServerRoutesTests.queue
    let router = ServerRoutes.router(slot: slot, queue: queue, limits: .defaults, version: "t", metrics: ServerMetrics())
    ReviewRoutes.add(to: router, review: review, slot: slot, queue: queue, limits: .defaults, token: token)
    return Fixture(router: router, review: review, database: database)
  }

  func message(_ response: TestResponse) -> String? { (jsonObject(response.body)["error"] as? [String: Any])?["message"] as? String }

  @Test func messagesPostedAreDecidedQueuedMostUrgentFirstAndVerdictsAreStoredWithTheEngineThatDecided() async throws {
    let fixture = try fixture()
    try await Application(router: fixture.router).test(.router) { client in
      let body = #"{"messages": [{"id": "a", "text": "see you at practice"}, {"id": "b", "text": "I want to die tonight"}]}"#
      try await client.execute(uri: "/review/api/items", method: .post, body: ByteBuffer(string: body)) { response in
        #expect(response.status == .ok)
        #expect(String(buffer: response.body) == "{\"added\":2,\"queued\":2}\n")
      }
      try await client.execute(uri: "/review/api/queue", method: .get) { response in
        let items = try #require(jsonObject(response.body)["items"] as? [[String: Any]])
        #expect(items.map { $0["id"] as? String } == ["b", "a"])
        #expect(items.map { $0["reviewed"] as? Bool } == [false, false])
        #expect(((items[0]["record"] as? [String: Any])?["rationale"] as? String)?.isEmpty == false)
      }
      let verdict = #"{"id": "b", "moderator": "casey", "verdicts": [{"label": "self_harm", "applies": true}], "spans": [{"start": 0, "end": 13, "type": "serious_intent"}]}"#
      try await client.execute(uri: "/review/api/verdicts", method: .post, body: ByteBuffer(string: verdict)) { response in
        #expect(response.status == .ok)
        #expect(String(buffer: response.body) == "{\"saved\":1}\n")
      }
      try await client.execute(uri: "/review/api/queue", method: .get) { response in
        let items = try #require(jsonObject(response.body)["items"] as? [[String: Any]])
        #expect(items[0]["reviewed"] as? Bool == true)
        #expect(items[0]["verdicts"] as? [String: Bool] == ["self_harm": true])
        #expect((items[0]["markedSpans"] as? [[String: Any]])?.first?["end"] as? Int == 13)
      }
    }
    let stored = try VerdictStore(path: fixture.database).all()
    #expect(stored.count == 1)
    #expect(stored[0].messageID == "b" && stored[0].applies && stored[0].engineFlagged && stored[0].moderator == "casey")
    #expect(stored[0].rulesHash.hasPrefix("fnv1a64:") && stored[0].encoderFingerprint == nil)
    #expect(stored[0].spans == [VerdictSpan(start: 0, end: 13, type: "serious_intent")])
  }

  @Test func aVerdictOnSomethingUnknownIsRefusedWithWhatIsWrong() async throws {
    let fixture = try fixture()
    try await Application(router: fixture.router).test(.router) { client in
      try await client.execute(uri: "/review/api/items", method: .post, body: ByteBuffer(string: #"{"text": "hi there"}"#)) { #expect($0.status == .ok) }
      let cases: [(String, HTTPResponse.Status, String)] = [
        (#"{"id": "nope", "moderator": "casey", "verdicts": [{"label": "self_harm", "applies": true}]}"#, .notFound,
         "No message 'nope' in the review queue; reload the page."),
        (#"{"id": "api-1", "moderator": "casey", "verdicts": [{"label": "selfharm", "applies": true}]}"#, .badRequest,
         "'selfharm' is not a label of this policy; its labels: self_harm, harming_others, harmed_by_others, reference_to_harm."),
        (#"{"id": "api-1", "verdicts": [{"label": "self_harm", "applies": true}]}"#, .badRequest, "Missing 'moderator': every verdict says who gave it."),
        (#"{"id": "api-1", "moderator": "casey", "verdicts": [{"label": "self_harm", "applies": true}], "spans": [{"start": 3, "end": 40, "type": "serious_intent"}]}"#,
         .badRequest, "spans[0] is [3, 40), outside the message's 8 characters (offsets are Unicode scalars, start < end)."),
        (#"{"id": "api-1", "moderator": "casey", "verdicts": [{"label": "self_harm", "applies": true}], "spans": [{"start": 0, "end": 2, "type": "self_harm"}]}"#,
         .badRequest,
         "'self_harm' is not a span type; one of: serious_intent, casual_mention, past, present, recovery, negation, toward_others, by_others, between_others."),
      ]
      for (body, status, text) in cases {
        try await client.execute(uri: "/review/api/verdicts", method: .post, body: ByteBuffer(string: body)) { response in
          #expect(response.status == status)
          #expect(message(response) == text)
        }
      }
    }
    #expect(try VerdictStore(path: fixture.database).all().isEmpty)
  }

  @Test func withATokenTheQueueAndThePageNeedIt() async throws {
    let fixture = try fixture(token: "s3cret")
    try await Application(router: fixture.router).test(.router) { client in
      try await client.execute(uri: "/review", method: .get) { response in
        #expect(response.status == .unauthorized)
        #expect(message(response) == "This review queue needs its token: open /review?token=… (the token given to --review-token).")
      }
      try await client.execute(uri: "/review?token=s3cret", method: .get) { response in
        #expect(response.status == .ok)
        #expect(response.headers[.contentType] == "text/html; charset=utf-8")
        #expect(String(buffer: response.body).contains("<title>Discern — review queue</title>"))
      }
      try await client.execute(uri: "/review/api/queue", method: .get, headers: [.authorization: "Bearer s3cret"]) { #expect($0.status == .ok) }
      try await client.execute(uri: "/review/api/queue", method: .get, headers: [.authorization: "Bearer wrong"]) { #expect($0.status == .unauthorized) }
      // The moderation routes are not the review queue's: no token asked.
      try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
    }
  }
}
