import DiscernEncoder
import DiscernRules
import Foundation

/// The four labels of the label guide, in the order every model file uses (the policy's list).
public let allLabels = Policy.labelNames

/// One labeled message of the corpus (see ../shared/data/README.md).
public struct CorpusRow: Sendable {
  public let id: String
  /// The file it came from, e.g. "suicidal_keyword_tweets.jsonl".
  public let file: String
  public let split: String
  public let text: String
  /// Only the labels the source says something about (null labels are absent).
  public let labels: [String: Int]
  /// Labels assumed from where the text came from rather than annotated per row.
  public let weak: Set<String>
  /// The annotated set's extras (`Annotations/`): the guide's category, CM/SI spans, and whether the
  /// text was written for the set rather than drawn from real data. Absent in the public corpus files.
  public var category: AnnotatedSet.Category? = nil
  public var spans: [AnnotatedSet.Span] = []
  public var synthetic = false
}

public enum CorpusError: Error, CustomStringConvertible, Equatable {
  case unreadable(path: String)
  case badLine(path: String, line: Int, reason: String)
  case empty(folder: String)

  public var description: String {
    switch self {
    case .unreadable(let path): "cannot read corpus file '\(path)'"
    case .badLine(let path, let line, let reason): "\(path):\(line): \(reason)"
    case .empty(let folder): "no .jsonl files in corpus folder '\(folder)'"
    }
  }
}

public enum Corpus {
  private struct Line: Decodable {
    let id: String
    let split: String
    let text: String
    let labels: [String: Int?]
    let weak: [String]?
    let category: AnnotatedSet.Category?
    let spans: [AnnotatedSet.Span]?
    let synthetic: Bool?
  }

  /// The .jsonl files of a corpus folder, sorted.
  public static func files(in folder: String) throws(CorpusError) -> [String] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
    let files = names.filter { $0.hasSuffix(".jsonl") }.sorted().map { folder + "/" + $0 }
    guard !files.isEmpty else { throw .empty(folder: folder) }
    return files
  }

  public static func read(_ path: String) throws(CorpusError) -> [CorpusRow] {
    try load(path).rows
  }

  /// Rows that Discern may learn from: every row but the corpus rows behind the annotated `test`
  /// split (`AnnotatedSet.heldOutRows`), which would otherwise reach a fit through the corpus `dev` split.
  /// An annotated-set row (id `<corpus row>@<start>-<end>`) counts as the corpus row it was cut from.
  /// Rows in `superseded` (the corpus rows the annotated set relabels) are left out as the corpus
  /// carries them, while the annotated chunks cut from them are kept: the people's labels replace the
  /// source's, they do not remove the text from learning.
  public static func learnable(_ rows: [CorpusRow], heldOut: Set<String>, superseded: Set<String> = []) -> [CorpusRow] {
    guard !heldOut.isEmpty || !superseded.isEmpty else { return rows }
    return rows.filter {
      !heldOut.contains($0.id) && !heldOut.contains(String($0.id.prefix { $0 != "@" })) && !superseded.contains($0.id)
    }
  }

  /// The rows of `path` and the bytes they came from, so that callers fingerprint the file without
  /// reading it again.
  public static func load(_ path: String) throws(CorpusError) -> (rows: [CorpusRow], bytes: Data) {
    guard let data = FileManager.default.contents(atPath: path) else { throw .unreadable(path: path) }
    let name = (path as NSString).lastPathComponent
    let decoder = JSONDecoder()
    var rows: [CorpusRow] = []
    for (index, line) in data.split(separator: UInt8(ascii: "\n")).enumerated() where !line.isEmpty {
      do {
        let row = try decoder.decode(Line.self, from: Data(line))
        rows.append(
          CorpusRow(
            id: row.id, file: name, split: row.split, text: row.text, labels: row.labels.compactMapValues { $0 },
            weak: Set(row.weak ?? []), category: row.category, spans: row.spans ?? [], synthetic: row.synthetic ?? false))
      } catch {
        throw .badLine(path: path, line: index + 1, reason: "not a corpus record (id, split, text, labels)")
      }
    }
    return (rows, data)
  }

}
