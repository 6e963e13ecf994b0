import DiscernVerdicts
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// A WebDriver session on headless Chromium (Debian's `chromium` and `chromium-driver`), spoken over
/// its HTTP protocol with the test client: no Selenium, no Python.
struct WebDriver {
  let client: TestClient
  let session: String

  static let chromedriver = "/usr/bin/chromedriver"
  static let chromium = "/usr/bin/chromium"
  static var available: Bool { FileManager.default.isExecutableFile(atPath: chromedriver) && FileManager.default.isExecutableFile(atPath: chromium) }

  static func call(_ client: TestClient, _ method: HTTPRequest.Method, _ path: String, _ body: Any? = nil) async throws -> Any? {
    let data = try body.map { try JSONSerialization.data(withJSONObject: $0) }
    let response = try await client.execute(
      .init(path, method: method, headers: [.contentType: "application/json"], body: data.map { ByteBuffer(bytes: $0) }))
    let object = response.body.flatMap { try? JSONSerialization.jsonObject(with: Data($0.readableBytesView)) } as? [String: Any]
    if response.head.status.code >= 400 { throw WebDriverError(path: path, reply: String(describing: object)) }
    return object?["value"]
  }

  static func start(_ client: TestClient) async throws -> WebDriver {
    let capabilities: [String: Any] = [
      "capabilities": [
        "alwaysMatch": [
          "browserName": "chrome",
          "goog:chromeOptions": ["binary": chromium, "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1366,860"]],
        ]
      ]
    ]
    let value = try await call(client, .post, "/session", capabilities) as? [String: Any]
    return WebDriver(client: client, session: try #require(value?["sessionId"] as? String))
  }

  func call(_ method: HTTPRequest.Method, _ path: String, _ body: Any? = nil) async throws -> Any? {
    try await Self.call(client, method, "/session/\(session)" + path, body)
  }

  func open(_ url: String) async throws { _ = try await call(.post, "/url", ["url": url]) }

  /// Runs `script` in the page and returns its value.
  func evaluate(_ script: String) async throws -> Any? { try await call(.post, "/execute/sync", ["script": script, "args": []]) }

  /// Waits until `script` returns true (at most 10 s).
  func waitUntil(_ script: String) async throws {
    for _ in 0..<500 {
      if try await evaluate("return Boolean(\(script));") as? Bool == true { return }
      try await Task.sleep(for: .milliseconds(20))
    }
    Issue.record("waited for \(script)")
  }

  /// Presses keys as a person would: each a keyDown and keyUp on whatever has focus.
  func press(_ keys: String...) async throws {
    let actions = keys.flatMap { [["type": "keyDown", "value": $0], ["type": "keyUp", "value": $0]] }
    _ = try await call(.post, "/actions", ["actions": [["type": "key", "id": "keyboard", "actions": actions]]])
  }

  func type(_ text: String, into selector: String) async throws {
    let element = try await call(.post, "/element", ["using": "css selector", "value": selector]) as? [String: Any]
    let id = try #require(element?.values.first as? String)
    _ = try await call(.post, "/element/\(id)/value", ["text": text])
  }

  func screenshot() async throws -> Data {
    let encoded = try #require(try await call(.get, "/screenshot") as? String)
    return try #require(Data(base64Encoded: encoded))
  }

  func quit() async throws { _ = try await call(.delete, "") }
}

struct WebDriverError: Error, CustomStringConvertible {
  let path: String, reply: String
  var description: String { "WebDriver \(path): \(reply)" }
}

/// A port free now, for a process that takes its port on the command line.
func freePort() throws -> Int {
  let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
  defer { close(socket) }
  var address = sockaddr_in()
  address.sin_family = sa_family_t(AF_INET)
  address.sin_addr.s_addr = inet_addr("127.0.0.1")
  address.sin_port = 0
  var length = socklen_t(MemoryLayout<sockaddr_in>.size)
  _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) } }
  _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) } }
  return Int(UInt16(bigEndian: address.sin_port))
}

/// Waits (at most 10 s) until something accepts connections on `port`.
func waitForListener(port: Int) async throws {
  for _ in 0..<500 {
    let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    let connected = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    close(socket)
    if connected == 0 { return }
    try await Task.sleep(for: .milliseconds(20))
  }
  Issue.record("nothing listens on port \(port)")
}

