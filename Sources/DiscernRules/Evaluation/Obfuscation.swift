/// Undoes the two ways people spell a word past a filter, so rules written in plain English read
/// it: leetspeak (digits and symbols standing for letters inside a word: "k!ll mys3lf", "d1e") and
/// letters spelt apart by one repeated separator ("s u i c i d e", "s.u.i.c.i.d.e", "k-i-l-l").
///
/// Every rule reads its output, so it is conservative on purpose: ordinary text comes out byte for
/// byte as it went in. A word is decoded only when a digit or symbol sits between two letters and
/// letters outnumber the stand-ins (a symbol also needs a short side: see `isWordByte`), so numbers,
/// times, prices and codes keep their digits ("1 day", "3 kids", "7am", "$20", "mp3", "H1N1"), and
/// a missing space after "!" joins nothing ("sister!lol"); a stand-in only at a word's edge is left alone, because
/// "Python3" and "HTML5" look just like "d13". Letters are joined only when single letters alternate
/// with one repeated separator at least three times (four when the separator is a space, since
/// texting writes "u r a" and "i c u"), so "a-ha", "U.S.", "e.g." and "B-52" stay as written.
///
/// Decoding replaces one scalar with one; joining removes the separators, and their ranges come
/// back as `RemovedScalars` so every span maps onto the message the author wrote.
public enum Obfuscation {
  /// The message with obfuscation undone and the scalars removed, or nil when there is none (the
  /// common case costs one pass over the bytes and no copy).
  public static func undo(_ bytes: [UInt8]) -> (bytes: [UInt8], removed: RemovedScalars)? {
    let joined = joinSpelledOut(bytes)
    let decoded = decodeLeet(joined?.bytes ?? bytes)
    guard joined != nil || decoded != nil else { return nil }
    return (decoded ?? joined!.bytes, RemovedScalars(joined?.removed ?? []))
  }

  /// `text` with obfuscation undone, and the scalars removed from it; nil when there is none.
  public static func undo(_ text: String) -> (text: String, removed: RemovedScalars)? {
    undo(Array(text.utf8)).map { (String(decoding: $0.bytes, as: UTF8.self), $0.removed) }
  }

  /// The letter each stand-in means: 1 is read as i ("k1ll", "su1c1de"), its usual use.
  static let letterFor: [UInt8] = {
    var table = [UInt8](repeating: 0, count: 256)
    for (from, to) in [("0", "o"), ("1", "i"), ("3", "e"), ("4", "a"), ("5", "s"), ("7", "t"), ("@", "a"), ("$", "s"), ("!", "i")] {
      table[Int(UInt8(ascii: Unicode.Scalar(from)!))] = UInt8(ascii: Unicode.Scalar(to)!)
    }
    return table
  }()

