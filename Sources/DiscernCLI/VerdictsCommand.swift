import ArgumentParser
import Discern
import DiscernAudit
import DiscernVerdicts
import Foundation

struct VerdictsCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "verdicts",
    abstract: "Moderators' verdicts in a SQLite database: import labelled corpus rows, export to the corpus format.",
    subcommands: [Import.self, Export.self])

  struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Add a corpus file's labelled rows to a verdicts database, as verdicts on the engine's decisions.",
      discussion: """
        Each selected row is decided with --model, and each of its labels the policy has becomes one \
        verdict (the row's label as the moderator's), recorded with the engine's probability and the \
        rules and model fingerprints. A verdict already there for the same message and label is \
        replaced (the old one kept in the history).
        """)

    @OptionGroup var rulesOptions: RulesOptions
    @OptionGroup var encoderOptions: EncoderOptions
    @OptionGroup var engineOptions: EngineOptions

    @Option(help: "The verdicts database (created when missing).")
    var db: String

    @Option(help: "A corpus-format .jsonl file (../shared/data/corpus, or the annotated set in Annotations/build).")
    var corpus: String

    @Option(help: "The split whose rows to import: train, dev or test.")
    var split: String = "dev"

    @Option(help: "Only rows from this source: an annotated row's corpus_file, else the row's source field ('.jsonl' optional).")
    var source: String?

    @Option(help: "At most this many rows (the first in the file).")
    var limit: Int?

    @Option(help: "Who the verdicts are recorded as given by.")
    var moderator: String = "import"

    func validate() throws {
      try SplitOption.validate(split)
      if let limit, limit < 1 { throw ValidationError("--limit must be at least 1; got \(limit).") }
    }

    func run() throws {
      let model = try engineOptions.model
      let encoder = try encoderOptions.load(model: model)
      let engine = try engineOptions.load(rules: rulesOptions.rules, encoder: encoder)
      let fingerprints = EngineFingerprints(
        rules: try rulesOptions.rules, policy: try engineOptions.policy, model: model, variant: .fused, encoder: encoder.fingerprint,
        lexicon: encoderOptions.lexicon, ruleLexicons: engine.ruleSet.lexicons)
      do {
        let verdicts = try CorpusImport.verdicts(
          path: corpus, split: split, source: source, limit: limit, engine: engine, rulesHash: fingerprints.rules, modelHash: fingerprints.model,
          moderator: moderator)
        try VerdictStore(path: db).save(verdicts)
        print("imported \(verdicts.count) verdicts on \(Set(verdicts.map(\.messageID)).count) messages into \(db)")
      } catch let error as CorpusImport.ImportError {
        throw CommandError(error.description)
      } catch let error as VerdictStoreError {
        throw CommandError(error.description)
      }
    }
  }

  struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Write a verdicts database as corpus JSONL: one row per message, the moderators' verdicts as its labels.")

    @Option(help: "The verdicts database.")
    var db: String

    @Option(help: "The .jsonl file to write.")
    var out: String

    @Option(help: "The split the rows are given: dev (the default) for tuning, train or test.")
    var split: String = "dev"

    func validate() throws {
      try SplitOption.validate(split)
    }

    func run() throws {
      guard FileManager.default.fileExists(atPath: db) else { throw CommandError("no verdicts database at '\(db)'") }
      do {
        let store = try VerdictStore(path: db)
        try store.exportCorpusJSONL(to: out, split: split)
        let messages = Set(try store.all().map(\.messageID)).count
        print("wrote \(messages) \(messages == 1 ? "message" : "messages") to \(out)")
      } catch {
        throw CommandError(error.description)
      }
    }
  }
}
