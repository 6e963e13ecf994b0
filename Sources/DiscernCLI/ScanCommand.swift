import ArgumentParser
import DiscernRules
import Foundation

struct ScanCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "scan",
    abstract: "Show the rules' evidence for messages: every hit with its span type and offsets.",
    discussion: "Offsets count Unicode scalars, as Python strings and JSON consumers do.")

  @OptionGroup var options: RulesOptions

  @Argument(help: "Messages to scan.")
  var messages: [String] = []

  @Option(help: "Scan one message per line of this file ('-' for standard input).")
  var file: String?

  @Flag(help: "One JSON object per message.")
  var json = false

  @Flag(help: "Also list the spans of rules that mark no span type (helpers and measures).")
  var allSpans = false

  func validate() throws {
    if messages.isEmpty && file == nil { throw ValidationError("Give a message to scan, or --file PATH.") }
  }

  func run() throws {
    let ruleSet = try options.ruleSet()
    var texts = messages
    if let file { texts += try MessageLines.read(file) }
    let matcher = PCRE2Matcher()
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    for text in texts {
      let evaluation = ruleSet.evaluate(text, matcher: matcher)
      if json {
        let record = ScanRecord(text: text, hits: evaluation.hitRules, spans: evaluation.evidence, limits: evaluation.limitEvents)
        print(String(decoding: try encoder.encode(record), as: UTF8.self))
      } else {
        print(EvidenceView.render(text: text, evaluation: evaluation, ruleSet: ruleSet, allSpans: allSpans))
      }
    }
  }
}

struct ScanRecord: Encodable {
  let text: String
  let hits: [String]
  let spans: [Evidence]
  let limits: [LimitEvent]
}

/// The plain-text view of one message's evidence.
enum EvidenceView {
  static func render(text: String, evaluation: RuleEvaluation, ruleSet: RuleSet, allSpans: Bool) -> String {
    var lines = ["» \(text)"]
    if evaluation.hitRules.isEmpty { lines.append("  no rule hits") }
    func column(_ type: String) -> String { type.padding(toLength: 15, withPad: " ", startingAt: 0) }
    for evidence in evaluation.evidence where allSpans || evidence.type != nil {
      var line = "  \(column(evidence.type?.rawValue ?? "-")) \(evidence.rule)  [\(evidence.start), \(evidence.end)) '\(evidence.text)'"
      if let row = evidence.lexicon, evidence.type != nil { line += " — \(row.name): \(row.selfHarmMeaning)" }
      lines.append(line)
    }
    // Rules that hit without a span, or whose spans are not shown, are still features: name them.
    let shown = Set(evaluation.evidence.filter { allSpans || $0.type != nil }.map(\.rule))
    let others = evaluation.hitRules.filter { !shown.contains($0) }
    if !others.isEmpty { lines.append("  \(column("also hit")) \(others.joined(separator: ", "))") }
    for event in evaluation.limitEvents {
      lines.append("  \(column("limit")) \(event.rule) stopped at its \(event.limit.rawValue) limit")
    }
    return lines.joined(separator: "\n")
  }
}

/// One message per line of a file or standard input. Blank lines, comments (`# ` with a space,
/// so a message may start with a hashtag) and `#>` expectation lines are skipped.
enum MessageLines {
  static func read(_ path: String) throws -> [String] {
    let data: Data
    if path == "-" {
      data = FileHandle.standardInput.readDataToEndOfFile()
    } else {
      guard let contents = FileManager.default.contents(atPath: path) else {
        throw CommandError("cannot read '\(path)': \(String(cString: strerror(errno)))")
      }
      data = contents
    }
    return String(decoding: data, as: UTF8.self).split(separator: "\n")
      .map { String($0.hasSuffix("\r") ? $0.dropLast() : $0) }
      .filter { !$0.isEmpty && !isComment($0) }
  }

  static func isComment(_ line: String) -> Bool {
    line == "#" || line.hasPrefix("# ") || line.hasPrefix("#>")
  }
}