/// The review queue in a real browser: load an audit's queue, correct three decisions with the
/// keyboard, reload the page, and see the three kept — in the page and in the SQLite store.
@Suite(.serialized) struct ReviewBrowserTests {
  @Test(.enabled(if: WebDriver.available, "needs Debian's chromium and chromium-driver ('make test' installs them)"))
  func aModeratorCorrectsThreeDecisionsReloadsAndSeesThemKept() async throws {
    let work = FileManager.default.temporaryDirectory.appendingPathComponent("review-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
    // Messages written for this test; an audit of them is what a moderator's queue starts from.
    let messages = [
      ("m1", "this exam is going to be the death of me lol"),
      ("m2", "I can't do this anymore, I've written the letters and tonight is the night"),
      ("m3", "two years clean today and I'm proud of myself"),
      ("m4", "see you at practice tomorrow"),
    ]
    let input = work + "/messages.jsonl", audit = work + "/audit.jsonl", database = work + "/verdicts.sqlite"
    try messages.map { "{\"id\":\"\($0.0)\",\"text\":\"\($0.1)\"}" }.joined(separator: "\n").write(toFile: input, atomically: true, encoding: .utf8)
    let audited = Process()
    audited.executableURL = URL(fileURLWithPath: try ServeBinaryTests.binary())
    audited.arguments = ["audit", input, "--rules-only", "--out", audit]
    audited.standardError = FileHandle.nullDevice
    try audited.run()
    // Polled, not waitUntilExit(): a blocked cooperative thread stalls the other suites' servers.
    while audited.isRunning { try await Task.sleep(for: .milliseconds(20)) }
    #expect(audited.terminationStatus == 0)

    let server = try ServeBinaryTests.Server(["--rules-only", "--port", "0", "--no-admin", "--review", audit, "--verdicts", database])
    defer { if server.process.isRunning { server.process.terminate() } }
    try await server.waitFor("ready: ")
    let port = try server.port("listening")

    let driverPort = try freePort()
    let driver = Process()
    driver.executableURL = URL(fileURLWithPath: WebDriver.chromedriver)
    driver.arguments = ["--port=\(driverPort)"]
    driver.standardOutput = FileHandle.nullDevice
    driver.standardError = FileHandle.nullDevice
    try driver.run()
    // SIGKILL: a chromedriver started from this process may inherit SIGTERM ignored and outlive the test.
    defer { kill(driver.processIdentifier, SIGKILL) }

    try await waitForListener(port: driverPort)
    // A minute per WebDriver call, not the client's default 15 s: in CI's full run on two cores the
    // server suites' sustained load ran beside it, and starting Chromium took longer than that once.
    try await TestClient.withClient(host: "127.0.0.1", port: driverPort, configuration: .init(timeout: .seconds(60))) { client in
      let browser = try await WebDriver.start(client)
      do {
        try await browser.open("http://127.0.0.1:\(port)/review")
        try await browser.waitUntil("document.querySelector('#message-id')")
        // Most urgent first: the message with a time and a goodbye leads the queue.
        #expect(try await browser.evaluate("return document.querySelector('#message-id').textContent") as? String == "m2")
        #expect(try await browser.evaluate("return document.querySelectorAll('nav li').length") as? Int == 4)
        try await browser.type("casey", into: "#moderator")
        try await browser.press("\u{E007}")  // Enter leaves the name field
        // The README's picture: the queue as a moderator first sees it.
        if let path = ProcessInfo.processInfo.environment["DISCERN_REVIEW_SCREENSHOT"] {
          try await browser.screenshot().write(to: URL(fileURLWithPath: path))
        }
        // Three corrections: each flips the engine's call on the first label, confirms the rest, saves.
        var corrected: [String] = []
        for _ in 0..<3 {
          let id = try #require(try await browser.evaluate("return document.querySelector('#message-id').textContent") as? String)
          corrected.append(id)
          try await browser.press("x", "c")
          try await browser.waitUntil("document.querySelector('#status').textContent === 'saved \(id)'")
        }

        try await browser.open("http://127.0.0.1:\(port)/review")
        try await browser.waitUntil("document.querySelector('#message-id')")
        #expect(try await browser.evaluate("return document.querySelector('#progress').textContent") as? String == "3 of 4 reviewed")
        let reviewed = try await browser.evaluate("return Array.from(document.querySelectorAll('nav li')).filter(li => li.querySelector('.done')).map(li => li.dataset.id)") as? [String]
        #expect(Set(reviewed ?? []) == Set(corrected))
        // The first corrected message shows its verdict disagreeing with the engine on the first label.
        _ = try await browser.evaluate("document.querySelector('nav li[data-id=\"\(corrected[0])\"]').click(); return true;")
        try await browser.waitUntil("document.querySelector('#message-id').textContent === '\(corrected[0])'")
        #expect(try await browser.evaluate("return document.querySelector('#labels tr[data-label] .verdict').className") as? String == "verdict disagree")
        try await browser.quit()
      } catch {
        try? await browser.quit()
        throw error
      }
    }
    let stored = try VerdictStore(path: database).all()
    #expect(Set(stored.map(\.messageID)).count == 3)
    #expect(stored.allSatisfy { $0.moderator == "casey" && $0.rulesHash.hasPrefix("fnv1a64:") })
    // One disagreement per corrected message: the first label's.
    #expect(stored.filter { $0.applies != $0.engineFlagged }.count == 3)
  }
}
