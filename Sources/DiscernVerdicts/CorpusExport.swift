import DiscernModel
import Foundation

extension VerdictStore {
  /// Writes every message with verdicts as one corpus row (../shared/data/README.md, the annotated
  /// set's fields): `{"id", "source", "split", "text", "labels", "weak", "orig", "spans"}`, one JSON
  /// object a line, by message id. Every policy label is listed, `null` where no moderator judged it;
  /// `source` is the verdicts' corpus source or "verdicts"; `split` is `split` (dev by default:
  /// verdicts are what a deployment tunes on, never what it reports on). `spans` holds the
  /// moderators' serious-intent and casual-mention spans, the types the corpus format carries; spans
  /// of the engine's other types go to `other_spans`, so the export loses nothing.
  public func exportCorpusJSONL(to path: String, split: String = "dev") throws(VerdictStoreError) {
    let verdicts = try all()
    let byMessage = Dictionary(grouping: verdicts, by: \.messageID)
    var lines = Data()
    for id in byMessage.keys.sorted() {
      let group = byMessage[id]!
      let labels = allLabels + Set(group.map(\.label)).subtracting(allLabels).sorted()
      var judged: [String: Any] = [:]
      for label in labels { judged[label] = group.first { $0.label == label }.map { $0.applies ? 1 : 0 } ?? NSNull() }
      // One span marked under two labels is one span of the message.
      var seen = Set<String>()
      let spans = group.flatMap(\.spans).filter { seen.insert("\($0.type) \($0.start) \($0.end)").inserted }
        .sorted { ($0.start, $0.end, $0.type) < ($1.start, $1.end, $1.type) }
      func objects(_ spans: [VerdictSpan]) -> [[String: Any]] { spans.map { ["start": $0.start, "end": $0.end, "type": $0.type] } }
      let corpusTypes = Set(AnnotatedSet.SpanType.allCases.map(\.rawValue))
      var object: [String: Any] = [
        "id": id, "source": group.compactMap(\.source).first ?? "verdicts", "split": split, "text": group[0].text, "labels": judged,
        "weak": [String](), "orig": NSNull(), "spans": objects(spans.filter { corpusTypes.contains($0.type) }),
      ]
      let other = spans.filter { !corpusTypes.contains($0.type) }
      if !other.isEmpty { object["other_spans"] = objects(other) }
      do {
        lines.append(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
      } catch {
        throw .export(path: path, reason: "message '\(id)': \(error)")
      }
      lines.append(UInt8(ascii: "\n"))
    }
    do {
      try lines.write(to: URL(fileURLWithPath: path), options: .atomic)
    } catch {
      throw .export(path: path, reason: error.localizedDescription)
    }
  }
}
