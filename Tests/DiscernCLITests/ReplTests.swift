import Foundation
import Testing

/// `discern repl` driven in a real terminal (tmux): cancel a line with Ctrl-C, type a message, break a rule file and :reload
/// (diagnostics shown, old rules kept), fix it and :reload again, reading the screen each time.
private let replRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .deletingLastPathComponent().path
private let replCanRun = FileManager.default.fileExists(atPath: "/usr/bin/tmux")
  && FileManager.default.fileExists(atPath: replRoot + "/.models/all-MiniLM-L6-v2/model.safetensors")

@Suite(.serialized, .enabled(if: replCanRun, "needs tmux and the encoder ('make deps model')"))
struct ReplTests {
  static let root = replRoot

  let socket = "discern-test-\(UUID().uuidString.prefix(8))"

  /// Runs tmux through the shell: Foundation's Process waits forever on the client that forks the
  /// tmux server, so `system` it is.
  @discardableResult
  func tmux(_ arguments: String...) throws -> String {
    let output = FileManager.default.temporaryDirectory.appendingPathComponent("\(socket)-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: output) }
    let quoted = (["/usr/bin/tmux", "-L", socket] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
    let status = system(quoted.joined(separator: " ") + " > '\(output)' 2>/dev/null < /dev/null")
    #expect(status == 0, "tmux \(arguments.first ?? "") failed")
    return (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
  }

  /// The screen once `text` is on it (polling up to 30 s), or the last screen.
  func screen(showing text: String) throws -> String {
    var last = ""
    for _ in 0..<300 {
      last = try tmux("capture-pane", "-t", "repl", "-p", "-S", "-200")
      if last.contains(text) { return last }
      Thread.sleep(forTimeInterval: 0.1)
    }
    return last
  }

  /// The built `discern` next to this test binary, else the debug build.
  func binary() throws -> String {
    let here = URL(fileURLWithPath: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
    let beside = here.deletingLastPathComponent().appendingPathComponent("discern").path
    return FileManager.default.fileExists(atPath: beside) ? beside : Self.root + "/.build/debug/discern"
  }

  /// Starts the REPL in tmux session "repl" with its own history (and, with `ownRules`, its own copy of
  /// the shipped rules in `<work>/Rules`), waits for its prompt, and returns the work folder. The caller
  /// ends it with `tmux kill-server`.
  func startREPL(width: Int = 200, height: Int = 80, ownRules: Bool = false) throws -> String {
    let work = FileManager.default.temporaryDirectory.appendingPathComponent("repl-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
    if ownRules { try copyShippedRules(from: Self.root, into: work) }
    let rules = ownRules ? "--rules \(work)/Rules " : ""
    try tmux(
      "new-session", "-d", "-s", "repl", "-x", "\(width)", "-y", "\(height)",
      "cd \(Self.root) && \(try binary()) repl \(rules)--history \(work)/history --no-color")
    do { _ = try screen(showing: "discern>") } catch {
      _ = try? tmux("kill-server")
      throw error
    }
    return work
  }

  @Test func aPastedQuitCharacterDoesNotEndTheSession() throws {
    _ = try startREPL()
    defer { _ = try? tmux("kill-server") }
    // 0x1C is the terminal's quit character: before, the tty turned it into SIGQUIT and the REPL died.
    try tmux("send-keys", "-t", "repl", "half typed", "C-\\")
    try tmux("send-keys", "-t", "repl", "forgot mom's birthday, I'm so dead", "Enter")
    #expect(try screen(showing: "rationale:").contains("casual_mention"))
  }

  /// A message in another language: the decision line and `:why` both name the scope and the action.
  @Test func whyNamesTheUnsupportedLanguageScope() throws {
    _ = try startREPL(width: 220)
    defer { _ = try? tmux("kill-server") }
    try tmux("send-keys", "-t", "repl", "quiero morirme", "Enter")
    let decided = try screen(showing: "rationale:")
    #expect(decided.contains("\n  scope             unsupported_language (Spanish, es) → route to a human moderator who reads the language\n"))
    try tmux("send-keys", "-t", "repl", ":why self_harm", "Enter")
    let why = try screen(showing: "self_harm: logit")
    #expect(why.contains("""
      \nscope             unsupported_language (Spanish, es) → route to a human moderator who reads the language
          Read as Spanish (es) by the language identifier; Discern reads English only. The labels below were computed anyway and are unreliable.
      self_harm: logit 
      """))
  }

  /// no-color.org: NO_COLOR set to anything turns colour off on a terminal, as --no-color does.
  @Test func explainHonoursNoColorOnATerminal() throws {
    defer { _ = try? tmux("kill-server") }
    for (index, (environment, painted)) in [("NO_COLOR=1 ", false), ("env -u NO_COLOR ", true)].enumerated() {
      let session = "colour\(index)"
      try tmux("new-session", "-d", "-s", session, "-x", "200", "-y", "40", "cd \(Self.root) && \(environment)\(try binary()) explain 'everything hurts 🥀'; sleep 30")
      var screen = ""
      for _ in 0..<300 where !screen.contains("rationale:") {
        Thread.sleep(forTimeInterval: 0.1)
        screen = try tmux("capture-pane", "-t", session, "-p", "-e")
      }
      #expect(screen.contains("rationale:"))
      #expect(screen.contains("\u{1B}[") == painted, "\(environment)")
    }
  }

  /// A comment line added at the top of a pack moved every rule below it, and :reload called each
  /// one changed ("18 changed"); rules are compared by what they say now.
  @Test func reloadAfterACommentChangesNothing() throws {
    let work = try startREPL(height: 60, ownRules: true)
    defer { _ = try? tmux("kill-server") }
    let pack = work + "/Rules/hyperbole.yaml"
    try ("# a note for the next reader\n" + String(contentsOfFile: pack, encoding: .utf8)).write(toFile: pack, atomically: true, encoding: .utf8)
    try tmux("send-keys", "-t", "repl", ":reload", "Enter")
    #expect(try screen(showing: "reloaded").contains("reloaded 124 rules: 0 added, 0 removed, 0 changed"))
  }

  /// `:compare` decides each message by a second model folder too (what `discern learn` writes) and
  /// shows both per label; the same folder changes nothing, and a folder that is no model is said so.
  @Test func compareShowsBothModelsPerLabel() throws {
    _ = try startREPL(height: 60)
    defer { _ = try? tmux("kill-server") }
    try tmux("send-keys", "-t", "repl", ":compare /nonexistent/model", "Enter")
    #expect(try screen(showing: "did not load").contains("no comparison: '/nonexistent/model' did not load"))
    try tmux("send-keys", "-t", "repl", ":compare \(Self.root)/Models/default", "Enter")
    _ = try screen(showing: "each message is decided by both models")
    try tmux("send-keys", "-t", "repl", "I think I'm going to hurt myself tonight", "Enter")
    let compared = try screen(showing: "reference_to_harm  p")
    #expect(compared.contains("compared with \(Self.root)/Models/default:\n  self_harm         p "))
    let selfHarm = try #require(compared.split(separator: "\n").last { $0.hasPrefix("  self_harm ") })
    #expect(selfHarm.contains(" flagged  →  p ") && !selfHarm.contains("changes"))
    try tmux("send-keys", "-t", "repl", ":compare off", "Enter")
    #expect(try screen(showing: "comparison off").contains("comparison off"))
  }

  /// `:why` names the urgency tier and its reasons above the contributions.
  @Test func whyNamesTheUrgencyTier() throws {
    _ = try startREPL()
    defer { _ = try? tmux("kill-server") }
    try tmux("send-keys", "-t", "repl", "I think I'm going to hurt myself tonight", "Enter")
    _ = try screen(showing: "rationale:")
    try tmux("send-keys", "-t", "repl", ":why self_harm", "Enter")
    let why = try screen(showing: "self_harm: logit")
    #expect(why.contains("\nurgency: urgent — self_harm flagged; names a time: 'tonight' [33, 40) (urgency.time)\nself_harm: logit "))
  }

  @Test func reloadShowsDiagnosticsKeepsTheOldRulesThenTakesTheFix() throws {
    let binary = try binary()
    let work = FileManager.default.temporaryDirectory.appendingPathComponent("repl-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
    try copyShippedRules(from: Self.root, into: work)
    let pack = work + "/Rules/hyperbole.yaml"
    let command = "cd \(Self.root) && \(binary) repl --rules \(work)/Rules --history \(work)/history --no-color"
    try tmux("new-session", "-d", "-s", "repl", "-x", "200", "-y", "80", command)
    defer { _ = try? tmux("kill-server") }
    // kill-server ends the REPL too; nothing is left running.

    #expect(try screen(showing: "discern>").contains("type a message to explain it"))
    // Ctrl-C drops a half-typed line and the session goes on.
    try tmux("send-keys", "-t", "repl", "half typed")
    try tmux("send-keys", "-t", "repl", "C-c")
    try tmux("send-keys", "-t", "repl", "this group project will be the death of me", "Enter")
    let explained = try screen(showing: "rationale:")
    #expect(!explained.contains("» half typed"))
    #expect(explained.contains("casual_mention  hyperbole.death-of-me"))
    #expect(explained.contains("self_harm         p "))

    let original = try String(contentsOfFile: pack, encoding: .utf8)
    try (original + "  - id: hyperbole.extra\n    kind: pattern\n    patern: 'zzq'\n    description: a typo\n")
      .write(toFile: pack, atomically: true, encoding: .utf8)
    try tmux("send-keys", "-t", "repl", ":reload", "Enter")
    let broken = try screen(showing: "kept the last good rules")
    #expect(broken.contains("error: unknown key 'patern' in rule 'hyperbole.extra'; did you mean 'pattern'?"))
    #expect(broken.contains("    patern: 'zzq'\n    ^"))
    #expect(broken.contains("kept the last good rules (124 rules)"))

    try (original + "  - id: hyperbole.extra\n    kind: pattern\n    pattern: 'zzq'\n    description: a typo\n")
      .write(toFile: pack, atomically: true, encoding: .utf8)
    try tmux("send-keys", "-t", "repl", ":reload", "Enter")
    let fixed = try screen(showing: "reloaded 125 rules")
    #expect(fixed.contains("reloaded 125 rules: 1 added, 0 removed, 0 changed\n  + hyperbole.extra"))
    try tmux("send-keys", "-t", "repl", ":rule hyperbole.extra", "Enter")
    #expect(try screen(showing: "weight for self_harm").contains("weight for self_harm: untrained (counts 0)"))
  }
}
