import Discern
import DiscernAudit
import DiscernRules
import DiscernVerdicts
import Foundation
import NIOConcurrencyHelpers

/// Why the review queue refused something; each says where and what, and the status it is answered with.
public enum ReviewError: Error, Equatable, Sendable, CustomStringConvertible {
  /// An audit file's line is not an audit record.
  case notARecord(file: String, line: Int, reason: String)
  case unreadable(file: String, reason: String)
  case unknownMessage(id: String)
  case unknownLabel(String, labels: [String])
  case unknownSpanType(String)
  case badRequest(String)
  case badSpan(index: Int, start: Int, end: Int, length: Int)
  case store(String)

  public var status: Int {
    switch self {
    case .unknownMessage: 404
    case .store: 500
    default: 400
    }
  }

  public var description: String {
    switch self {
    case .notARecord(let file, let line, let reason): "'\(file)' line \(line) is not an audit record: \(reason). Give the JSONL that discern audit writes."
    case .unreadable(let file, let reason): "cannot read '\(file)': \(reason)"
    case .unknownMessage(let id): "No message '\(id)' in the review queue; reload the page."
    case .unknownLabel(let label, let labels): "'\(label)' is not a label of this policy; its labels: \(labels.joined(separator: ", "))."
    case .unknownSpanType(let type):
      "'\(type)' is not a span type; one of: \(SpanType.allCases.map(\.rawValue).joined(separator: ", "))."
    case .badRequest(let reason): reason
    case .badSpan(let index, let start, let end, let length):
      "spans[\(index)] is [\(start), \(end)), outside the message's \(length) characters (offsets are Unicode scalars, start < end)."
    case .store(let reason): reason
    }
  }

  var json: String {
    "{\"error\":{\"code\":\"review\",\"message\":\(DecisionJSON.string(description))}}"
  }
}

/// The messages waiting for a moderator, most urgent first, and the verdicts given on them. The
/// records are an audit's (or decided on arrival through the API) and stay in memory; the verdicts
/// go to the SQLite store at once, so a reloaded page — or a restarted server — shows them kept.
public final class ReviewQueue: Sendable {
  struct Item: Sendable {
    let id: String
    let text: String
    /// The decision record as the audit wrote it (explain form: contributions and rationale).
    let record: String
    let tier: UrgencyTier
    /// Arrival order, to keep the input's order within a tier.
    let order: Int
    let labels: [String: (probability: Double, flagged: Bool)]
    let rules: String, model: String, encoder: String?
  }

  public let store: VerdictStore
  /// The policy's labels, in its order: what a verdict may name.
  public let labels: [String]
  private let items = NIOLockedValueBox<[Item]>([])

  public init(store: VerdictStore, labels: [String]) {
    self.store = store
    self.labels = labels
  }

  public var count: Int { items.withLockedValue { $0.count } }

