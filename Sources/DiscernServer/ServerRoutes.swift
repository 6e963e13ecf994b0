import Discern
import DiscernAudit
import Foundation
import Hummingbird

/// The routes of `discern serve`.
public enum ServerRoutes {
  /// Every route and the methods it answers; any other method on these paths is a 405.
  static let routes: [(path: String, methods: [HTTPRequest.Method])] = [
    ("/healthz", [.get]), ("/readyz", [.get]), ("/v1/version", [.get]), ("/v1/moderate", [.post]), ("/metrics", [.get]),
  ]
  /// The admin listener's routes (bound to localhost only).
  static let adminRoutes: [(path: String, methods: [HTTPRequest.Method])] = [("/admin/reload", [.post])]

  public static func router(
    slot: EngineSlot, queue: DecisionQueue, limits: ServerLimits, version: String, metrics: ServerMetrics
  ) -> Router<BasicRequestContext> {
    let router = Router()
    router.middlewares.add(RequestMetricsMiddleware(metrics: metrics))
    router.get("/healthz") { _, _ in json(.ok, "{\"status\":\"up\"}") }
    router.get("/readyz") { _, _ in
      guard let service = slot.service else { return json(.serviceUnavailable, "{\"status\":\"loading\"}") }
      return json(.ok, "{\"engine\":\(service.engineJSON),\"status\":\"ready\"}")
    }
    router.get("/v1/version") { _, _ in
      let engine = slot.service?.engineJSON ?? "null"
      return json(.ok, "{\"engine\":\(engine),\"version\":\(DecisionJSON.string(version))}")
    }
    router.get("/metrics") { _, _ in
      Response(
        status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
        body: ResponseBody(byteBuffer: ByteBuffer(string: metrics.exposition())))
    }
    router.post("/v1/moderate") { request, _ in
      if let service = slot.service { service.engine.prepare(service.variant) }
      let body: ByteBuffer
      do {
        body = try await request.body.collect(upTo: limits.bodyBytes)
      } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
        return refusal(.bodyTooLarge(limit: limits.bodyBytes))
      }
      let parsed: ModerateRequest
      do {
        parsed = try ModerateRequest.parse(Data(body.readableBytesView), limits: limits)
      } catch let error as RequestError {
        return refusal(error)
      }
      guard let service = slot.service else {
        return stillLoading()
      }
      let decisions: [Decision]
      do {
        decisions = try await queue.decide(parsed.messages.map(\.text), with: service)
      } catch let full as QueueFull {
        var response = json(
          .serviceUnavailable,
          "{\"error\":{\"code\":\"overloaded\",\"message\":\(DecisionJSON.string("The decision queue is full (\(full.depth) messages waiting, --queue-limit \(queue.settings.capacity)); retry after \(full.retryAfter) s."))}}")
        response.headers[.retryAfter] = String(full.retryAfter)
        return response
      }
      metrics.messages.increment(by: decisions.count)
      for decision in decisions {
        for label in decision.labels where label.flagged { metrics.flagged(label: label.label) }
        for event in decision.limits { metrics.limitEvent(rule: event.rule) }
      }
      return json(.ok, service.response(parsed, decisions: decisions))
    }
    refuseOtherMethods(on: router, routes: routes)
    return router
  }

  /// `POST /admin/reload`: reads rules, policy and model again and swaps them in, or keeps the last
  /// good set and answers 422 with the reason (each diagnostic with file:line:col, line and caret).
  public static func adminRouter(slot: EngineSlot, metrics: ServerMetrics) -> Router<BasicRequestContext> {
    let router = Router()
    router.middlewares.add(RequestMetricsMiddleware(metrics: metrics))
    router.post("/admin/reload") { _, _ in
      switch await slot.reload() {
      case .loaded(let previous, let current):
        return json(.ok, "{\"engine\":\(current.engineJSON),\"previous\":\(previous?.engineJSON ?? "null"),\"status\":\"reloaded\"}")
      case .kept(let current, let reason):
        return json(
          .unprocessableContent,
          "{\"engine\":\(current?.engineJSON ?? "null"),\"error\":{\"code\":\"reload_failed\",\"message\":\(DecisionJSON.string(reason))},\"status\":\"kept_last_good\"}")
      }
    }
    refuseOtherMethods(on: router, routes: adminRoutes)
    return router
  }

  static func refuseOtherMethods(on router: Router<BasicRequestContext>, routes: [(path: String, methods: [HTTPRequest.Method])]) {
    let all: [HTTPRequest.Method] = [.get, .head, .post, .put, .delete, .patch, .options]
    for route in routes {
      let allow = route.methods.map(\.rawValue).joined(separator: ", ")
      for method in all where !route.methods.contains(method) {
        router.on(RouterPath(route.path), method: method) { request, _ in
          var response = json(
            .methodNotAllowed,
            "{\"error\":{\"code\":\"method_not_allowed\",\"message\":\(DecisionJSON.string("\(request.method.rawValue) is not allowed on \(route.path); use \(allow)."))}}")
          response.headers[.allow] = allow
          return response
        }
      }
    }
  }

  /// A request that needs the engine before it has loaded.
  static func stillLoading() -> Response {
    json(.serviceUnavailable, "{\"error\":{\"code\":\"loading\",\"message\":\"The engine is still loading; retry when /readyz says ready.\"}}")
  }

  static func refusal(_ error: RequestError) -> Response {
    json(HTTPResponse.Status(code: error.status), error.json)
  }

  static func json(_ status: HTTPResponse.Status, _ text: String) -> Response {
    Response(
      status: status, headers: [.contentType: "application/json; charset=utf-8"],
      body: ResponseBody(byteBuffer: ByteBuffer(string: text + "\n")))
  }
}

/// Counts and times every request by the route it matched (`unmatched` for a 404).
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
  let metrics: ServerMetrics

  func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
    let started = DispatchTime.now().uptimeNanoseconds
    let seconds = { Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9 }
    metrics.inFlight.increment()
    defer { metrics.inFlight.decrement() }
    do {
      let response = try await next(request, context)
      metrics.request(route: context.endpointPath ?? "unmatched", method: request.method.rawValue, status: response.status.code, seconds: seconds())
      return response
    } catch {
      let status = (error as? any HTTPResponseError)?.status.code ?? 500
      metrics.request(route: context.endpointPath ?? "unmatched", method: request.method.rawValue, status: status, seconds: seconds())
      throw error
    }
  }
}
