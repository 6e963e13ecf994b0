/// One message prepared for the rules: its UTF-8 bytes after normalization, and the indexes
/// (sentences, scalar offsets) that some rules need, built only when first asked for.
///
/// Normalization undoes obfuscation (`Obfuscation`: leetspeak, letters spelt apart) and maps
/// typographic quotes to ASCII ones, so patterns need spell neither. Both replace scalar for
/// scalar except the separators between spelt-apart letters, which are removed and remembered:
/// every span is reported in scalars of the original text.
public final class MessageText {
  public let original: String
  /// The normalized UTF-8 bytes every pattern runs on.
  public let bytes: [UInt8]
  /// Whether normalization changed any byte (then the original's bytes sit elsewhere).
  let folded: Bool
  /// The original's scalars that normalization took out (separators between spelt-apart letters).
  let removed: RemovedScalars
  private var sentenceEnds: [Int]?
  /// Which patterns can match at all (`LiteralPrefilter`); nil runs every pattern.
  var filter: (prefilter: LiteralPrefilter, candidates: [Bool])?
  private var emojiByLexicon: [ObjectIdentifier: [EmojiOccurrence]] = [:]

  public init(_ text: String) {
    original = text
    var bytes = Array(text.utf8)
    var folded = false
    var removed = RemovedScalars([])
    if let undone = Obfuscation.undo(bytes) {
      (bytes, removed, folded) = (undone.bytes, undone.removed, true)
    }
    if bytes.contains(0xE2) {
      let normalized = MessageText.foldQuotes(bytes)
      folded = folded || normalized != bytes
      bytes = normalized
    }
    self.bytes = bytes
    self.folded = folded
    self.removed = removed
  }

  /// ‘ ’ ‛ → ' and “ ” ‟ → " (U+2018…U+201F); all other bytes unchanged.
  static func foldQuotes(_ bytes: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count)
    var i = 0
    while i < bytes.count {
      if bytes[i] == 0xE2, i + 2 < bytes.count, bytes[i + 1] == 0x80, (0x98...0x9F).contains(bytes[i + 2]) {
        out.append(bytes[i + 2] <= 0x9B ? UInt8(ascii: "'") : UInt8(ascii: "\""))
        i += 3
      } else {
        out.append(bytes[i])
        i += 1
      }
    }
    return out
  }

  /// Byte spans as scalar spans (which line up with Python strings and JSON), with the original
  /// text of each, in one pass over the message however many spans there are.
  func scalarSpans(_ spans: [Range<Int>]) -> [(scalars: Range<Int>, text: String)] {
    guard !spans.isEmpty else { return [] }
    let offsets = Set(spans.flatMap { [$0.lowerBound, $0.upperBound] }).sorted()
    var scalarOf: [Int: Int] = [:]
    var scalar = 0
    var byte = 0
    // Offsets are sorted: count scalars up to each one, continuing from the last.
    for offset in offsets {
      while byte < offset {
        if !UTF8Text.isContinuation(bytes[byte]) { scalar += 1 }
        byte += 1
      }
      scalarOf[offset] = scalar
    }
    let scalarSpans = spans.map { removed.originalRange(scalarOf[$0.lowerBound]!..<scalarOf[$0.upperBound]!) }
    guard folded else {
      return zip(scalarSpans, spans).map { ($0, String(decoding: bytes[$1], as: UTF8.self)) }
    }
    // Normalization changed bytes: cut the original at the spans' offsets in it.
    let wanted = Set(scalarSpans.flatMap { [$0.lowerBound, $0.upperBound] }).sorted()
    let view = original.unicodeScalars
    var indexOf: [Int: String.UnicodeScalarView.Index] = [:]
    var index = view.startIndex
    var position = 0
    for offset in wanted {
      index = view.index(index, offsetBy: offset - position)
      position = offset
      indexOf[offset] = index
    }
    return scalarSpans.map { ($0, String(view[indexOf[$0.lowerBound]!..<indexOf[$0.upperBound]!])) }
  }

  /// The emoji of the normalized message with their lexicon rows (byte offsets line up with
  /// `bytes`), scanned and looked up once per lexicon however many rules ask.
  public func emoji(_ lexicon: Lexicon) -> [EmojiOccurrence] {
    let key = ObjectIdentifier(lexicon)
    if let cached = emojiByLexicon[key] { return cached }
    // Every emoji starts with a byte of 0xC2 or more: an ASCII message has none.
    let found = bytes.contains { $0 >= 0xC2 } ? lexicon.scan(String(decoding: bytes, as: UTF8.self)) : []
    emojiByLexicon[key] = found
    return found
  }

  /// Which sentence a byte offset falls in. A sentence ends after a run of `.`, `!`, `?` or a
  /// line break; that is rough, but it is what `unless` needs: "not … in the same sentence".
  public func sentence(ofByte offset: Int) -> Int {
    let ends = sentenceEnds ?? computeSentenceEnds()
    sentenceEnds = ends
    var low = 0, high = ends.count
    while low < high {
      let mid = (low + high) / 2
      if ends[mid] <= offset { low = mid + 1 } else { high = mid }
    }
    return low
  }

  private func computeSentenceEnds() -> [Int] {
    var ends: [Int] = []
    var i = 0
    while i < bytes.count {
      let b = bytes[i]
      if b == UInt8(ascii: ".") || b == UInt8(ascii: "!") || b == UInt8(ascii: "?") || b == UInt8(ascii: "\n") {
        while i < bytes.count, [UInt8(ascii: "."), UInt8(ascii: "!"), UInt8(ascii: "?"), UInt8(ascii: "\n")].contains(bytes[i]) {
          i += 1
        }
        ends.append(i)
      } else {
        i += 1
      }
    }
    return ends
  }

  /// How many words lie wholly between two byte offsets. A word is a run of letters, digits,
  /// marks or apostrophes; emoji and punctuation separate words without counting as one.
  public func wordCount(between start: Int, and end: Int) -> Int {
    guard start < end else { return 0 }
    let gap = String(decoding: bytes[start..<end], as: UTF8.self)
    var count = 0
    var inWord = false
    for scalar in gap.unicodeScalars {
      let isWordScalar = scalar == "'" || scalar.properties.isAlphabetic || scalar.properties.numericType != nil
      if isWordScalar && !inWord { count += 1 }
      inWord = isWordScalar
    }
    return count
  }
}
