import DiscernRules
import Foundation
import GRDB

/// Moderators' verdicts in one SQLite file: one row per message × label, the latest verdict.
///
/// A later verdict on the same message and label replaces the earlier one in `verdict`, and the
/// earlier one is kept in `verdict_history` with when it was replaced: learning wants the current
/// judgement only, but a moderation team is asked who changed a decision and when, and a
/// correction that silently erased the first verdict could not answer that.
///
/// The schema is built by `DatabaseMigrator` steps that are never edited once shipped: a later
/// version adds steps, so every file an earlier version wrote still opens
/// (`Tests/DiscernVerdictsTests/Fixtures/verdicts-v1.sqlite` holds that contract).
public final class VerdictStore: Sendable {
  public let path: String
  private let queue: DatabaseQueue

  /// Creates the file or opens it, then brings its schema up to date.
  public init(path: String) throws(VerdictStoreError) {
    self.path = path
    let queue: DatabaseQueue
    do {
      queue = try DatabaseQueue(path: path)
    } catch {
      throw Self.mapped(error, path: path, opening: true)
    }
    self.queue = queue
    let migrator = Self.migrator
    do {
      try queue.read { db in
        let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        // Tables, and none of ours: another program's database, which migrating would write into.
        if !tables.isEmpty, !tables.contains("grdb_migrations") {
          throw VerdictStoreError.foreignDatabase(path: path, tables: tables)
        }
        if tables.contains("grdb_migrations"), try migrator.hasBeenSuperseded(db) {
          let known = Set(Self.migrationNames)
          throw VerdictStoreError.newerSchema(path: path, migrations: try migrator.appliedIdentifiers(db).subtracting(known).sorted())
        }
      }
      try migrator.migrate(queue)
    } catch let error as VerdictStoreError {
      throw error
    } catch {
      throw Self.mapped(error, path: path, opening: false)
    }
  }

  /// The schema steps, in order. Never edit a shipped step: add one.
  static let migrationNames = ["v1"]

  private static var migrator: DatabaseMigrator {
    var migrator = DatabaseMigrator()
    migrator.registerMigration("v1") { db in
      func columns(_ table: TableDefinition) {
        table.column("message_id", .text).notNull()
        table.column("label", .text).notNull()
        table.column("text", .text).notNull()
        table.column("applies", .boolean).notNull()
        table.column("engine_probability", .double).notNull()
        table.column("engine_flagged", .boolean).notNull()
        table.column("rules_hash", .text).notNull()
        table.column("model_hash", .text).notNull()
        table.column("encoder_fingerprint", .text)
        table.column("moderator", .text).notNull()
        table.column("decided_at", .datetime).notNull()
        // JSON: [{"start", "end", "type"}].
        table.column("spans", .text).notNull()
        table.column("source", .text)
      }
      try db.create(table: "verdict") { table in
        columns(table)
        table.primaryKey(["message_id", "label"])
      }
      try db.create(table: "verdict_history") { table in
        table.autoIncrementedPrimaryKey("id")
        columns(table)
        table.column("replaced_at", .datetime).notNull()
      }
      try db.create(index: "verdict_history_message", on: "verdict_history", columns: ["message_id", "label"])
    }
    return migrator
  }

  /// Saves `verdicts` in one transaction: all or none. A verdict on a message and label already
  /// stored replaces it (the old one goes to the history).
  public func save(_ verdicts: [Verdict]) throws(VerdictStoreError) {
    for verdict in verdicts { try check(verdict) }
    let path = path
    do {
      try queue.write { db in
        let now = Verdict.millisecond(Date())
        var texts: [String: String] = [:]
        for verdict in verdicts {
          let stored = try VerdictRow.fetchAll(db, sql: "SELECT * FROM verdict WHERE message_id = ?", arguments: [verdict.messageID])
          let known = texts[verdict.messageID] ?? stored.first?.text
          if let known, known != verdict.text { throw VerdictStoreError.textDiffers(path: path, messageID: verdict.messageID) }
          texts[verdict.messageID] = verdict.text
          let row = try VerdictRow(verdict)
          if let earlier = stored.first(where: { $0.label == verdict.label }) {
            if earlier == row { continue }
            try HistoryRow(earlier, replacedAt: now).insert(db)
          }
          try row.insert(db, onConflict: .replace)
        }
      }
    } catch let error as VerdictStoreError {
      throw error
    } catch {
      throw Self.mapped(error, path: path, opening: false)
    }
  }

  /// Every current verdict, by message id then label.
  public func all() throws(VerdictStoreError) -> [Verdict] {
    try fetch("SELECT * FROM verdict ORDER BY message_id, label", arguments: [])
  }

  /// The current verdicts on one message, by label.
  public func verdicts(messageID: String) throws(VerdictStoreError) -> [Verdict] {
    try fetch("SELECT * FROM verdict WHERE message_id = ? ORDER BY label", arguments: [messageID])
  }

  /// The verdicts on one message that later ones replaced, oldest first, with when each was replaced.
  public func history(messageID: String) throws(VerdictStoreError) -> [(verdict: Verdict, replacedAt: Date)] {
    let path = path
    do {
      return try queue.read { db in
        try HistoryRow.fetchAll(db, sql: "SELECT * FROM verdict_history WHERE message_id = ? ORDER BY id", arguments: [messageID]).map {
          (try $0.row.verdict(path: path), $0.replacedAt)
        }
      }
    } catch let error as VerdictStoreError {
      throw error
    } catch {
      throw Self.mapped(error, path: path, opening: false)
    }
  }

