/// Checks that go beyond "does it compile": what a reviewer would ask of a rule before it ships.
public enum RuleLint {
  /// Warnings for the rules of a compile. Run by `discern lint`, not on every load: pumping
  /// patterns costs a few milliseconds per rule.
  public static func warnings(for definitions: [RuleDefinition]) -> [Diagnostic] {
    var diagnostics: [Diagnostic] = []
    let pump = PatternPump()
    for rule in definitions {
      if rule.examples.hit.isEmpty {
        diagnostics.append(.warning("rule '\(rule.id)' has no 'hit' examples; add one so 'discern test' can check it", at: rule.idMark))
      }
      if rule.examples.miss.isEmpty {
        diagnostics.append(.warning("rule '\(rule.id)' has no 'miss' examples; add one so 'discern test' can check it", at: rule.idMark))
      }
      for lintable in rule.kind.lintPatterns {
        if let blowup = pump.firstBlowup(of: lintable.pattern, examples: rule.examples.hit.map(\.text)) {
          diagnostics.append(
            .warning(
              "pattern in '\(rule.id)' backtracks without bound on the pumped input \(blowup.preview) "
                + "(\(blowup.length) characters hit a \(pump.matchLimit)-step limit); make alternatives exclusive, "
                + "bound repeats, or use atomic groups '(?>…)'", at: lintable.node.mark))
        }
        if RequiredLiterals.of(lintable.pattern.source) == nil {
          diagnostics.append(
            .warning(
              "pattern in '\(rule.id)' has no literal text that every match contains, so it runs on every message "
                + "(the prefilter cannot skip it); anchor it on a word or phrase every match must contain",
              at: lintable.node.mark))
        }
        if !lintable.isGenerated {
          for letter in SingleLetterAlternation.find(in: lintable.pattern.source) {
            diagnostics.append(
              .warning(
                "single-letter alternative '\(letter.letter)' in '\(rule.id)' is not anchored at a word boundary, "
                  + "so it matches inside any word; add '\\b' around the group",
                at: lintable.node.mark(ofValueByteOffset: letter.byteOffset)))
          }
        }
      }
    }
    return diagnostics
  }
}

/// Runs a pattern against generated adversarial strings — a character or word of the pattern
/// repeated, then a character that makes the match fail — under a small match limit. A linear
/// pattern stays far below the limit; one with nested or overlapping repeats does not.
struct PatternPump {
  let length = 2_000
  /// Steps allowed per pumped input: about 25 per character, far above what a linear search
  /// needs and far below what nested repeats spend.
  var matchLimit: UInt32 { UInt32(length * 25) }

  struct Blowup {
    let input: String
    var length: Int { input.unicodeScalars.count }
    var preview: String {
      let head = String(input.unicodeScalars.prefix(12))
      return "'\(head)…'"
    }
  }

  func firstBlowup(of pattern: PCRE2Pattern, examples: [String]) -> Blowup? {
    // The interpreter, not JIT: its step counter is deterministic and a limit is always reported.
    let matcher = PCRE2Matcher(limits: .init(match: matchLimit, depth: 100_000, heapKiB: 50_000), useJIT: false)
    for input in inputs(for: pattern.source, examples: examples) {
      let bytes = Array(input.utf8)
      let result = bytes.withUnsafeBufferPointer { matcher.search(pattern, in: $0, from: 0) }
      if case .limit = result { return Blowup(input: input) }
    }
    return nil
  }

  /// Pumped strings built from the pattern's own characters and words and the rule's examples.
  /// Each unit is repeated, then broken by a control character; variants put one of the
  /// pattern's literal characters before the run or after the break, so that a pattern with a
  /// required literal ('x' in `(\w+\s?)+x`) starts matching instead of being rejected at once.
  func inputs(for source: String, examples: [String]) -> [String] {
    var characters: [Character] = []
    var literals: [Character] = []
    var words: [String] = []
    var word = ""
    var escaped = false
    func flushWord() {
      if word.count >= 2, !words.contains(word) { words.append(word) }
      word = ""
    }
    for character in source {
      if escaped {
        escaped = false
        switch character {
        case "w", "W", "b": if !characters.contains("a") { characters.append("a") }
        case "d": if !characters.contains("1") { characters.append("1") }
        case "s": if !characters.contains(" ") { characters.append(" ") }
        default: break
        }
        flushWord()
        continue
      }
      if character == "\\" {
        escaped = true
        flushWord()
        continue
      }
      if character.isLetter || character.isNumber || character == " " || character == "'" {
        if !characters.contains(character) { characters.append(character) }
        if !literals.contains(character) { literals.append(character) }
      }
      if character.isLetter { word.append(character) } else { flushWord() }
    }
    flushWord()
    let breaker = "\u{1}"
    var units = characters.prefix(16).map { String($0) }
    units += words.prefix(8).flatMap { [$0 + " ", $0] }
    units += examples.prefix(4).map { $0 + " " }
    var inputs: [String] = []
    for unit in units {
      let run = pump(unit)
      inputs.append(run + breaker)
      for literal in literals.prefix(6) {
        inputs.append(String(literal) + run + breaker)
        inputs.append(run + breaker + String(literal))
      }
    }
    return inputs
  }

