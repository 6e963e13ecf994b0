import DiscernVerdicts
import Foundation
import Testing

/// `discern verdicts` and `discern learn` through the binary.
@Suite struct LearnTests {
  static let hasEncoder = CLITests.hasEncoder
  let cli = CLITests()

  func scratch() throws -> String {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("learn-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    return folder
  }

  /// Messages written for this test (intent, hyperbole, distress, recovery, everyday), nothing graphic.
  static let texts = [
    "I don't want to be here anymore", "I keep thinking everyone would be better off without me",
    "I am so tired of living, I want it to stop", "tonight I just want to disappear for good",
    "I have been thinking about ending my life", "there is no point in going on, I'm done with everything",
    "I wrote goodbye letters to my friends", "I want to hurt myself again", "nobody would notice if I was gone",
    "I can't see a future for myself at all", "I feel like giving up on life", "I wish I could go to sleep and not wake up",
    "this homework is killing me lol", "I'm literally dying to see the new movie", "if I hear that song one more time I'll scream",
    "ugh this traffic makes me want to die haha", "my boss is going to kill me if I'm late again", "that joke killed me 😂",
    "I could die of embarrassment right now", "this heat is murder", "dead tired after the gym today",
    "the exam is going to be the end of me", "the weather is lovely this afternoon", "just made pancakes for the whole family",
    "does anyone know a good book about gardening", "our team won the match yesterday", "I am learning to play the guitar",
    "the bus was late again this morning", "looking forward to the weekend trip", "my cat knocked a glass off the table",
    "a year ago I wanted to die, today I'm grateful I stayed", "my friend told me she feels hopeless, how can I help her",
    "I used to self harm but I've been clean for two years", "the news about rising suicide rates is worrying",
    "he threatened to hurt me if I told anyone", "I hate those people, they should all disappear",
    "I feel so alone lately and I don't know who to talk to", "everything is falling apart and I can't cope",
    "I cried all night again", "I'm so stressed about money I can't sleep", "sometimes I feel empty inside",
    "I'm exhausted and nothing makes me happy anymore", "I feel worthless today", "I don't know how much longer I can keep doing this",
    "my therapist says I'm making progress", "I just want the pain to stop", "happy birthday to my best friend!",
    "can't wait for the concert tonight",
  ]

  /// A verdicts database of `texts` on self_harm, imported through the binary (so each verdict holds
  /// the engine's probability), then judged as a platform whose moderators see self-harm wherever the
  /// engine gives more than its median probability (every seventh message the other way: people
  /// disagree). `flipped` turns every verdict round: a harmful set.
  func verdictsDatabase(in folder: String, flipped: Bool) throws -> String {
    let corpus = folder + "/messages.jsonl"
    let lines = Self.texts.enumerated().map { index, text in
      let object: [String: Any] = ["id": String(format: "msg-%03d", index), "split": "dev", "text": text, "labels": ["self_harm": 0]]
      return String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }
    try (lines.joined(separator: "\n") + "\n").write(toFile: corpus, atomically: true, encoding: .utf8)
    let db = folder + "/verdicts.sqlite"
    let imported = try cli.discern("verdicts", "import", "--db", db, "--corpus", corpus, "--moderator", "test")
    #expect(imported.status == 0, "\(imported.stderr)")
    #expect(imported.stdout == "imported 48 verdicts on 48 messages into \(db)\n")
    let store = try VerdictStore(path: db)
    var verdicts = try store.all()
    let median = verdicts.map(\.engineProbability).sorted()[verdicts.count / 2]
    for index in verdicts.indices {
      let platform = (verdicts[index].engineProbability >= median) != (index % 7 == 3)
      verdicts[index].applies = flipped ? !platform : platform
      verdicts[index].moderator = "platform"
    }
    try store.save(verdicts)
    return db
  }

  @Test(.enabled(if: hasEncoder, "needs 'make model'"))
  func learnWritesAModelFolderThatLoads() throws {
    let folder = try scratch()
    let db = try verdictsDatabase(in: folder, flipped: false)
    let learned = try cli.discern("learn", "--verdicts", db, "--out", folder + "/learned")
    #expect(learned.status == 0, "\(learned.stderr)")
    #expect(learned.stdout.hasPrefix("48 verdicts on 48 messages, 13 of them held out (--holdout 0.3, --seed 1).\n"))
    #expect(learned.stdout.contains("\nself_harm "))
    #expect(learned.stdout.contains("calibration"))
    #expect(learned.stdout.hasSuffix("wrote \(folder)/learned; compare it with the model it started from: discern audit FILE --model \(folder)/learned --baseline-model \(CLITests.root.path)/Models/default\n"))
    // A normal model folder: explain and an audit against the starting model load it.
    let explained = try cli.discern("explain", "--model", folder + "/learned", "I don't want to be here anymore")
    #expect(explained.status == 0, "\(explained.stderr)")
    try "{\"id\":\"a\",\"text\":\"I feel like giving up on life\"}\n".write(toFile: folder + "/in.jsonl", atomically: true, encoding: .utf8)
    let audited = try cli.discern(
      "audit", folder + "/in.jsonl", "--model", folder + "/learned", "--baseline-model", "Models/default", "--out", folder + "/out.jsonl")
    #expect(audited.status == 0, "\(audited.stderr)")
  }

  @Test(.enabled(if: hasEncoder, "needs 'make model'"))
  func flippedVerdictsAreRefused() throws {
    let folder = try scratch()
    let db = try verdictsDatabase(in: folder, flipped: true)
    let learned = try cli.discern("learn", "--verdicts", db, "--out", folder + "/learned")
    #expect(learned.status == 1)
    #expect(
      learned.stderr.hasSuffix(
        "Not written: the verdicts on self_harm say it applies less the more evidence the engine finds for it (the refitted calibration falls as the engine's logit rises). A model learned from them would flag the messages the engine reads as least likely; check that the verdicts' labels are not flipped (applies true for 'the label applies').\n"
      ), "\(learned.stderr)")
    #expect(!FileManager.default.fileExists(atPath: folder + "/learned"))
  }

