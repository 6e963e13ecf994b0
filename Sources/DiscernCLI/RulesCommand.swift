import ArgumentParser
import DiscernRules
import Foundation

struct RulesCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "rules",
    abstract: "Questions about the rules themselves.",
    subcommands: [StatsCommand.self])
}

struct StatsCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "stats",
    abstract: "Per rule, on a labeled JSONL file: hits, coverage, precision against a label, and overlap.",
    discussion: """
      Rows whose label is null are skipped, and so are rows where the label is only assumed from \
      the source ('weak') unless --include-weak is given. A pack's row counts a message when any \
      stable rule of the pack with `marks` hits it. "Fires most with" names the rule sharing the \
      largest share of this rule's hits (`not` rules left out). Prints Markdown tables.
      """)

  @OptionGroup var options: RulesOptions

  @Option(help: "A JSONL file with 'text' and 'labels' (the corpus format).")
  var data: String

  @Option(help: "The label to score precision against.")
  var label: String = "self_harm"

  @Option(help: "Only rows of this split (train, dev, test).")
  var split: String?

  @Flag(help: "Also count rows whose label is weak (assumed from the source).")
  var includeWeak = false

  @Flag(help: "Show rules that never hit too.")
  var all = false

  func run() throws {
    let ruleSet = try options.ruleSet()
    let rows = try LabeledRows.read(data, label: label, split: split, includeWeak: includeWeak)
    let stats = RuleStats(ruleSet: ruleSet, texts: rows.texts, labels: rows.labels)
    let file = (data as NSString).lastPathComponent
    print(
      "\(file)\(split.map { ", split \($0)" } ?? ""), label \(label): \(stats.messages) rows, "
        + "\(stats.positives) positive, base rate \(format(stats.baseRate))"
        + (rows.skipped.isEmpty ? "" : " (skipped: \(rows.skipped.joined(separator: ", ")))"))
    print()
    print("| pack (any stable rule with `marks`) | hits | coverage | precision |")
    print("|---|---:|---:|---:|")
    for pack in stats.packs {
      print("| \(pack.id) | \(pack.hits) | \(percent(pack.coverage)) | \(pack.precision.map(format) ?? "–") |")
    }
    print()
    print("| rule | status | hits | coverage | precision | fires most with |")
    print("|---|---|---:|---:|---:|---|")
    for rule in stats.rules where all || rule.hits > 0 {
      let overlap = rule.mostOverlap.map { "\($0.id) (\(percent($0.share)))" } ?? "–"
      print(
        "| \(rule.id) | \(rule.status?.rawValue ?? "") | \(rule.hits) | \(percent(rule.coverage)) | "
          + "\(rule.precision.map(format) ?? "–") | \(overlap) |")
    }
    let silent = stats.rules.filter { $0.hits == 0 }.count
    if !all && silent > 0 { print("\n\(plural(silent, "rule")) never hit (--all lists them).") }
  }

  func format(_ value: Double) -> String { String(format: "%.2f", value) }
  func percent(_ value: Double) -> String { String(format: "%.1f%%", value * 100) }
}

/// Texts and binary labels from a corpus JSONL file.
struct LabeledRows {
  var texts: [String] = []
  var labels: [Bool] = []
  /// What was left out and why, for the header line.
  var skipped: [String] = []

  static func read(_ path: String, label: String, split: String?, includeWeak: Bool) throws -> LabeledRows {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw CommandError("cannot read '\(path)': \(String(cString: strerror(errno)))")
    }
    var rows = LabeledRows()
    var unlabeled = 0, weak = 0, broken = 0
    var firstBroken: Int?
    for (index, line) in data.split(separator: UInt8(ascii: "\n")).enumerated() {
      guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
        let text = object["text"] as? String
      else {
        broken += 1
        firstBroken = firstBroken ?? index + 1
        continue
      }
      if let split, object["split"] as? String != split { continue }
      guard let value = (object["labels"] as? [String: Any])?[label] as? Int else {
        unlabeled += 1
        continue
      }
      if !includeWeak, (object["weak"] as? [String])?.contains(label) == true {
        weak += 1
        continue
      }
      rows.texts.append(text)
      rows.labels.append(value == 1)
    }
    if unlabeled > 0 { rows.skipped.append("\(unlabeled) with no '\(label)' label") }
    if weak > 0 { rows.skipped.append("\(weak) weak") }
    if broken > 0 { rows.skipped.append("\(broken) unreadable, first at line \(firstBroken!)") }
    return rows
  }
}
