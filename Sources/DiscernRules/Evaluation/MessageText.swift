/// One message prepared for the rules: its UTF-8 bytes after normalization, and the indexes
/// (sentences, scalar offsets) that some rules need, built only when first asked for.
///
/// Normalization maps typographic quotes to ASCII ones so patterns need not spell both. It
/// replaces scalar for scalar, so a scalar offset means the same place in the original text.
public final class MessageText {
  public let original: String
  /// The normalized UTF-8 bytes every pattern runs on.
  public let bytes: [UInt8]
  private var sentenceEnds: [Int]?

  public init(_ text: String) {
    original = text
    var bytes = Array(text.utf8)
    if bytes.contains(0xE2) { bytes = MessageText.foldQuotes(bytes) }
    self.bytes = bytes
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

  /// The scalar offset of a byte offset (scalar offsets line up with Python strings and JSON).
  public func scalarOffset(ofByte offset: Int) -> Int {
    UTF8Text.scalarCount(bytes[..<offset])
  }

  /// The original text between two scalar offsets.
  public func originalText(scalars range: Range<Int>) -> String {
    let scalars = original.unicodeScalars
    let start = scalars.index(scalars.startIndex, offsetBy: range.lowerBound)
    let end = scalars.index(start, offsetBy: range.count)
    return String(scalars[start..<end])
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
