/// A message with its padding taken out: what an evader appends so that a serious message reads as
/// something else to a model that averages over every token — a run of emoji, punctuation or
/// whitespace, zero-width characters, a word or phrase said over and over.
///
/// Padding is a unit (a word, or one emoji or punctuation character) or a phrase of up to
/// `maxPhrase` units repeated `minRepeats` times or more in a row, every copy of it; characters
/// made only of format scalars (zero-width space, word joiner, BOM); and whitespace past one
/// character. Two or three 😂 or "lol"s are content (the lexicon reads humour in them); fourteen
/// are padding. Offsets are Unicode scalars, as everywhere in Discern.
public struct PaddedMessage: Sendable, Equatable {
  public init(core: String, removed: [Range<Int>]) {
    self.core = core
    self.removed = removed
  }

  /// The message without its padding.
  public let core: String
  /// The scalar ranges of the original that were taken out, in order.
  public let removed: [Range<Int>]
  /// Scalars of the original taken out.
  public var removedCount: Int { RemovedScalars(removed).count }

  public static let minRepeats = 4
  public static let maxPhrase = 12

  /// The message's core, or nil when it has no padding (the common case costs one pass).
  public static func strip(_ text: String) -> PaddedMessage? {
    // Too short to hold `minRepeats` of anything.
    guard text.utf8.count >= minRepeats else { return nil }
    // One pass over the scalars (a Character walk cost 30–50 µs a message, half an audit's time):
    // units are words (letters, digits, apostrophes) and single symbols (an emoji with its
    // modifiers, a punctuation mark), each keyed by a hash of its case-folded scalars.
    var units: [Unit] = []
    var removed: [Range<Int>] = []
    var scalar = 0
    var word: Unit? = nil
    var whitespaceRun: Range<Int>? = nil
    func endWord() {
      if let finished = word { units.append(finished) }
      word = nil
    }
    func endWhitespace() {
      // One whitespace character separates; a run of `minRepeats` or more is padding past its first.
      if let run = whitespaceRun, run.count >= minRepeats { removed.append(run.lowerBound + 1..<run.upperBound) }
      whitespaceRun = nil
    }
    for character in text.unicodeScalars {
      let value = character.value
      if value < 0x80 {
        let byte = UInt8(value)
        if byte == 0x20 || (0x09...0x0D).contains(byte) {
          endWord()
          whitespaceRun = (whitespaceRun?.lowerBound ?? scalar)..<scalar + 1
        } else if (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || byte == 0x27 {
          endWhitespace()
          let folded = (0x41...0x5A).contains(byte) ? UInt64(byte | 0x20) : UInt64(byte)
          if word == nil { word = Unit(scalars: scalar..<scalar) }
          word!.add(folded, through: scalar)
        } else {
          endWhitespace()
          endWord()
          units.append(Unit(scalar: UInt64(value), at: scalar))
        }
      } else if Self.extends(character) {
        // A mark, joiner, variation selector or skin tone belongs to the unit it follows.
        if word != nil {
          word!.add(UInt64(value), through: scalar)
        } else if let last = units.last, last.scalars.upperBound == scalar {
          units[units.count - 1].add(UInt64(value), through: scalar)
        } else {
          endWhitespace()
          units.append(Unit(scalar: UInt64(value), at: scalar))
        }
      } else {
        let properties = character.properties
        if properties.generalCategory == .format {
          endWord()
          removed.append(scalar..<scalar + 1)
        } else if properties.isWhitespace {
          endWord()
          whitespaceRun = (whitespaceRun?.lowerBound ?? scalar)..<scalar + 1
        } else if properties.isAlphabetic || properties.numericType != nil {
          endWhitespace()
          if word == nil { word = Unit(scalars: scalar..<scalar) }
          word!.add(UInt64(value), through: scalar)
        } else {
          endWhitespace()
          endWord()
          units.append(Unit(scalar: UInt64(value), at: scalar))
        }
      }
      scalar += 1
    }
    endWord()
    endWhitespace()
    removed += repeatedRuns(units)
    guard !removed.isEmpty else { return nil }
    let total = scalar
    let scalars = Array(text.unicodeScalars)
    // Padding takes the whitespace that set it off with it, so the core of "msg 😂😂😂😂" is "msg".
    let widened = RemovedScalars.merge(removed).map { range -> Range<Int> in
      var (lower, upper) = (range.lowerBound, range.upperBound)
      if upper == total || scalars[upper].properties.isWhitespace {
        while lower > 0, scalars[lower - 1].properties.isWhitespace { lower -= 1 }
      }
      if lower == 0 {
        while upper < total, scalars[upper].properties.isWhitespace { upper += 1 }
      }
      return lower..<upper
    }
    let merged = RemovedScalars.merge(widened)
    // A message that is nothing but a repeat ("help help help help") keeps itself: its words are
    // the message, not padding around one.
    guard units.contains(where: { unit in !merged.contains { $0.contains(unit.scalars.lowerBound) } }) else { return nil }
    var core = String.UnicodeScalarView()
    var cursor = 0
    for range in merged {
      core.append(contentsOf: scalars[cursor..<range.lowerBound])
      cursor = range.upperBound
    }
    core.append(contentsOf: scalars[cursor...])
    return PaddedMessage(core: String(core), removed: merged)
  }

  /// Every copy of a unit or phrase repeated `minRepeats` times or more in a row, as scalar ranges
  /// (from the first copy's start to the last copy's end, whitespace between included).
  static func repeatedRuns(_ units: [Unit]) -> [Range<Int>] {
    let keys = units.map(\.key)
    var runs: [Range<Int>] = []
    var i = 0
    while i < units.count {
      var best: (length: Int, copies: Int)? = nil
      for length in 1...maxPhrase where i + length * minRepeats <= units.count {
        var copies = 1
        while i + (copies + 1) * length <= units.count,
          (0..<length).allSatisfy({ keys[i + copies * length + $0] == keys[i + $0] })
        {
          copies += 1
        }
        if copies >= minRepeats, length * copies > (best.map { $0.length * $0.copies } ?? 0) { best = (length, copies) }
      }
      if let best {
        let end = i + best.length * best.copies
        runs.append(units[i].scalars.lowerBound..<units[end - 1].scalars.upperBound)
        i = end
      } else {
        i += 1
      }
    }
    return runs
  }

  /// A word or a symbol: its scalars and a hash of what they are (case-folded for ASCII letters).
  struct Unit {
    var scalars: Range<Int>
    var key: UInt64 = 0xcbf2_9ce4_8422_2325

    init(scalars: Range<Int>) { self.scalars = scalars }

    init(scalar value: UInt64, at offset: Int) {
      scalars = offset..<offset
      add(value, through: offset)
    }

    mutating func add(_ value: UInt64, through offset: Int) {
      key = (key ^ value) &* 0x0000_0100_0000_01b3
      scalars = scalars.lowerBound..<offset + 1
    }
  }

  /// Scalars that continue the unit before them: combining marks, joiners, variation selectors,
  /// skin tones and tag characters (which make up flag sequences).
  static func extends(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x200C, 0x200D, 0xFE00...0xFE0F, 0x1F3FB...0x1F3FF, 0xE0020...0xE007F: return true
    default:
      let category = scalar.properties.generalCategory
      return category == .nonspacingMark || category == .enclosingMark || category == .spacingMark
    }
  }

  /// The original scalars of a range of `core`'s scalars (a span on the core, shown on the message).
  public func originalRange(_ core: Range<Int>) -> Range<Int> { RemovedScalars(removed).originalRange(core) }
}
