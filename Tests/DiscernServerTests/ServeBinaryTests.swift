import Foundation
import Hummingbird
import NIOConcurrencyHelpers
import HummingbirdTesting
import Testing

/// `discern serve` as an operator runs it: real signals, the lines it prints, its exit status.
@Suite struct ServeBinaryTests {
  /// The built `discern`, beside this test binary (or the checkout's debug build).
  static func binary() throws -> String {
    let here = URL(fileURLWithPath: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
    let beside = here.deletingLastPathComponent().appendingPathComponent("discern").path
    return FileManager.default.fileExists(atPath: beside) ? beside : repositoryRoot + "/.build/debug/discern"
  }

  /// A running `discern serve` and everything it has printed on stderr.
  final class Server: @unchecked Sendable {
    let process = Process()
    let printed = NIOLockedValueBox("")

    init(_ arguments: [String]) throws {
      process.executableURL = URL(fileURLWithPath: try ServeBinaryTests.binary())
      process.arguments = ["serve"] + arguments
      process.currentDirectoryURL = URL(fileURLWithPath: repositoryRoot)
      let errors = Pipe()
      process.standardError = errors
      process.standardOutput = FileHandle.nullDevice
      errors.fileHandleForReading.readabilityHandler = { [printed] handle in
        let data = handle.availableData
        printed.withLockedValue { $0 += String(decoding: data, as: UTF8.self) }
      }
      try process.run()
    }

    /// Waits until stderr contains `text` (at most 20 s), and returns all of it.
    @discardableResult
    func waitFor(_ text: String, occurrences: Int = 1) async throws -> String {
      for _ in 0..<2000 where printed.withLockedValue({ $0.components(separatedBy: text).count - 1 }) < occurrences {
        try await Task.sleep(for: .milliseconds(10))
      }
      let all = printed.withLockedValue { $0 }
      #expect(all.components(separatedBy: text).count - 1 >= occurrences, "waited for \(text); stderr so far:\n\(all)")
      return all
    }

    func port(_ name: String) throws -> Int {
      let all = printed.withLockedValue { $0 }
      let line = try #require(all.split(separator: "\n").first { $0.hasPrefix(name + ": http://127.0.0.1:") })
      return try #require(Int(line.split(separator: ":").last!))
    }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }
  }

  @Test func sighupReloadsKeepsTheLastGoodRulesOnABrokenEditAndSigtermDrainsAndExitsZero() async throws {
    let folder = try RulesFolder()
    let server = try Server(["--rules-only", "--port", "0", "--no-admin", "--rules", folder.rules])
    defer { if server.process.isRunning { server.process.terminate() } }
    try await server.waitFor("ready: ")
    let port = try server.port("listening")
    let moderate = TestClient.Request("/v1/moderate", method: .post, body: ByteBuffer(string: "{\"text\":\"I want to die\"}"))

    try await TestClient.withClient(host: "127.0.0.1", port: port) { client in
      let first = rulesHash(try await client.execute(moderate).body)
      #expect(first != nil)

      try folder.append("  - id: hyperbole.extra\n    kind: pattern\n    patern: 'zzq'\n    description: a typo\n", to: "hyperbole.yaml")
      server.signal(SIGHUP)
      let kept = try await server.waitFor("reload failed; the last good rules, policy and model keep serving:\n")
      #expect(kept.contains("/Rules/hyperbole.yaml:"))
      #expect(kept.contains("error: unknown key 'patern' in rule 'hyperbole.extra'; did you mean 'pattern'?"))
      #expect(kept.contains("    patern: 'zzq'\n    ^"))
      #expect(rulesHash(try await client.execute(moderate).body) == first)

      try folder.append("  - id: hyperbole.extra2\n    kind: pattern\n    pattern: 'zzq'\n    description: fixed\n", to: "hyperbole.yaml")
      try String(contentsOfFile: folder.rules + "/hyperbole.yaml", encoding: .utf8)
        .replacingOccurrences(of: "    patern: 'zzq'\n    description: a typo\n", with: "    pattern: 'zzqq'\n    description: the typo fixed\n")
        .write(toFile: folder.rules + "/hyperbole.yaml", atomically: true, encoding: .utf8)
      server.signal(SIGHUP)
      let reloaded = try await server.waitFor("reloaded: ")
      let second = rulesHash(try await client.execute(moderate).body)
      #expect(second != nil && second != first)
      #expect(reloaded.contains("reloaded: {\"encoder\":null,\"model\":"))
    }

    // A large batch in flight when SIGTERM arrives is still answered, whole, before the exit.
    let batch = "{\"messages\":[" + (0..<256).map { "{\"id\":\"m\($0)\",\"text\":\"I want to die \($0)\"}" }.joined(separator: ",") + "]}"
    let inFlight = Task {
      try await TestClient.withClient(host: "127.0.0.1", port: port) { client in
        try await client.execute(.init("/v1/moderate", method: .post, body: ByteBuffer(string: batch)))
      }
    }
    // SIGTERM once the batch is in (the metrics request itself is the other one in flight).
    try await TestClient.withClient(host: "127.0.0.1", port: port) { client in
      for _ in 0..<500 {
        let metrics = String(buffer: try await client.execute(.init("/metrics", method: .get)).body ?? ByteBuffer())
        if metrics.contains("discern_http_requests_in_flight 2") || metrics.contains("discern_encoder_batch_messages_count") { break }
        try await Task.sleep(for: .milliseconds(5))
      }
    }
    server.signal(SIGTERM)
    let response = try await inFlight.value
    #expect(response.head.status == .ok)
    #expect((jsonObject(response.body)["results"] as? [Any])?.count == 256)
    for _ in 0..<1000 where server.process.isRunning { try await Task.sleep(for: .milliseconds(10)) }
    #expect(!server.process.isRunning)
    #expect(server.process.terminationStatus == 0)
    #expect(try await server.waitFor("stopped").hasSuffix("draining: no new connections; finishing the requests in flight\nstopped\n"))
  }
}
