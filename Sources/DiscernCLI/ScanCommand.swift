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

  func validate() throws {
    if messages.isEmpty && file == nil { throw ValidationError("Give a message to scan, or --file PATH.") }
  }

  func run() throws {
    let result = RuleCompiler.compile(directory: options.rules)
    guard let ruleSet = result.ruleSet else {
      for diagnostic in result.diagnostics { FileHandle.standardError.write(Data("\(diagnostic)\n".utf8)) }
      throw ExitCode.failure
    }
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
        print(EvidenceView.render(text: text, evaluation: evaluation, ruleSet: ruleSet))
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
  static func render(text: String, evaluation: RuleEvaluation, ruleSet: RuleSet) -> String {
    var lines = ["» \(text)"]
    if evaluation.hitRules.isEmpty { lines.append("  no rule hits") }
    for evidence in evaluation.evidence {
      let type = evidence.type?.rawValue ?? "-"
      lines.append("  \(type.padding(toLength: 15, withPad: " ", startingAt: 0)) \(evidence.rule)  [\(evidence.start)..<\(evidence.end)] '\(evidence.text)'")
    }
    let spanless = evaluation.hitRules.filter { id in !evaluation.evidence.contains { $0.rule == id } }
    for id in spanless {
      let type = ruleSet.rule(id)?.marks?.rawValue ?? "-"
      lines.append("  \(type.padding(toLength: 15, withPad: " ", startingAt: 0)) \(id)  (no span)")
    }
    for event in evaluation.limitEvents {
      lines.append("  limit          \(event.rule) stopped at its \(event.limit.rawValue) limit")
    }
    return lines.joined(separator: "\n")
  }
}

/// One message per line of a file or standard input; blank lines and `#` comments skipped.
enum MessageLines {
  static func read(_ path: String) throws -> [String] {
    let data: Data
    if path == "-" {
      data = FileHandle.standardInput.readDataToEndOfFile()
    } else {
      guard let contents = FileManager.default.contents(atPath: path) else {
        throw ValidationError("Cannot read '\(path)'.")
      }
      data = contents
    }
    return String(decoding: data, as: UTF8.self).split(separator: "\n")
      .map { String($0.hasSuffix("\r") ? $0.dropLast() : $0) }
      .filter { !$0.isEmpty && !$0.hasPrefix("#") }
  }
}
