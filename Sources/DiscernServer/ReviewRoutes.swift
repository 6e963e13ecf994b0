import Discern
import Foundation
import Hummingbird

/// The review queue's routes: the page and its small JSON API. Bound to localhost by default; with a
/// token, every request must carry it (the page as `?token=`, the API as `Authorization: Bearer`).
public enum ReviewRoutes {
  public static func add(
    to router: Router<BasicRequestContext>, review: ReviewQueue, slot: EngineSlot, queue: DecisionQueue, limits: ServerLimits, token: String?
  ) {
    let group = router.group("review").add(middleware: ReviewToken(token: token))
    group.get { _, _ in
      Response(
        status: .ok,
        headers: [.contentType: "text/html; charset=utf-8", .contentSecurityPolicy: "default-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'"],
        body: ResponseBody(byteBuffer: ByteBuffer(string: ReviewPage.html)))
    }
    group.get("api/queue") { _, _ in
      do { return ServerRoutes.json(.ok, try review.queueJSON()) } catch let error as ReviewError { return refusal(error) }
    }
    group.post("api/verdicts") { request, _ in
      let body = try await request.body.collect(upTo: limits.bodyBytes)
      do {
        let saved = try review.saveVerdicts(Data(body.readableBytesView))
        return ServerRoutes.json(.ok, "{\"saved\":\(saved)}")
      } catch let error as ReviewError { return refusal(error) }
    }
    // New messages for the queue, decided now by the serving engine: the moderation request's form.
    group.post("api/items") { request, _ in
      let body = try await request.body.collect(upTo: limits.bodyBytes)
      let parsed: ModerateRequest
      do { parsed = try ModerateRequest.parse(Data(body.readableBytesView), limits: limits) } catch let error as RequestError { return ServerRoutes.refusal(error) }
      guard let service = slot.service else {
        return ServerRoutes.stillLoading()
      }
      let decisions = try await queue.decide(parsed.messages.map(\.text), with: service)
      review.add(zip(parsed.messages, decisions).map { (id: $0.id, decision: $1) }, service: service)
      return ServerRoutes.json(.ok, "{\"added\":\(decisions.count),\"queued\":\(review.count)}")
    }
  }

  static func refusal(_ error: ReviewError) -> Response { ServerRoutes.json(HTTPResponse.Status(code: error.status), error.json) }
}

/// Refuses review requests without the token, when one is set.
struct ReviewToken<Context: RequestContext>: RouterMiddleware {
  let token: String?

  func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
    guard let token else { return try await next(request, context) }
    let bearer = request.headers[.authorization].map { $0 == "Bearer " + token } ?? false
    let query = request.uri.queryParameters.get("token") == token
    guard bearer || query else {
      return ServerRoutes.json(
        .unauthorized, "{\"error\":{\"code\":\"token\",\"message\":\"This review queue needs its token: open /review?token=… (the token given to --review-token).\"}}")
    }
    return try await next(request, context)
  }
}
