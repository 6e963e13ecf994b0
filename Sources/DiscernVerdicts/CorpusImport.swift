import Discern
import Foundation

/// Corpus rows turned into verdicts, as if a moderator had reviewed the engine's decision on each
/// and given the row's labels: how a deployment seeds the database from data it already labelled,
/// and how the per-source measurement gives `discern learn` a source's annotated rows.
public enum CorpusImport {
  /// A corpus row with the fields the import reads (the annotated set's `corpus_file` names where a
  /// row's text came from).
  struct Row: Decodable {
    let id: String
    let split: String
    let text: String
    let labels: [String: Int?]
    let source: String?
    let corpusFile: String?
    let spans: [VerdictSpan]?
    /// Labels assumed from where the text came from: no one judged them, so they are no verdicts.
    let weak: [String]?

    enum CodingKeys: String, CodingKey {
      case id, split, text, labels, source, spans, weak
      case corpusFile = "corpus_file"
    }

    /// The row's source: the corpus file an annotated row was cut from (without ".jsonl"), else its
    /// `source` field.
    var origin: String? { corpusFile.map { $0.hasSuffix(".jsonl") ? String($0.dropLast(6)) : $0 } ?? source }
  }

  public enum ImportError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String)
    case badLine(path: String, line: Int)
    case nothingSelected(path: String, split: String, source: String?)

    public var description: String {
      switch self {
      case .unreadable(let path): "cannot read corpus file '\(path)'"
      case .badLine(let path, let line): "\(path):\(line): not a corpus record (id, split, text, labels)"
      case .nothingSelected(let path, let split, let source):
        "'\(path)' has no \(split) rows" + (source.map { " from source '\($0)'" } ?? "") + " with a label of the policy; check --split and --source"
      }
    }
  }

  /// The verdicts for the first `limit` rows of `path` in `split` (from `source` when given: a
  /// row's `corpus_file` or `source`, ".jsonl" optional), one per policy label the row gives (weak
  /// labels left out: no one judged them), with
  /// the engine's decision on the row's text and `fingerprints` (rules, model) recorded beside it.
  public static func verdicts(
    path: String, split: String, source: String?, limit: Int?, engine: Engine, rulesHash: String, modelHash: String, moderator: String,
    decidedAt: Date = Date()
  ) throws(ImportError) -> [Verdict] {
    guard let data = FileManager.default.contents(atPath: path) else { throw .unreadable(path: path) }
    let wanted = source.map { $0.hasSuffix(".jsonl") ? String($0.dropLast(6)) : $0 }
    let labels = Set(engine.policy.labels.map(\.name))
    var rows: [Row] = []
    for (index, line) in data.split(separator: UInt8(ascii: "\n")).enumerated() where !line.isEmpty {
      guard let row = try? JSONDecoder().decode(Row.self, from: Data(line)) else { throw .badLine(path: path, line: index + 1) }
      guard row.split == split, wanted == nil || row.origin == wanted, row.labels.contains(where: { labels.contains($0.key) && $0.value != nil && !(row.weak ?? []).contains($0.key) })
      else { continue }
      rows.append(row)
      if let limit, rows.count == limit { break }
    }
    guard !rows.isEmpty else { throw .nothingSelected(path: path, split: split, source: source) }
    let decisions = engine.decide(rows.map(\.text))
    return zip(rows, decisions).flatMap { row, decision in
      row.labels.keys.sorted().compactMap { label -> Verdict? in
        guard labels.contains(label), !(row.weak ?? []).contains(label), let value = row.labels[label] ?? nil, let decided = decision.label(label)
        else { return nil }
        return Verdict(
          messageID: row.id, text: row.text, label: label, applies: value == 1, engineProbability: decided.probability,
          engineFlagged: decided.flagged, rulesHash: rulesHash, modelHash: modelHash, encoderFingerprint: engine.encoder?.fingerprint,
          moderator: moderator, decidedAt: decidedAt, spans: row.spans ?? [], source: row.origin)
      }
    }
  }
}
