import DiscernRules
import Testing

/// The algospeak pack's own examples, respelt the ways evaders respell them (leetspeak, letters
/// spelt apart, mixed case, inside a longer message): the whole rule set must fire the same rules
/// with the same span types, and every span must sit exactly on the respelt words of the message
/// as written.
@Suite struct AlgospeakVariantTests {
  static let result = RuleCompiler.compile(directory: repositoryRoot + "/Rules")
  static var algospeakRules: [String] {
    result.definitions.filter { $0.pack == "algospeak" }.map(\.id).sorted()
  }

  /// A respelling of a message, and where each of its scalars went (`offset[text.count]` is the end).
  struct Respelt {
    let text: String
    let offset: [Int]

    /// A span of the plain message, on the respelt one.
    func map(_ span: Range<Int>) -> Range<Int> { offset[span.lowerBound]..<(offset[span.upperBound - 1] + 1) }
  }

  enum Respelling: CaseIterable {
    case leetDigits, leetSymbols, dots, hyphens, spaces, mixedCaseLeet, inLongerMessage

    static let digits: [Character: Character] = ["a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"]
    static let symbols: [Character: Character] = ["a": "@", "i": "!", "s": "$"]
    static let prefix = "ugh, long day at work.\n"

    func apply(_ text: String) -> [Respelt] {
      let scalars = Array(text.unicodeScalars).map(Character.init)
      let words = Self.words(scalars)
      switch self {
      case .leetDigits: return [Self.leet(scalars, words, Self.digits)]
      case .leetSymbols: return [Self.leet(scalars, words, Self.symbols)]
      case .mixedCaseLeet:
        let leet = Self.leet(scalars, words, Self.digits)
        let mixed = leet.text.enumerated().map { $0.offset % 2 == 0 ? $0.element.uppercased() : $0.element.lowercased() }.joined()
        return [Respelt(text: mixed, offset: leet.offset)]
      case .dots: return [Self.spellApart(scalars, words.filter { Self.standsAlone($0, in: scalars, from: ".") }, with: ".")]
      case .hyphens: return [Self.spellApart(scalars, words.filter { Self.standsAlone($0, in: scalars, from: "-") }, with: "-")]
      case .spaces:
        // One word at a time: two words spelt apart by spaces side by side would read as one.
        return words.filter { $0.count >= 4 && Self.hasLongNeighbours($0, in: scalars) }.map { Self.spellApart(scalars, [$0], with: " ") }
      case .inLongerMessage:
        let shift = Self.prefix.unicodeScalars.count
        let leet = Self.leet(scalars, words, Self.digits)
        return [Respelt(text: Self.prefix + leet.text, offset: leet.offset.map { $0 + shift })]
      }
    }

    /// Runs of three or more ASCII letters standing as a word (not part of "I'm" or a number).
    static func words(_ scalars: [Character]) -> [Range<Int>] {
      func isWordish(_ c: Character) -> Bool { c.isLetter || c.isNumber || c == "'" || c == "’" || c == "_" }
      var words: [Range<Int>] = []
      var i = 0
      while i < scalars.count {
        guard scalars[i].isASCII, scalars[i].isLetter else {
          i += 1
          continue
        }
        var end = i
        while end < scalars.count, scalars[end].isASCII, scalars[end].isLetter { end += 1 }
        let before = i > 0 ? scalars[i - 1] : " ", after = end < scalars.count ? scalars[end] : " "
        if end - i >= 3, !isWordish(before), !isWordish(after) { words.append(i..<end) }
        i = end
      }
      return words
    }

    /// Each word's first inner letter that has a stand-in, replaced; scalars stay where they were.
    /// A symbol goes where one side of it is at most two letters long ("k!ll", "my$elf"), as
    /// Obfuscation reads symbols only there.
    static func leet(_ scalars: [Character], _ words: [Range<Int>], _ table: [Character: Character]) -> Respelt {
      var out = scalars
      for word in words {
        let placeable = { (i: Int) in table[out[i]] != nil && (table[out[i]]!.isNumber || i - word.lowerBound <= 2 || word.upperBound - 1 - i <= 2) }
        if let inner = (word.lowerBound + 1..<word.upperBound - 1).first(where: placeable) { out[inner] = table[out[inner]]! }
      }
      return Respelt(text: String(out), offset: Array(0...scalars.count))
    }