  /// Adds an audit's JSONL records (error records — input that could not be decided — are left out
  /// and counted). Returns how many were added and left out.
  @discardableResult
  public func add(auditFile path: String) throws(ReviewError) -> (added: Int, errors: Int) {
    let text: String
    do { text = try String(contentsOfFile: path, encoding: .utf8) } catch { throw .unreadable(file: path, reason: error.localizedDescription) }
    var parsed: [Item] = []
    var errors = 0
    let start = count
    for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
      guard let item = try Self.item(String(line), engine: nil, order: start + parsed.count, file: path, line: index + 1) else {
        errors += 1
        continue
      }
      parsed.append(item)
    }
    insert(parsed)
    return (parsed.count, errors)
  }

  /// Adds decisions made now (`POST /review/api/items`), with the engine that made them.
  public func add(_ messages: [(id: String?, decision: Decision)], service: ModerationService) {
    let start = count
    let made = messages.enumerated().compactMap { offset, message -> Item? in
      let id = message.id ?? "api-\(start + offset + 1)"
      let record = DecisionJSON.record(id: id, message.decision, explain: true)
      return try? Self.item(record, engine: service.fingerprints, order: start + offset, file: "request", line: offset + 1)
    }
    insert(made)
  }

  private func insert(_ new: [Item]) {
    items.withLockedValue { items in
      items.append(contentsOf: new)
      items.sort { ($0.tier, $0.order) < ($1.tier, $1.order) }
    }
  }

  /// One record's item, nil for an error record.
  static func item(_ record: String, engine: EngineFingerprints?, order: Int, file: String, line: Int) throws(ReviewError) -> Item? {
    guard let object = (try? JSONSerialization.jsonObject(with: Data(record.utf8))) as? [String: Any] else {
      throw .notARecord(file: file, line: line, reason: "not a JSON object")
    }
    if object["error"] != nil { return nil }
    guard let text = object["text"] as? String, let labels = object["labels"] as? [String: [String: Any]],
      let urgency = object["urgency"] as? [String: Any], let tierName = urgency["tier"] as? String
    else { throw .notARecord(file: file, line: line, reason: "no 'text', 'labels' or 'urgency.tier'") }
    guard let tier = UrgencyTier(rawValue: tierName) else { throw .notARecord(file: file, line: line, reason: "unknown tier '\(tierName)'") }
    let id = (object["id"] as? String) ?? "line-\(line)"
    var decided: [String: (probability: Double, flagged: Bool)] = [:]
    for (label, value) in labels {
      decided[label] = ((value["probability"] as? Double) ?? 0, (value["flagged"] as? Bool) ?? false)
    }
    let prints = object["fingerprints"] as? [String: Any]
    let rules = engine?.rules ?? (prints?["rules"] as? String) ?? "unknown"
    let model = engine?.model ?? (prints?["model"] as? String) ?? "unknown"
    let encoder = engine != nil ? engine?.encoder : prints?["encoder"] as? String
    return Item(id: id, text: text, record: record, tier: tier, order: order, labels: decided, rules: rules, model: model, encoder: encoder)
  }

  /// `GET /review/api/queue`: the labels, then every item most urgent first with the verdicts stored for it.
  public func queueJSON() throws(ReviewError) -> String {
    let items = self.items.withLockedValue { $0 }
    let stored: [Verdict]
    do { stored = try store.all() } catch { throw .store("\(error)") }
    let byMessage = Dictionary(grouping: stored, by: \.messageID)
    let entries = items.map { item -> String in
      let verdicts = byMessage[item.id] ?? []
      let given = verdicts.map { "\(DecisionJSON.string($0.label)):\($0.applies)" }.joined(separator: ",")
      // The marked spans are the message's (each verdict row carries them all).
      var seen = Set<String>()
      let marked = verdicts.flatMap(\.spans).compactMap { span -> String? in
        let text = "{\"end\":\(span.end),\"start\":\(span.start),\"type\":\(DecisionJSON.string(span.type))}"
        return seen.insert(text).inserted ? text : nil
      }
      return "{\"id\":\(DecisionJSON.string(item.id)),\"markedSpans\":[\(marked.joined(separator: ","))],\"record\":\(item.record),\"reviewed\":\(!verdicts.isEmpty),\"verdicts\":{\(given)}}"
    }
    let spanTypes = SpanType.allCases.map { DecisionJSON.string($0.rawValue) }.joined(separator: ",")
    return "{\"items\":[\(entries.joined(separator: ","))],\"labels\":[\(labels.map(DecisionJSON.string).joined(separator: ","))],\"spanTypes\":[\(spanTypes)]}"
  }

  /// `POST /review/api/verdicts`: `{"id", "moderator", "verdicts": [{"label", "applies"}], "spans": [{"start", "end", "type"}]}`.
  /// A span's type is one of the engine's span types; the marked spans are the message's, kept with
  /// each of its verdicts.
  public func saveVerdicts(_ body: Data, at time: Date = Date()) throws(ReviewError) -> Int {
    guard let object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] else {
      throw .badRequest("The body is not a JSON object: send {\"id\", \"moderator\", \"verdicts\": [{\"label\", \"applies\"}], \"spans\": […]}.")
    }
    guard let id = object["id"] as? String else { throw .badRequest("Missing 'id': the message the verdicts are on.") }
    guard let moderator = (object["moderator"] as? String)?.trimmingCharacters(in: .whitespaces), !moderator.isEmpty else {
      throw .badRequest("Missing 'moderator': every verdict says who gave it.")
    }
    guard let given = object["verdicts"] as? [[String: Any]], !given.isEmpty else {
      throw .badRequest("Missing 'verdicts': send at least one {\"label\", \"applies\": true|false}.")
    }
    guard let item = items.withLockedValue({ $0.first { $0.id == id } }) else { throw .unknownMessage(id: id) }
    let length = item.text.unicodeScalars.count
    var spans: [VerdictSpan] = []
    for (index, span) in ((object["spans"] as? [[String: Any]]) ?? []).enumerated() {
      guard let start = span["start"] as? Int, let end = span["end"] as? Int, let type = span["type"] as? String else {
        throw .badRequest("spans[\(index)] needs 'start', 'end' (integers) and 'type' (a span type).")
      }
      guard 0 <= start, start < end, end <= length else { throw .badSpan(index: index, start: start, end: end, length: length) }
      guard SpanType(rawValue: type) != nil else { throw .unknownSpanType(type) }
      spans.append(VerdictSpan(start: start, end: end, type: type))
    }
    var verdicts: [Verdict] = []
    for (index, entry) in given.enumerated() {
      guard let label = entry["label"] as? String, let applies = entry["applies"] as? Bool else {
        throw .badRequest("verdicts[\(index)] needs 'label' and 'applies' (true or false).")
      }
      guard labels.contains(label) else { throw .unknownLabel(label, labels: labels) }
      let engine = item.labels[label] ?? (0, false)
      verdicts.append(
        Verdict(
          messageID: item.id, text: item.text, label: label, applies: applies, engineProbability: engine.probability,
          engineFlagged: engine.flagged, rulesHash: item.rules, modelHash: item.model, encoderFingerprint: item.encoder,
          moderator: moderator, decidedAt: time, spans: spans, source: nil))
    }
    do { try store.save(verdicts) } catch { throw .store("The verdicts were not saved: \(error)") }
    return verdicts.count
  }
}
