/// Literal strings of which every match of a pattern contains at least one, read from the pattern's
/// source (the prefilter idea of RE2 and Google Code Search): a message that contains none of them
/// cannot match, so PCRE2 need not run. ASCII letters are lowercased, since the message is folded the
/// same way before the search; that makes the set sound for caseless and case-sensitive patterns alike.
///
/// The analysis understands what rule authors write — literals, escapes, classes, groups, lookarounds,
/// alternation, quantifiers — and gives up (no filter, the pattern always runs) on anything else:
/// inline flags, backreferences, `\Q…\E`, code points by number.
public enum RequiredLiterals {
  /// The set, or nil when the pattern has no usable one (it can match without any fixed text, or it
  /// uses syntax the analysis does not follow).
  public static func of(_ source: String) -> Set<[UInt8]>? {
    var parser = Parser(scalars: Array(source.unicodeScalars))
    guard let info = try? parser.alternation(), parser.atEnd else { return nil }
    if case .anyOf(let strings) = info.required { return strings }
    return nil
  }

  /// What a piece of a pattern can match: exactly one of a small set of strings, at least one of a set
  /// as a substring, or anything.
  enum Info: Equatable {
    case exact(Set<[UInt8]>)
    /// One of these strings, then possibly more (`x+` is "x" then anything): a run can still grow
    /// into it ("lo" + "l+" → "lol"), but not past it.
    case prefix(Set<[UInt8]>)
    case anyOf(Set<[UInt8]>)
    case unconstrained

    static let empty = Info.exact([[]])
    /// Past this many strings an exact set is summarised as `anyOf` of its parts.
    static let exactLimit = 64

    var required: Info {
      switch self {
      case .exact(let strings), .prefix(let strings): strings.contains([]) || strings.isEmpty ? .unconstrained : .anyOf(strings)
      case .anyOf, .unconstrained: self
      }
    }

    /// By the shortest string, fewer strings next: a longer required literal filters more messages.
    /// A common English word counts as one character, since nearly every message has it.
    func isStronger(than other: Info) -> Bool {
      guard case .anyOf(let mine) = self else { return false }
      guard case .anyOf(let theirs) = other else { return true }
      func weakest(_ strings: Set<[UInt8]>) -> Int { strings.map { Self.commonWords.contains($0) ? 1 : $0.count }.min() ?? 0 }
      let (a, b) = (weakest(mine), weakest(theirs))
      return a != b ? a > b : mine.count < theirs.count
    }

    static let commonWords: Set<[UInt8]> = Set(
      ["the", "this", "that", "and", "for", "you", "are", "was", "not", "but", "have", "with", "what", "just", "like", "they"]
        .map { Array($0.utf8) })

    func or(_ other: Info) -> Info {
      if case .exact(let left) = self, case .exact(let right) = other, left.count + right.count <= Self.exactLimit {
        return .exact(left.union(right))
      }
      guard case .anyOf(let left) = required, case .anyOf(let right) = other.required else { return .unconstrained }
      return .anyOf(left.union(right))
    }

    func repeated(min: Int, max: Int?) -> Info {
      if min == 0 {
        if max == 1, case .exact(let strings) = self, strings.count < Self.exactLimit { return .exact(strings.union([[]])) }
        return .unconstrained
      }
      if min == 1 && max == 1 { return self }
      if case .exact(let strings) = self { return .prefix(strings) }
      return required
    }
  }

  struct Unsupported: Error {}

  struct Parser {
    let scalars: [Unicode.Scalar]
    var position = 0

    init(scalars: [Unicode.Scalar]) { self.scalars = scalars }

    var atEnd: Bool { position == scalars.count }
    var peek: Unicode.Scalar? { position < scalars.count ? scalars[position] : nil }

    mutating func take() throws(Unsupported) -> Unicode.Scalar {
      guard let scalar = peek else { throw Unsupported() }
      position += 1
      return scalar
    }

    mutating func expect(_ scalar: Unicode.Scalar) throws(Unsupported) {
      guard try take() == scalar else { throw Unsupported() }
    }

    mutating func alternation() throws(Unsupported) -> Info {
      var info = try sequence()
      while peek == "|" {
        position += 1
        info = info.or(try sequence())
      }
      return info
    }

    /// A concatenation: runs of exact pieces multiply out into longer strings ("a" "m" → "am"); the
    /// strongest requirement among the runs and the other pieces stands for the whole.
    mutating func sequence() throws(Unsupported) -> Info {
      var run: Set<[UInt8]> = [[]]
      var best = Info.unconstrained
      var exact = true
      func fits(_ strings: Set<[UInt8]>) -> Bool { run.count * strings.count <= Info.exactLimit }
      func extend(_ strings: Set<[UInt8]>) { run = Set(run.flatMap { head in strings.map { head + $0 } }) }
      // The run ends: what it spelled competes for `best`, and a new run starts empty.
      func close() {
        exact = false
        best = Self.stronger(best, Info.exact(run).required)
        run = [[]]
      }
      while let next = peek, next != "|", next != ")" {
        let piece = try quantified(try atom())
        switch piece {
        case .exact(let strings) where fits(strings): extend(strings)
        case .prefix(let strings) where fits(strings):
          extend(strings)
          close()
        case .exact(let strings):
          close()
          run = strings
        default:
          close()
          best = Self.stronger(best, piece.required)
        }
      }
      return exact ? .exact(run) : Self.stronger(best, Info.exact(run).required)
    }

