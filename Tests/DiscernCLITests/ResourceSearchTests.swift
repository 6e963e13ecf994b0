import Foundation
import Testing

/// Issue 19, item 1: the binary finds its rules, policy, lexicon, model and encoder by one search
/// order (flag, DISCERN_HOME, the install prefix, the checkout), from any working directory.
@Suite struct ResourceSearchTests {
  static let root = CLITests.root.path
  static let hasEncoder = CLITests.hasEncoder

  /// The debug binary the other CLI tests run.
  static var builtBinary: String {
    let here = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? "")
    let next = here.deletingLastPathComponent().appendingPathComponent("discern").path
    return FileManager.default.fileExists(atPath: next) ? next : root + "/.build/debug/discern"
  }

  /// The folders one test made, removed when the test's instance goes (each test has its own).
  final class MadeFolders: @unchecked Sendable {
    var paths: [String] = []
    deinit { for path in paths { try? FileManager.default.removeItem(atPath: path) } }
  }
  let made = MadeFolders()

  /// A fresh folder outside the checkout.
  func temporaryFolder() throws -> String {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("discern-resources-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    made.paths.append(folder)
    return folder
  }

  /// Puts the built binary at `path` as a hard link: a copy is a file this process opened for
  /// writing, and a child that another test spawns meanwhile can inherit that descriptor, so
  /// running the copy fails with "text file busy". A copy only where a link cannot cross devices.
  func placeBuiltBinary(at path: String) throws {
    if link(Self.builtBinary, path) == 0 { return }
    try FileManager.default.copyItem(atPath: Self.builtBinary, toPath: path)
  }

  /// Runs `binary` in `directory` with this process's environment, DISCERN_HOME replaced by `home`
  /// (removed when nil).
  func discern(_ arguments: [String], in directory: String, home: String? = nil, binary: String = builtBinary) throws -> CLITests.Run {
    var environment = ProcessInfo.processInfo.environment
    environment["DISCERN_HOME"] = home
    return try CLITests.run(URL(fileURLWithPath: binary), arguments, in: URL(fileURLWithPath: directory), environment: environment)
  }

  /// A copy of Rules/ and Lexicons/ in `folder` whose policy flags self_harm only at 0.99.
  func treeWithRaisedThreshold(in folder: String) throws {
    let rules = try copyShippedRules(from: Self.root, into: folder)
    try edit(rules + "/policy.yaml") { text in
      let first = try #require(text.range(of: "threshold: 0.27"), "the shipped self_harm threshold moved; update this test")
      return text.replacingCharacters(in: first, with: "threshold: 0.99")
    }
  }

  @Test(.enabled(if: hasEncoder, "needs 'make model'"))
  func explainFromOutsideTheCheckoutUsesTheCheckout() throws {
    let run = try discern(["explain", "--no-color", "hi"], in: try temporaryFolder())
    #expect(run.status == 0, "\(run.stderr)")
    #expect(run.stdout.hasPrefix("» hi\n  self_harm         p "))
    #expect(run.stderr == "")
  }

  @Test(.enabled(if: hasEncoder, "needs 'make model'"))
  func discernHomeIsUsedBeforeTheCheckout() throws {
    let home = try temporaryFolder()
    try treeWithRaisedThreshold(in: home)
    let run = try discern(["explain", "--no-color", "hi"], in: try temporaryFolder(), home: home)
    #expect(run.status == 0, "\(run.stderr)")
    #expect(run.stdout.contains("(threshold 0.99)"))
    let checkout = try discern(["explain", "--no-color", "hi"], in: try temporaryFolder())
    #expect(!checkout.stdout.contains("(threshold 0.99)"))
  }

  /// The layout `make install` writes, built by hand: <prefix>/bin/discern beside
  /// <prefix>/share/discern, far from any checkout.
  @Test(.enabled(if: hasEncoder, "needs 'make model'"))
  func anInstalledBinaryReadsItsPrefixShare() throws {
    let prefix = try temporaryFolder()
    let share = prefix + "/share/discern"
    try FileManager.default.createDirectory(atPath: prefix + "/bin", withIntermediateDirectories: true)
    try FileManager.default.createDirectory(atPath: share + "/Models", withIntermediateDirectories: true)
    try placeBuiltBinary(at: prefix + "/bin/discern")
    try treeWithRaisedThreshold(in: share)
    try FileManager.default.createSymbolicLink(atPath: share + "/Models/default", withDestinationPath: Self.root + "/Models/default")
    try FileManager.default.createSymbolicLink(atPath: share + "/encoder", withDestinationPath: Self.root + "/.models/all-MiniLM-L6-v2")
    let run = try discern(["explain", "--no-color", "hi"], in: try temporaryFolder(), binary: prefix + "/bin/discern")
    #expect(run.status == 0, "\(run.stderr)")
    #expect(run.stdout.contains("(threshold 0.99)"))
  }

  @Test func nothingFindableIsOneLineWithEveryPlaceTriedAndExitOne() throws {
    let folder = try temporaryFolder()
    let binary = folder + "/discern"
    try placeBuiltBinary(at: binary)
    // A Rules/ in the working directory is not a place Discern looks.
    try copyShippedRules(from: Self.root, into: folder)
    let run = try discern(["explain", "hi"], in: folder, binary: binary)
    #expect(run.status == 1, "\(run.stderr)")
    #expect(run.stdout == "")
    #expect(run.stderr == """
      error: no rules folder found; tried DISCERN_HOME (not set), no install prefix (\(binary) is not in a bin folder), \
      no checkout (no Package.swift above \(binary)). Set DISCERN_HOME to a Discern folder (Rules/, Lexicons/, \
      Models/default, encoder/), run 'make install' in the checkout, or pass --rules.

      """)
  }

  @Test(.enabled(if: hasEncoder, "needs 'make model'"))
  func anExplicitRulesFlagBeatsDiscernHome() throws {
    let home = try temporaryFolder()
    let rules = try copyShippedRules(from: Self.root, into: home)
    try "rules: [".write(toFile: rules + "/broken.yaml", atomically: true, encoding: .utf8)
    let fromHome = try discern(["explain", "--no-color", "hi"], in: try temporaryFolder(), home: home)
    #expect(fromHome.status == 1)
    #expect(fromHome.stderr.contains(rules + "/broken.yaml:"))
    let flagged = try discern(["explain", "--no-color", "--rules", Self.root + "/Rules", "hi"], in: try temporaryFolder(), home: home)
    #expect(flagged.status == 0, "\(flagged.stderr)")
    #expect(flagged.stdout.hasPrefix("» hi\n"))
  }
}
