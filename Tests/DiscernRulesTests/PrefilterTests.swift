import DiscernRules
import Foundation
import Testing

/// The literal prefilter skips patterns a message cannot match; it must never skip one that would.
@Suite struct PrefilterTests {
  @Test(arguments: [
    (#"\bi\s+(?:want|wanna|need)\s+to\s+die\b"#, ["need", "wanna", "want"]),
    (#"(?<!\d)(?<!\d\s)\b(?:kms|kmn)\b(?:\s+fr\b)?"#, ["kmn", "kms"]),
    // Exact pieces multiply out: "i" "'?m" is {"i'm", "im"}, and the longer literal after wins.
    (#"\bi'?m\s+(?:so\s+)?suicidal\b"#, ["suicidal"]),
    // `x+` is "x" and then anything: a run grows into it but not past it.
    (#"\b(?:lol+|lmao+|ha(?:ha)+h?)\b"#, ["haha", "lmao", "lol"]),
    // A common word loses a tie: nearly every message has "the".
    (#"\bthe\s+ref\b"#, ["ref"]),
    (#"KILL\s+me"#, ["kill"]),
    (#"[sz]ad\b"#, ["sad", "zad"]),
    (#"dead\s*(?:💀|😭)"#, ["dead"]),
    (#"(?:😂|🤣)[\s\p{P}]*$"#, ["😂", "🤣"]),
    (##"\#recovery(?!\w)"##, ["#recovery"]),
    // A cased letter outside ASCII has caseless partners the filter does not fold: it ends the literal.
    (#"café\s+crying"#, ["crying"]),
    (#"x{2,3}yz"#, ["yz"]),
  ])
  func requiredLiterals(_ pattern: String, _ expected: [String]) {
    let literals = RequiredLiterals.of(pattern).map { $0.map { String(decoding: $0, as: UTF8.self) }.sorted() }
    #expect(literals == expected)
  }

  /// No filter when a match needs no fixed text, or the syntax is beyond the analysis.
  @Test(arguments: [#"\w+"#, #"kill|\d+"#, #"(?i)kill"#, #"(\w+)\s+\1"#, #"\Qa.b\E"#, #"\x{41}bc"#, #"(?:kill)?"#, "[a-z]+"])
  func noFilter(_ pattern: String) {
    #expect(RequiredLiterals.of(pattern) == nil)
  }

  /// Every shipped rule, on every example, Playground message and (when the corpus is beside the
  /// checkout) a sample of every corpus file: the same features and evidence with and without the filter.
  @Test func theShippedRulesDecideTheSameWithAndWithoutTheFilter() throws {
    let ruleSet = try #require(RuleCompiler.compile(directory: repositoryRoot + "/Rules").ruleSet)
    #expect(ruleSet.prefilter.filteredPatterns >= 80, "most shipped patterns have required literals")
    var texts = ruleSet.rules.flatMap { ($0.examples.hit + $0.examples.miss).map(\.text) }
    let playground = (try? String(contentsOfFile: repositoryRoot + "/Playground/messages.txt", encoding: .utf8)) ?? ""
    texts += playground.split(separator: "\n").filter { !$0.hasPrefix("#") }.map(String.init)
    let corpus = repositoryRoot + "/../shared/data/corpus"
    for file in (try? FileManager.default.contentsOfDirectory(atPath: corpus))?.sorted() ?? [] where file.hasSuffix(".jsonl") {
      let lines = try String(contentsOfFile: corpus + "/" + file, encoding: .utf8).split(separator: "\n").prefix(300)
      texts += lines.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["text"] as? String }
    }
    // Scalars PCRE2 matches caselessly against ASCII letters: KELVIN SIGN (k) and LONG S (s).
    texts += ["lost my keys again \u{212A}MS", "my \u{17F}uicidal era playlist", "KMS lol", "I’M SO DEAD 💀"]
    let matcher = PCRE2Matcher()
    var compared = 0
    for text in texts {
      let filtered = ruleSet.evaluate(text, matcher: matcher)
      let unfiltered = ruleSet.evaluate(text, matcher: matcher, prefiltered: false)
      #expect(filtered.features == unfiltered.features && filtered.evidence == unfiltered.evidence, "\(text)")
      compared += 1
    }
    #expect(compared > 300)
  }

  /// PCRE2 matches KELVIN SIGN for k and LONG S for s caselessly; the filter's ASCII literals do not
  /// contain them, so such a message is searched unfiltered.
  @Test func aLookalikeLetterStillMatches() throws {
    let ruleSet = try #require(RuleCompiler.compile(directory: repositoryRoot + "/Rules").ruleSet)
    #expect(ruleSet.evaluate("lost my keys again \u{212A}MS").hit("hyperbole.kms"))
    #expect(ruleSet.evaluate("my \u{17F}uicidal era playlist").hit("hyperbole.suicidal-era"))
  }
}