    static func stronger(_ a: Info, _ b: Info) -> Info { b.isStronger(than: a) ? b : a }

    mutating func quantified(_ atom: Info) throws(Unsupported) -> Info {
      guard let quantifier = peek, "?*+{".unicodeScalars.contains(quantifier) else { return atom }
      position += 1
      let (low, high): (Int, Int?) =
        switch quantifier {
        case "?": (0, 1)
        case "*": (0, nil)
        case "+": (1, nil)
        default: try braces()
        }
      // Lazy and possessive forms match the same strings.
      if peek == "?" || peek == "+" { position += 1 }
      return atom.repeated(min: low, max: high)
    }

    /// `{n}`, `{n,}` or `{n,m}` after the `{`, consumed; anything else in braces is not followed.
    mutating func braces() throws(Unsupported) -> (Int, Int?) {
      let low = number()
      guard let low else { throw Unsupported() }
      var high: Int? = low
      if peek == "," {
        position += 1
        high = number()
      }
      try expect("}")
      return (low, high)
    }

    mutating func number() -> Int? {
      var value: Int?
      while let digit = peek, ("0"..."9").contains(digit) {
        value = (value ?? 0) * 10 + Int(digit.value - 48)
        position += 1
      }
      return value
    }

    mutating func atom() throws(Unsupported) -> Info {
      let scalar = try take()
      switch scalar {
      case "(": return try group()
      case "[": return try characterClass()
      case "\\": return try escape()
      case ".": return .unconstrained
      case "^", "$": return .empty
      case "*", "+", "?", "{", ")": throw Unsupported()
      default: return Self.literal(scalar)
      }
    }

    mutating func group() throws(Unsupported) -> Info {
      var lookaround = false
      if peek == "?" {
        position += 1
        switch try take() {
        case ":", ">": break
        case "=", "!": lookaround = true
        case "<":
          if peek == "=" || peek == "!" {
            position += 1
            lookaround = true
          } else {
            try skipName(until: ">")
          }
        case "P":
          try expect("<")
          try skipName(until: ">")
        case "'": try skipName(until: "'")
        default: throw Unsupported()
        }
      }
      let inner = try alternation()
      try expect(")")
      // A lookaround constrains where a match is, not what text it contains.
      return lookaround ? .empty : inner
    }

    mutating func skipName(until end: Unicode.Scalar) throws(Unsupported) {
      while try take() != end {}
    }

    /// A class of plain ASCII characters is an exact set of one-character strings; anything wider
    /// (ranges, negation, escapes for classes, POSIX names) matches too much to be worth following.
    mutating func characterClass() throws(Unsupported) -> Info {
      var members: Set<[UInt8]> = []
      var wide = false
      if peek == "^" {
        position += 1
        wide = true
      }
      var first = true
      while true {
        let scalar = try take()
        if scalar == "]" && !first { break }
        first = false
        switch scalar {
        case "\\":
          let escaped = try take()
          if escaped.isASCII, !Self.isAlphanumeric(escaped) {
            members.insert(Self.folded(escaped))
          } else {
            wide = true
            if escaped == "p" || escaped == "P", peek == "{" { try skipName(until: "}") }
          }
        case "[" where peek == ":":
          wide = true
          try skipName(until: "]")
        case "-" where peek != "]" && !members.isEmpty:
          wide = true
        default:
          if case .exact(let strings) = Self.literal(scalar) { members.formUnion(strings) } else { wide = true }
        }
      }
      return wide || members.isEmpty ? .unconstrained : .exact(members)
    }

    mutating func escape() throws(Unsupported) -> Info {
      let scalar = try take()
      switch scalar {
      case "b", "B", "A", "z", "Z", "G", "K": return .empty
      case "s", "S", "d", "D", "w", "W", "h", "H", "v", "V", "R", "N", "X", "t", "n", "r", "f", "e", "a": return .unconstrained
      case "p", "P":
        if peek == "{" { try skipName(until: "}") } else { _ = try take() }
        return .unconstrained
      default:
        guard scalar.isASCII, !Self.isAlphanumeric(scalar) else { throw Unsupported() }
        return .exact([Self.folded(scalar)])
      }
    }

    static func isAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
      ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
    }

    static func folded(_ scalar: Unicode.Scalar) -> [UInt8] {
      let byte = UInt8(scalar.value)
      return [(0x41...0x5A).contains(byte) ? byte | 0x20 : byte]
    }

    /// A literal character: ASCII folded; other scalars kept only when no other scalar can match them
    /// caselessly (emoji, symbols), else any character.
    static func literal(_ scalar: Unicode.Scalar) -> Info {
      if scalar.isASCII { return .exact([folded(scalar)]) }
      guard !scalar.properties.changesWhenCaseMapped, !scalar.properties.isCased else { return .unconstrained }
      return .exact([Array(String(scalar).utf8)])
    }
  }
}
