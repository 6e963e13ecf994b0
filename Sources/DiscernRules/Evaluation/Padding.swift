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
  public var removedCount: Int { removed.reduce(0) { $0 + $1.count } }

  public static let minRepeats = 4
  public static let maxPhrase = 12

  /// The message's core, or nil when it has no padding (the common case costs one pass).
  public static func strip(_ text: String) -> PaddedMessage? {
    // Too short to hold `minRepeats` of anything.
    guard text.utf8.count >= minRepeats else { return nil }
    var units: [(key: Substring, scalars: Range<Int>)] = []
    var removed: [Range<Int>] = []
    var scalar = 0
    var wordStart: (index: String.Index, scalar: Int)? = nil
    var whitespaceRun: Range<Int>? = nil
    func endWord(at index: String.Index) {
      if let start = wordStart { units.append((text[start.index..<index], start.scalar..<scalar)) }
      wordStart = nil
    }
    func endWhitespace() {
      // One whitespace character separates; a run of `minRepeats` or more is padding past its first.
      if let run = whitespaceRun, run.count >= minRepeats { removed.append(run.lowerBound + 1..<run.upperBound) }
      whitespaceRun = nil
    }
    var index = text.startIndex
    for character in text {
      let next = text.index(after: index)
      let count = character.unicodeScalars.count
      if character.unicodeScalars.allSatisfy({ $0.properties.generalCategory == .format }) {
        endWord(at: index)
        removed.append(scalar..<scalar + count)
      } else if character.isWhitespace {
        endWord(at: index)
        whitespaceRun = (whitespaceRun?.lowerBound ?? scalar)..<scalar + count
      } else {
        endWhitespace()
        if character.isLetter || character.isNumber || character == "'" {
          if wordStart == nil { wordStart = (index, scalar) }
        } else {
          endWord(at: index)
          units.append((text[index..<next], scalar..<scalar + count))
        }
      }
      scalar += count
      index = next
    }
    endWord(at: text.endIndex)
    endWhitespace()
    removed += repeatedRuns(units)
    guard !removed.isEmpty else { return nil }
    let total = scalar
    let scalars = Array(text.unicodeScalars)
    // Padding takes the whitespace that set it off with it, so the core of "msg 😂😂😂😂" is "msg".
    let widened = merge(removed).map { range -> Range<Int> in
      var (lower, upper) = (range.lowerBound, range.upperBound)
      if upper == total || scalars[upper].properties.isWhitespace {
        while lower > 0, scalars[lower - 1].properties.isWhitespace { lower -= 1 }
      }
      if lower == 0 {
        while upper < total, scalars[upper].properties.isWhitespace { upper += 1 }
      }
      return lower..<upper
    }
    let merged = merge(widened)
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
  static func repeatedRuns(_ units: [(key: Substring, scalars: Range<Int>)]) -> [Range<Int>] {
    let keys = units.map { $0.key.lowercased() }
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

  static func merge(_ ranges: [Range<Int>]) -> [Range<Int>] {
    var merged: [Range<Int>] = []
    for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
      if let last = merged.last, range.lowerBound <= last.upperBound {
        merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, range.upperBound)
      } else {
        merged.append(range)
      }
    }
    return merged
  }

  /// The original scalars of a range of `core`'s scalars (a span on the core, shown on the message).
  public func originalRange(_ core: Range<Int>) -> Range<Int> {
    func original(_ offset: Int) -> Int {
      var offset = offset
      for range in removed where range.lowerBound <= offset { offset += range.count }
      return offset
    }
    let start = original(core.lowerBound)
    return core.isEmpty ? start..<start : start..<original(core.upperBound - 1) + 1
  }
}

