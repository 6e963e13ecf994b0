import Foundation
import Hummingbird

/// The routes of `discern serve`.
public enum ServerRoutes {
  /// Every route and the methods it answers; any other method on these paths is a 405.
  static let routes: [(path: String, methods: [HTTPRequest.Method])] = [
    ("/healthz", [.get]), ("/readyz", [.get]), ("/v1/version", [.get]), ("/v1/moderate", [.post]),
  ]

  public static func router(slot: EngineSlot, limits: ServerLimits, version: String) -> Router<BasicRequestContext> {
    let router = Router()
    router.get("/healthz") { _, _ in json(.ok, "{\"status\":\"up\"}") }
    router.get("/readyz") { _, _ in
      guard let service = await slot.service else { return json(.serviceUnavailable, "{\"status\":\"loading\"}") }
      return json(.ok, "{\"engine\":\(service.engineJSON),\"status\":\"ready\"}")
    }
    router.get("/v1/version") { _, _ in
      let engine = await slot.service?.engineJSON ?? "null"
      return json(.ok, "{\"engine\":\(engine),\"version\":\(ServerJSON.string(version))}")
    }
    router.post("/v1/moderate") { request, _ in
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
      guard let service = await slot.service else {
        return json(.serviceUnavailable, "{\"error\":{\"code\":\"loading\",\"message\":\"The engine is still loading; retry when /readyz says ready.\"}}")
      }
      return json(.ok, service.moderate(parsed))
    }
    let all: [HTTPRequest.Method] = [.get, .head, .post, .put, .delete, .patch, .options]
    for route in routes {
      let allow = route.methods.map(\.rawValue).joined(separator: ", ")
      for method in all where !route.methods.contains(method) {
        router.on(RouterPath(route.path), method: method) { request, _ in
          var response = json(
            .methodNotAllowed,
            "{\"error\":{\"code\":\"method_not_allowed\",\"message\":\(ServerJSON.string("\(request.method.rawValue) is not allowed on \(route.path); use \(allow)."))}}")
          response.headers[.allow] = allow
          return response
        }
      }
    }
    return router
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