    static func spellApart(_ scalars: [Character], _ words: [Range<Int>], with separator: Character) -> Respelt {
      var text = ""
      var offset: [Int] = []
      var count = 0
      for (i, scalar) in scalars.enumerated() {
        if words.contains(where: { $0.contains(i) && $0.lowerBound != i }) {
          text.append(separator)
          count += 1
        }
        offset.append(count)
        text.append(scalar)
        count += 1
      }
      offset.append(count)
      return Respelt(text: text, offset: offset)
    }

    /// A word set off by the separator itself ("self-unalive" for '-', "school." for '.') would
    /// join its neighbour; such words are left as they are.
    static func standsAlone(_ word: Range<Int>, in scalars: [Character], from separator: Character) -> Bool {
      (word.lowerBound == 0 || scalars[word.lowerBound - 1] != separator) && (word.upperBound == scalars.count || scalars[word.upperBound] != separator)
    }

    /// Neither neighbouring word is a single letter ("i want": "i w a n t" would read "iwant").
    static func hasLongNeighbours(_ word: Range<Int>, in scalars: [Character]) -> Bool {
      func single(_ at: Int) -> Bool {
        guard at >= 0, at < scalars.count, scalars[at].isLetter else { return false }
        let before = at > 0 ? scalars[at - 1] : " ", after = at + 1 < scalars.count ? scalars[at + 1] : " "
        return !before.isLetter && !after.isLetter
      }
      return !single(word.lowerBound - 2) && !single(word.upperBound + 1)
    }
  }

  struct Case: CustomStringConvertible, Sendable {
    let rule: String
    let example: String
    let isHit: Bool
    var description: String { "\(rule) \(isHit ? "hit" : "miss"): \(example)" }
  }

  static var cases: [Case] {
    guard let ruleSet = result.ruleSet else { return [] }
    return algospeakRules.flatMap { id -> [Case] in
      guard let rule = ruleSet.rule(id) else { return [] }
      return rule.examples.hit.map { Case(rule: id, example: $0.written, isHit: true) }
        + rule.examples.miss.map { Case(rule: id, example: $0.written, isHit: false) }
    }
  }

  @Test func everyAlgospeakRuleHasHitAndMissExamples() {
    #expect(Self.result.diagnostics.map(\.description) == [])
    #expect(Self.algospeakRules.count >= 10)
    let ruleSet = Self.result.ruleSet
    for id in Self.algospeakRules {
      let examples = ruleSet?.rule(id)?.examples
      #expect(examples.map { !$0.hit.isEmpty && !$0.miss.isEmpty } == true, "\(id)")
      #expect(examples?.hit.allSatisfy { !$0.expectedSpans.isEmpty } == true, "\(id): mark the spans of every hit example")
    }
  }

  @Test(arguments: cases)
  func respeltExamplesFireTheSameRulesOnTheRespeltWords(_ testCase: Case) throws {
    let ruleSet = try #require(Self.result.ruleSet)
    let example = try RuleExample(testCase.example, mark: SourceMark(source: SourceText(path: "inline", text: testCase.example), line: 1, column: 1))
    let plain = ruleSet.evaluate(example.text)
    #expect(plain.hit(testCase.rule) == testCase.isHit)
    var respelt = 0
    for respelling in Respelling.allCases {
      for variant in respelling.apply(example.text) where variant.text != example.text {
        respelt += 1
        let evaluation = ruleSet.evaluate(variant.text)
        let scalars = Array(variant.text.unicodeScalars)
        func read(_ span: Range<Int>) -> String { String(String.UnicodeScalarView(scalars[span])) }
        let context = "\(respelling): '\(variant.text)'"
        #expect(evaluation.hitRules == plain.hitRules, "\(context)")
        // Every span of every rule: the plain span's words, respelt, and read back from the message as written.
        let expected = plain.evidence.map { "\($0.rule) \($0.type?.rawValue ?? "-") '\(read(variant.map($0.start..<$0.end)))'" }
        let actual = evaluation.evidence.map { "\($0.rule) \($0.type?.rawValue ?? "-") '\($0.text)'" }
        #expect(actual.sorted() == expected.sorted(), "\(context)")
        for evidence in evaluation.evidence {
          #expect(read(evidence.start..<evidence.end) == evidence.text, "\(context)")
        }
        // The example's own marked spans, exactly.
        if testCase.isHit {
          let spans = evaluation.evidence(for: testCase.rule).map { $0.start..<$0.end }
          #expect(spans == example.expectedSpans.map(variant.map), "\(context)")
        }
      }
    }
    #expect(respelt >= 4, "only \(respelt) respellings differ from '\(example.text)'")
  }
}