  /// What may stand between letters spelt apart.
  static let separators: Set<UInt8> = [UInt8(ascii: " "), UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "*"), UInt8(ascii: "~")]
  static let minimumLetters = 3
  static let minimumLettersBetweenSpaces = 4

  /// An ASCII letter, either case.
  @inline(__always) public static func isLetter(_ byte: UInt8) -> Bool { (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z") }
  @inline(__always) static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
  @inline(__always) static func isStandIn(_ byte: UInt8) -> Bool { letterFor[Int(byte)] != 0 }
  /// Part of a word for the purpose of "is this letter on its own": letters, digits, stand-ins,
  /// apostrophes, underscores and every non-ASCII byte (letters of other scripts, emoji).
  @inline(__always) static func isWordish(_ byte: UInt8) -> Bool {
    isLetter(byte) || isDigit(byte) || isStandIn(byte) || byte >= 0x80 || byte == UInt8(ascii: "'") || byte == UInt8(ascii: "_")
  }

  // MARK: Letters spelt apart

  /// Runs of single letters (or stand-ins) split by one repeated separator, joined: the separators
  /// between them go, and so does one trailing copy of a separator that is not a space
  /// ("s.u.i.c.i.d.e." reads "suicide"; "r.i.p. me" reads "rip me").
  static func joinSpelledOut(_ bytes: [UInt8]) -> (bytes: [UInt8], removed: [Range<Int>])? {
    var dropped: [Int] = []
    var i = 0
    let count = bytes.count
    while i + 1 < count {
      guard let (last, trailing) = spelledOutRun(bytes, from: i) else {
        i += 1
        continue
      }
      dropped += stride(from: i + 1, to: last, by: 2)
      if trailing { dropped.append(last + 1) }
      i = last + 1
    }
    guard !dropped.isEmpty else { return nil }
    // Separators are ASCII: a dropped byte is one scalar, at the count of scalars before it.
    var removed: [Range<Int>] = []
    var scalar = 0
    var next = 0
    var kept: [UInt8] = []
    kept.reserveCapacity(count - dropped.count)
    for (index, byte) in bytes.enumerated() {
      if next < dropped.count, dropped[next] == index {
        if let last = removed.last, last.upperBound == scalar {
          removed[removed.count - 1] = last.lowerBound..<scalar + 1
        } else {
          removed.append(scalar..<scalar + 1)
        }
        next += 1
      } else {
        kept.append(byte)
      }
      if !UTF8Text.isContinuation(byte) { scalar += 1 }
    }
    return (kept, removed)
  }

  /// The byte offset of the last unit of a run of spelt-apart letters starting at `start`, and
  /// whether a trailing separator goes with it; nil when no run starts there.
  static func spelledOutRun(_ bytes: [UInt8], from start: Int) -> (last: Int, trailing: Bool)? {
    let count = bytes.count
    let separator = bytes[start + 1]
    guard isLetter(bytes[start]) || isStandIn(bytes[start]), separators.contains(separator) else { return nil }
    let isSpace = separator == UInt8(ascii: " ")
    if start > 0 {
      let before = bytes[start - 1]
      // "x-ab-c-d" is one hyphenated word, not letters spelt apart.
      if isWordish(before) || (!isSpace && before == separator) { return nil }
    }
    var last = start
    var units = 1
    var letters = isLetter(bytes[start]) ? 1 : 0
    while last + 2 < count, bytes[last + 1] == separator {
      let unit = bytes[last + 2]
      guard isLetter(unit) || isStandIn(unit), last + 3 == count || bytes[last + 3] == separator || !isWordish(bytes[last + 3]) else { break }
      last += 2
      units += 1
      if isLetter(unit) { letters += 1 }
    }
    guard units >= (isSpace ? minimumLettersBetweenSpaces : minimumLetters), letters >= 2 else { return nil }
    guard !isSpace, last + 1 < count, bytes[last + 1] == separator else { return (last, false) }
    // A separator after the last letter: dropped with the run when a word boundary follows it;
    // when a longer word follows ("a-b-c-def"), the letters belong to that compound.
    if last + 2 < count, isWordish(bytes[last + 2]) { return nil }
    return (last, true)
  }

  // MARK: Leetspeak

  /// Words with stand-ins between letters, decoded; nil when no word has any.
  static func decodeLeet(_ bytes: [UInt8]) -> [UInt8]? {
    var out: [UInt8]? = nil
    let count = bytes.count
    var i = 0
    while i < count {
      guard isWordByte(bytes, at: i) else {
        i += 1
        continue
      }
      var end = i + 1
      while end < count, isWordByte(bytes, at: end) { end += 1 }
      if isObfuscated(bytes[i..<end]), !isEmailAddress(bytes, word: i..<end) {
        if out == nil { out = bytes }
        for j in i..<end where isStandIn(bytes[j]) { out![j] = letterFor[Int(bytes[j])] }
      }
      i = end
    }
    return out
  }

  /// Letters and digits make up a word. A symbol stand-in (`@ $ !`) belongs to one only between two
  /// letters with at most two letters on one side ("k!ll", "h@te", "my$elf", "su!c!de"), and `!` only
  /// between letters of one case. Between two longer words it is a missing space ("years ago!https",
  /// "AGAIN!THE", "sister!lol", "not@suicidal": the only false reads in 83,322 corpus messages before
  /// this rule), and elsewhere it is punctuation ("wow!!", "$20", "@user").
  @inline(__always) static func isWordByte(_ bytes: [UInt8], at index: Int) -> Bool {
    let byte = bytes[index]
    guard byte == UInt8(ascii: "!") || byte == UInt8(ascii: "@") || byte == UInt8(ascii: "$") else {
      return isLetter(byte) || isDigit(byte)
    }
    guard index > 0, index + 1 < bytes.count, isLetter(bytes[index - 1]), isLetter(bytes[index + 1]) else { return false }
    // "stop!I said": a sentence ends where the case changes.
    if byte == UInt8(ascii: "!"), bytes[index - 1] & 0x20 != bytes[index + 1] & 0x20 { return false }
    func letters(from start: Int, by step: Int) -> Int {
      var count = 0
      var i = start
      while i >= 0, i < bytes.count, isLetter(bytes[i]), count <= shortSide {
        count += 1
        i += step
      }
      return count
    }
    return letters(from: index - 1, by: -1) <= shortSide || letters(from: index + 1, by: 1) <= shortSide
  }

  /// The most letters a symbol stand-in may have on its shorter side.
  static let shortSide = 2

  /// "sam@example.com": an `@` before a domain is an address, not a letter.
  static func isEmailAddress(_ bytes: [UInt8], word: Range<Int>) -> Bool {
    guard bytes[word].contains(UInt8(ascii: "@")), word.upperBound + 1 < bytes.count else { return false }
    return bytes[word.upperBound] == UInt8(ascii: ".") && isLetter(bytes[word.upperBound + 1])
  }

  /// A word is obfuscated when stand-ins sit between two of its letters, every digit in it is a
  /// stand-in, and its letters outnumber its stand-ins.
  static func isObfuscated(_ word: ArraySlice<UInt8>) -> Bool {
    var letters = 0
    var standIns = 0
    var between = false
    var afterLetter = false
    var pending = false
    for byte in word {
      if isLetter(byte) {
        letters += 1
        if pending { between = true }
        afterLetter = true
        pending = false
      } else if isStandIn(byte) {
        standIns += 1
        if afterLetter { pending = true }
        afterLetter = false
      } else {
        // A digit that stands for no letter (2, 6, 8, 9): a code or a number ("B12", "a1b2").
        return false
      }
    }
    return between && letters > standIns
  }
}
