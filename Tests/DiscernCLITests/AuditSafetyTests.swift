import Foundation
import Testing

/// Hostile and unlucky inputs to `discern audit` (and a full disk under `discern explain`), through
/// the built binary as a user meets them: the exact error, the exit status, and what is left on disk.
/// Every audit here is rules-only, so none needs the encoder's weights.
@Suite struct AuditSafetyTests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

  static var binary: URL {
    let here = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? "/")
    let next = here.deletingLastPathComponent().appendingPathComponent("discern")
    return FileManager.default.fileExists(atPath: next.path) ? next : root.appendingPathComponent(".build/debug/discern")
  }

  struct Run {
    let status: Int32
    let stdout: String
    let stderr: String
  }

  /// A running `discern` whose standard input the test writes; its output goes to files, so a
  /// child that writes much never blocks on a test that is still writing.
  final class Child {
    let process = Process()
    let input = Pipe()
    let folder: String

    init(_ arguments: [String], stdin: FileHandle? = nil, stdout: FileHandle? = nil) throws {
      folder = try AuditSafetyTests.temporaryFolder()
      FileManager.default.createFile(atPath: folder + "/stdout", contents: nil)
      FileManager.default.createFile(atPath: folder + "/stderr", contents: nil)
      process.executableURL = AuditSafetyTests.binary
      process.arguments = arguments
      process.currentDirectoryURL = AuditSafetyTests.root
      process.standardInput = stdin ?? input
      process.standardOutput = stdout ?? FileHandle(forWritingAtPath: folder + "/stdout")
      process.standardError = FileHandle(forWritingAtPath: folder + "/stderr")
      try process.run()
    }

    /// Writes to the child's standard input; a child that has exited (a failure the test then
    /// reports) must not take the test runner down with SIGPIPE.
    func write(_ data: Data) {
      signal(SIGPIPE, SIG_IGN)
      try? input.fileHandleForWriting.write(contentsOf: data)
    }

    /// The most memory the child has held so far (Linux's VmHWM), in bytes.
    func peakMemory() throws -> Int {
      let status = try String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)
      let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") })
      return try #require(Int(line.split(separator: " ", omittingEmptySubsequences: true)[1])) * 1024
    }

    func finish() throws -> Run {
      try? input.fileHandleForWriting.close()
      process.waitUntilExit()
      return Run(
        status: process.terminationStatus, stdout: try String(contentsOfFile: folder + "/stdout", encoding: .utf8),
        stderr: try String(contentsOfFile: folder + "/stderr", encoding: .utf8))
    }
  }

  func discern(_ arguments: String..., stdin: Data = Data()) throws -> Run {
    let child = try Child(arguments)
    child.write(stdin)
    return try child.finish()
  }

  static func temporaryFolder() throws -> String {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("discern-audit-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    return folder
  }

  func file(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

  func jsonLines(_ path: String) throws -> [[String: Any]] {
    try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
      try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
    }
  }

  /// The fingerprint a record carries of its input line: FNV-1a over the line's bytes.
  func fingerprint(_ text: String) -> String {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
    return "fnv1a64:" + String(hash, radix: 16)
  }

  static let lines = [
    #"{"id": "a", "text": "this group project will be the death of me"}"#, #"{"id": "b", "text": "kms lol"}"#,
    #"{"id": "c", "text": "2 years clean today"}"#,
  ]

  func input(_ lines: [String] = Self.lines, in folder: String, named name: String = "in.jsonl") throws -> String {
    let path = folder + "/" + name
    try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  // MARK: - Files that cannot be written

  @Test(
    .enabled(if: FileManager.default.fileExists(atPath: "/dev/full"), "needs /dev/full"),
    .enabled(if: FileManager.default.fileExists(atPath: root.path + "/.models/all-MiniLM-L6-v2/model.safetensors"), "needs 'make model'"))
  func explainToAFullDiskExitsOne() throws {
    let run = try Child(["explain", "--json", "hi"], stdout: FileHandle(forWritingAtPath: "/dev/full")).finish()
    #expect(run.status == 1)
    #expect(run.stderr.hasSuffix("Error: cannot write standard output: No space left on device\n"))
  }
}