  func pump(_ unit: String) -> String {
    String(repeating: unit, count: max(1, length / max(1, unit.count)))
  }
}
/// Finds alternations with a one-letter alternative that is not held at a word boundary on
/// both sides: `(u|you) suck` also hits "menu sucks".
enum SingleLetterAlternation {
  struct Finding {
    let letter: Character
    /// UTF-8 offset of the letter in the pattern.
    let byteOffset: Int
  }

  static func find(in source: String) -> [Finding] {
    let scalars = Array(source.unicodeScalars)
    var findings: [Finding] = []
    // Each open group: where its body starts, where each alternative starts, whether to check it.
    struct Group { var bodyStart: Int; var groupStart: Int; var alternatives: [Int]; var check: Bool }
    var stack: [Group] = [Group(bodyStart: 0, groupStart: 0, alternatives: [0], check: true)]
    var i = 0
    var inClass = false

    func close(_ group: Group, end: Int, after: Int) {
      guard group.check, group.alternatives.count > 1 else { return }
      let bounds = zip(group.alternatives, group.alternatives.dropFirst().map { $0 - 1 } + [end])
      let anchored = anchoredBefore(scalars, group.groupStart) && anchoredAfter(scalars, after)
      if anchored { return }
      for (start, stop) in bounds where stop - start == 1 && scalars[start].properties.isAlphabetic {
        let offset = scalars[..<start].reduce(0) { $0 + UTF8.width($1) }
        findings.append(Finding(letter: Character(scalars[start]), byteOffset: offset))
      }
    }

    while i < scalars.count {
      let c = scalars[i]
      if c == "\\" { i += 2; continue }
      if inClass {
        if c == "]" { inClass = false }
        i += 1
        continue
      }
      switch c {
      case "[":
        inClass = true
        if i + 1 < scalars.count, scalars[i + 1] == "]" { i += 1 }
      case "(":
        var body = i + 1
        var check = true
        if body < scalars.count, scalars[body] == "?" {
          // (?: and (?i: are plain groups; lookarounds and others are not word alternations.
          var j = body + 1
          while j < scalars.count, scalars[j].properties.isAlphabetic || scalars[j] == "-" { j += 1 }
          if j < scalars.count, scalars[j] == ":" { body = j + 1 } else { check = false; body = j + 1 }
        }
        stack.append(Group(bodyStart: body, groupStart: i, alternatives: [body], check: check))
        i = body
        continue
      case ")":
        if stack.count > 1 {
          close(stack.removeLast(), end: i, after: i + 1)
        }
      case "|":
        stack[stack.count - 1].alternatives.append(i + 1)
      default:
        break
      }
      i += 1
    }
    if let top = stack.first, stack.count == 1 { close(top, end: scalars.count, after: scalars.count) }
    return findings
  }

  /// A word boundary, start of text, whitespace or a non-word class right before the group
  /// (a quantifier on it is fine), or a literal letter: then the group continues a word
  /// (`giv(?:e|en)`) rather than starting anywhere.
  static func anchoredBefore(_ s: [Unicode.Scalar], _ index: Int) -> Bool {
    var end = index
    while end > 0, "+*?".unicodeScalars.contains(s[end - 1]) { end -= 1 }
    let before = String(String.UnicodeScalarView(s[..<end]))
    // After an (optional) group, what its last item is decides: `(?:just\s+)?(?:a|an)` is held by `\s+`.
    if end > 0, s[end - 1] == ")" { return anchoredBefore(s, end - 1) }
    if let last = s[..<end].last, last.properties.isAlphabetic || last == "'", !before.hasSuffix("\\" + String(last)) {
      return true
    }
    return ["\\b", "^", "\\s", " ", "\\W", "(?<!\\w)", "\\A"].contains { before.hasSuffix($0) }
  }

  /// A word boundary, end of text, whitespace or a non-word class right after the group, past
  /// any quantifier; or a literal letter that continues the word.
  static func anchoredAfter(_ s: [Unicode.Scalar], _ index: Int) -> Bool {
    var i = index
    while i < s.count, "?+*".unicodeScalars.contains(s[i]) { i += 1 }
    if i < s.count, s[i].properties.isAlphabetic { return true }
    // The group ends an alternative of an enclosing group: what follows that group decides.
    if i < s.count, s[i] == "|" || s[i] == ")" {
      guard let close = closingParenthesis(s, from: i) else { return false }
      return anchoredAfter(s, close + 1)
    }
    let after = String(String.UnicodeScalarView(s[i...]))
    return ["\\b", "$", "\\s", " ", "\\W", "(?!\\w)", "\\z", "\\Z"].contains { after.hasPrefix($0) }
  }

  /// The `)` that closes the group open at `index`, skipping escapes, classes and nested groups.
  static func closingParenthesis(_ s: [Unicode.Scalar], from index: Int) -> Int? {
    var depth = 0
    var i = index
    var inClass = false
    while i < s.count {
      let c = s[i]
      if c == "\\" {
        i += 2
        continue
      }
      if inClass {
        if c == "]" { inClass = false }
      } else if c == "[" {
        inClass = true
      } else if c == "(" {
        depth += 1
      } else if c == ")" {
        if depth == 0 { return i }
        depth -= 1
      }
      i += 1
    }
    return nil
  }
}
