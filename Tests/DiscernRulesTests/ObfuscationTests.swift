import DiscernRules
import Testing

/// What the obfuscation reading undoes, what it must leave alone, and that spans found on its
/// output point into the message as written.
@Suite struct ObfuscationTests {
  static func undone(_ text: String) -> String? {
    Obfuscation.undo(Array(text.utf8)).map { String(decoding: $0.bytes, as: UTF8.self) }
  }

  @Test(arguments: [
    ("k!ll mys3lf", "kill myself"),
    ("d1e", "die"),
    ("I want to d1e tonight", "I want to die tonight"),
    ("s u i c i d e", "suicide"),
    ("s.u.i.c.i.d.e", "suicide"),
    ("s.u.i.c.i.d.e. again", "suicide again"),
    ("k-i-l-l", "kill"),
    ("k_i_l_l me", "kill me"),
    ("k.1.l.l mys3lf", "kill myself"),
    ("su1c1d3", "suicide"),
    ("un4l1ve my$elf", "unalive myself"),
    ("K1LL MYS3LF", "KiLL MYSeLF"),
    ("h3ll0 th3re", "hello there"),
    ("k.y.s", "kys"),
    ("r.i.p. me", "rip me"),
    ("ok 😶 k-i-l-l myself", "ok 😶 kill myself"),
  ])
  func undoesLeetspeakAndLettersSpeltApart(_ written: String, _ read: String) {
    #expect(Self.undone(written) == read)
  }

  /// Ordinary text keeps its meaning: numbers, times, prices, codes, abbreviations, texting, and
  /// punctuation that ends a sentence come out exactly as written.
  @Test(arguments: [
    "I have 1 day left", "3 kids and 2 dogs", "a-ha, I see", "the U.S. and the U.K.", "a B-52 flew over", "it costs $20",
    "see you at 7am", "12:30pm works", "it is 5 kms to the station", "my mp3 player", "the H1N1 vaccine", "Python3 and HTML5",
    "e.g. this, i.e. that", "u r a star", "i c u", "r u ok", "wow!! nice", "stop!I said so", "COVID-19", "vitamin B12",
    "my 2nd try", "what a n00b", "1v1 me", "x-ab-c-d", "a-b-c-def", "AT&T", "24/7", "4x4", "#1 fan", "50% off",
    "3.5 stars", "v1.2.3", "1.3.5", "#kms", "so dead /j", "😂😂😂 lol", "don't y'all", "rock n roll", "A1 sauce",
    "user_123 posted", "email me at sam@example.com", "l33t", "c'mon", "9/11",
    // The corpus's only false reads before symbols needed a short side (83,322 messages scanned).
    "im not@suicidal.", "a few years ago!https://t.co/x", "STRIKES AGAIN!THE RIGHT PEOPLE", "She is your sister!lol",
  ])
  func leavesOrdinaryTextAsWritten(_ text: String) {
    #expect(Self.undone(text) == nil)
  }

  static let rules = """
    pack: t
    rules:
      - id: t.self
        kind: terms
        marks: serious_intent
        terms: [kill myself, unalive myself, suicide, die]
        description: d
      - id: t.quote
        kind: pattern
        pattern: "i'm done"
        description: d

    """

  /// Evidence reads the original at the spans' offsets: leetspeak keeps scalars in place, removed
  /// separators are counted back in, and emoji (several UTF-8 bytes) and typographic quotes before
  /// the span do not shift it.
  @Test(arguments: [
    ("k!ll mys3lf", [(0, 11, "k!ll mys3lf")]),
    ("🙃 i want to k-i-l-l m.y.s.e.l.f now", [(12, 31, "k-i-l-l m.y.s.e.l.f")]),
    ("I’m done. s u i c i d e 🥀 and d1e", [(10, 23, "s u i c i d e"), (30, 33, "d1e")]),
    ("👩‍👧 S.U.I.C.I.D.E. is on my mind", [(4, 17, "S.U.I.C.I.D.E")]),
    ("un4l1ve my$elf", [(0, 14, "un4l1ve my$elf")]),
  ])
  func spansPointIntoTheOriginal(_ text: String, _ expected: [(Int, Int, String)]) throws {
    let ruleSet = try ruleSet(["t": Self.rules])
    let evidence = ruleSet.evaluate(text).evidence(for: "t.self")
    #expect(evidence.map { "\($0.start)..<\($0.end) '\($0.text)'" } == expected.map { "\($0.0)..<\($0.1) '\($0.2)'" })
    let scalars = Array(text.unicodeScalars)
    for span in evidence {
      #expect(String(String.UnicodeScalarView(scalars[span.start..<span.end])) == span.text)
    }
  }

  /// Quote folding and obfuscation together: the folded apostrophe still matches `i'm`.
  @Test func foldedQuotesStillMatchBesideObfuscation() throws {
    let ruleSet = try ruleSet(["t": Self.rules])
    let evaluation = ruleSet.evaluate("I’m d0ne, k.i.l.l myself")
    #expect(evaluation.evidence(for: "t.quote").map(\.text) == ["I’m d0ne"])
    #expect(evaluation.evidence(for: "t.self").map(\.text) == ["k.i.l.l myself"])
  }

  /// The shipped serious-intent pack reads an obfuscated message as it reads the plain one.
  @Test func theShippedRulesReadObfuscatedIntent() throws {
    let ruleSet = try #require(RuleCompiler.compile(directory: repositoryRoot + "/Rules").ruleSet)
    let evidence = ruleSet.evaluate("k!ll mys3lf").evidence(for: "serious-intent.hurt-myself")
    #expect(evidence.map { "\($0.start)..<\($0.end) '\($0.text)' \($0.type?.rawValue ?? "")" } == ["0..<11 'k!ll mys3lf' serious_intent"])
  }
}
