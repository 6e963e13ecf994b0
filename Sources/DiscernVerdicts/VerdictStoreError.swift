import Foundation

/// Why the verdicts database could not be used. Each says which file, what went wrong and what to do.
public enum VerdictStoreError: Error, CustomStringConvertible, Equatable {
  /// SQLite could not open or create the file (a missing folder, no permission).
  case cannotOpen(path: String, reason: String)
  /// The file exists but is no SQLite database (or is damaged).
  case notADatabase(path: String, reason: String)
  /// A SQLite database, but another program's: it holds tables and none of the verdicts'.
  case foreignDatabase(path: String, tables: [String])
  /// Written by a later Discern whose schema this one does not know.
  case newerSchema(path: String, migrations: [String])
  /// A verdict that cannot be stored as it is.
  case invalidVerdict(path: String, messageID: String, label: String, reason: String)
  /// Verdicts on one message must be about one text.
  case textDiffers(path: String, messageID: String)
  /// SQLite refused a read or a write.
  case database(path: String, reason: String)
  /// The corpus JSONL could not be written.
  case export(path: String, reason: String)

  public var description: String {
    switch self {
    case .cannotOpen(let path, let reason):
      "cannot open the verdicts database '\(path)': \(reason); check that its folder exists and is writable"
    case .notADatabase(let path, let reason):
      "'\(path)' is not a verdicts database (SQLite: \(reason)); pass the file the review page wrote, "
        + "or move this one aside to start a new database there"
    case .foreignDatabase(let path, let tables):
      "'\(path)' is a SQLite database of another program (tables: \(tables.joined(separator: ", "))), not a verdicts database; "
        + "pass the file the review page wrote, or a new path"
    case .newerSchema(let path, let migrations):
      "'\(path)' was written by a later Discern (schema steps unknown here: \(migrations.joined(separator: ", "))); "
        + "read it with that version or a newer one"
    case .invalidVerdict(let path, let messageID, let label, let reason):
      "verdict on message '\(messageID)', label '\(label)' not saved to '\(path)': \(reason)"
    case .textDiffers(let path, let messageID):
      "verdicts on message '\(messageID)' in '\(path)' are about another text; a message id names one text: "
        + "give the changed text a new id"
    case .database(let path, let reason): "verdicts database '\(path)': \(reason)"
    case .export(let path, let reason): "cannot write the corpus JSONL '\(path)': \(reason); check that its folder exists and is writable"
    }
  }
}