  private func fetch(_ sql: String, arguments: StatementArguments) throws(VerdictStoreError) -> [Verdict] {
    let path = path
    do {
      return try queue.read { db in try VerdictRow.fetchAll(db, sql: sql, arguments: arguments).map { try $0.verdict(path: path) } }
    } catch let error as VerdictStoreError {
      throw error
    } catch {
      throw Self.mapped(error, path: path, opening: false)
    }
  }

  /// Refuses what no reader could use: an empty id or label, a probability outside [0, 1], a span
  /// outside the text or of a type the engine does not mark.
  private func check(_ verdict: Verdict) throws(VerdictStoreError) {
    func invalid(_ reason: String) -> VerdictStoreError {
      .invalidVerdict(path: path, messageID: verdict.messageID, label: verdict.label, reason: reason)
    }
    if verdict.messageID.isEmpty { throw invalid("the message id is empty") }
    if verdict.label.isEmpty { throw invalid("the label is empty") }
    guard verdict.engineProbability.isFinite, (0...1).contains(verdict.engineProbability) else {
      throw invalid("engine probability \(verdict.engineProbability) is not a probability from 0 to 1")
    }
    let length = verdict.text.unicodeScalars.count
    for span in verdict.spans {
      guard span.start >= 0, span.start < span.end, span.end <= length else {
        throw invalid("span [\(span.start), \(span.end)) is not inside the text's \(length) scalars")
      }
      guard SpanType(rawValue: span.type) != nil else {
        throw invalid("span type '\(span.type)' is none of \(SpanType.allCases.map(\.rawValue).joined(separator: ", "))")
      }
    }
  }

  /// A GRDB or SQLite error as the store's, naming the file.
  static func mapped(_ error: any Error, path: String, opening: Bool) -> VerdictStoreError {
    guard let error = error as? DatabaseError else { return .database(path: path, reason: "\(error)") }
    switch error.resultCode {
    case .SQLITE_NOTADB, .SQLITE_CORRUPT: return .notADatabase(path: path, reason: error.message ?? "\(error.resultCode)")
    case .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_READONLY: return .cannotOpen(path: path, reason: error.message ?? "\(error.resultCode)")
    default: return opening ? .cannotOpen(path: path, reason: "\(error)") : .database(path: path, reason: error.message ?? "\(error)")
    }
  }
}

/// One row of `verdict` as SQLite holds it (GRDB stays out of the public API).
struct VerdictRow: Codable, Equatable, FetchableRecord, PersistableRecord {
  static let databaseTableName = "verdict"

  var messageID: String
  var label: String
  var text: String
  var applies: Bool
  var engineProbability: Double
  var engineFlagged: Bool
  var rulesHash: String
  var modelHash: String
  var encoderFingerprint: String?
  var moderator: String
  var decidedAt: Date
  var spans: String
  var source: String?

  enum CodingKeys: String, CodingKey {
    case messageID = "message_id", label, text, applies
    case engineProbability = "engine_probability", engineFlagged = "engine_flagged"
    case rulesHash = "rules_hash", modelHash = "model_hash", encoderFingerprint = "encoder_fingerprint"
    case moderator, decidedAt = "decided_at", spans, source
  }

  init(_ verdict: Verdict) throws {
    messageID = verdict.messageID
    label = verdict.label
    text = verdict.text
    applies = verdict.applies
    engineProbability = verdict.engineProbability
    engineFlagged = verdict.engineFlagged
    rulesHash = verdict.rulesHash
    modelHash = verdict.modelHash
    encoderFingerprint = verdict.encoderFingerprint
    moderator = verdict.moderator
    decidedAt = Verdict.millisecond(verdict.decidedAt)
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    spans = String(decoding: try encoder.encode(verdict.spans), as: UTF8.self)
    source = verdict.source
  }

  func verdict(path: String) throws(VerdictStoreError) -> Verdict {
    let marked: [VerdictSpan]
    do {
      marked = try JSONDecoder().decode([VerdictSpan].self, from: Data(spans.utf8))
    } catch {
      throw .database(path: path, reason: "message '\(messageID)', label '\(label)': its spans are not [{start, end, type}] JSON (\(spans))")
    }
    return Verdict(
      messageID: messageID, text: text, label: label, applies: applies, engineProbability: engineProbability, engineFlagged: engineFlagged,
      rulesHash: rulesHash, modelHash: modelHash, encoderFingerprint: encoderFingerprint, moderator: moderator, decidedAt: decidedAt,
      spans: marked, source: source)
  }
}

/// A replaced verdict in `verdict_history`.
struct HistoryRow: FetchableRecord, PersistableRecord {
  static let databaseTableName = "verdict_history"

  var row: VerdictRow
  var replacedAt: Date

  init(_ row: VerdictRow, replacedAt: Date) {
    self.row = row
    self.replacedAt = replacedAt
  }

  init(row: GRDB.Row) throws {
    self.row = try VerdictRow(row: row)
    replacedAt = row["replaced_at"]
  }

  func encode(to container: inout PersistenceContainer) throws {
    try row.encode(to: &container)
    container["replaced_at"] = replacedAt
  }
}