  /// A weak label is assumed from where the text came from: no one judged it, so it is no verdict.
  @Test(.enabled(if: hasEncoder, "needs 'make model'"))
  func importLeavesWeakLabelsOut() throws {
    let folder = try scratch()
    let rows = [
      #"{"id":"a","split":"dev","text":"see you at the match tonight","labels":{"self_harm":0,"harming_others":0},"weak":["self_harm"]}"#,
      #"{"id":"b","split":"dev","text":"what a lovely day","labels":{"self_harm":0,"harming_others":null},"weak":["self_harm"]}"#,
      #"{"id":"c","split":"test","text":"not this one","labels":{"self_harm":0}}"#,
    ]
    try (rows.joined(separator: "\n") + "\n").write(toFile: folder + "/rows.jsonl", atomically: true, encoding: .utf8)
    let run = try cli.discern("verdicts", "import", "--db", folder + "/v.sqlite", "--corpus", folder + "/rows.jsonl")
    #expect(run.status == 0, "\(run.stderr)")
    #expect(run.stdout == "imported 1 verdicts on 1 messages into \(folder)/v.sqlite\n")
    let verdicts = try VerdictStore(path: folder + "/v.sqlite").all()
    #expect(verdicts.map { "\($0.messageID) \($0.label) \($0.applies) \($0.moderator)" } == ["a harming_others false import"])
  }

  @Test func learnNeverOverwritesAFolder() throws {
    let folder = try scratch()
    let run = try cli.discern("learn", "--verdicts", folder + "/v.sqlite", "--out", folder)
    #expect(run.status == 1)
    #expect(run.stderr == "Error: '\(folder)' already exists; pass a new folder to --out (a learned model never overwrites one)\n")
  }

  @Test func learnNamesAFileThatIsNoDatabase() throws {
    let folder = try scratch()
    try Data(repeating: UInt8(ascii: "x"), count: 4096).write(to: URL(fileURLWithPath: folder + "/v.sqlite"))
    let run = try cli.discern("learn", "--verdicts", folder + "/v.sqlite", "--out", folder + "/learned")
    #expect(run.status == 1)
    #expect(
      run.stderr
        == "Error: '\(folder)/v.sqlite' is not a verdicts database (SQLite: file is not a database); pass the file the review page wrote, or move this one aside to start a new database there\n"
    )
  }

  @Test func learnNamesAMissingDatabase() throws {
    let folder = try scratch()
    let run = try cli.discern("learn", "--verdicts", folder + "/none.sqlite", "--out", folder + "/learned")
    #expect(run.status == 1)
    #expect(
      run.stderr
        == "Error: no verdicts database at '\(folder)/none.sqlite'; the review page (discern serve, /review) writes one, or 'discern verdicts import' from a corpus file\n"
    )
  }

  @Test func exportWritesTheCorpusFormat() throws {
    let folder = try scratch()
    let store = try VerdictStore(path: folder + "/v.sqlite")
    try store.save([
      Verdict(
        messageID: "m1", text: "see you all tomorrow", label: "self_harm", applies: false, engineProbability: 0.1, engineFlagged: false,
        rulesHash: "r", modelHash: "m", encoderFingerprint: nil, moderator: "ana", decidedAt: Date(timeIntervalSince1970: 0))
    ])
    let run = try cli.discern("verdicts", "export", "--db", folder + "/v.sqlite", "--out", folder + "/out.jsonl")
    #expect(run.status == 0, "\(run.stderr)")
    #expect(run.stdout == "wrote 1 message to \(folder)/out.jsonl\n")
    #expect(
      try String(contentsOfFile: folder + "/out.jsonl", encoding: .utf8)
        == #"{"id":"m1","labels":{"harmed_by_others":null,"harming_others":null,"reference_to_harm":null,"self_harm":0},"orig":null,"source":"verdicts","spans":[],"split":"dev","text":"see you all tomorrow","weak":[]}"#
        + "\n")
  }
}
