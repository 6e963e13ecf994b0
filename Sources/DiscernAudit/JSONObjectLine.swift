/// One JSONL record read as an object of members whose values stay raw bytes: the audit decodes only
/// `id` and `text` and passes every other member through verbatim, as the input wrote it. Validates
/// the whole line (RFC 8259) and says where it is not JSON; Foundation's parser built an `Any` tree
/// that the audit then walked back into text, most of a rules-only audit's time.
struct JSONObjectLine {
  struct Member {
    let key: String
    /// The value's bytes in the line, as written.
    let value: Range<Int>
  }

  let bytes: [UInt8]
  let members: [Member]

  /// Why a line is not a JSON object: where reading stopped (a 1-based byte) and why, or the type of
  /// value the line holds instead of an object.
  enum Invalid: Error, Equatable, CustomStringConvertible {
    case notJSON(reason: String, byte: Int)
    case notAnObject(String)

    var description: String {
      switch self {
      case .notJSON(let reason, let byte): "not valid JSON at byte \(byte): \(reason)"
      case .notAnObject(let type): "not a JSON object (\(type))"
      }
    }
  }

  init(_ bytes: [UInt8]) throws(Invalid) {
    var reader = Reader(bytes: bytes)
    reader.skipSpace()
    guard reader.peek == UInt8(ascii: "{") else {
      if reader.atEnd { throw .notJSON(reason: "the line is empty", byte: max(1, bytes.count)) }
      let first = reader.peek!
      try reader.value()
      reader.skipSpace()
      guard reader.atEnd else { throw reader.invalid("more after the value") }
      let type = switch first {
        case UInt8(ascii: "["): "an array"
        case UInt8(ascii: "\""): "a string"
        case UInt8(ascii: "t"), UInt8(ascii: "f"): "a boolean"
        case UInt8(ascii: "n"): "null"
        default: "a number"
      }
      throw .notAnObject(type)
    }
    reader.position += 1
    var members: [Member] = []
    reader.skipSpace()
    if reader.peek == UInt8(ascii: "}") {
      reader.position += 1
    } else {
      while true {
        reader.skipSpace()
        guard reader.peek == UInt8(ascii: "\"") else { throw reader.invalid("expected a key in double quotes") }
        let key = try reader.string()
        reader.skipSpace()
        try reader.expect(UInt8(ascii: ":"), "expected ':' after the key")
        reader.skipSpace()
        let start = reader.position
        try reader.value()
        members.append(Member(key: key, value: start..<reader.position))
        reader.skipSpace()
        if reader.peek == UInt8(ascii: ",") {
          reader.position += 1
          continue
        }
        try reader.expect(UInt8(ascii: "}"), "expected ',' or '}'")
        break
      }
    }
    reader.skipSpace()
    guard reader.atEnd else { throw reader.invalid("more after the object") }
    self.bytes = bytes
    self.members = members
  }

  /// The last member named `key` (JSON parsers commonly keep the last of duplicates).
  func member(_ key: String) -> Member? { members.last { $0.key == key } }

  /// A member's value decoded when it is a string; nil for any other type.
  func string(_ member: Member) -> String? {
    guard bytes[member.value.lowerBound] == UInt8(ascii: "\"") else { return nil }
    var reader = Reader(bytes: bytes, position: member.value.lowerBound)
    return try? reader.string()
  }

  /// A member's value as written (a number, `true`, an object …).
  func raw(_ member: Member) -> String { String(decoding: bytes[member.value], as: UTF8.self) }

  struct Reader {
    let bytes: [UInt8]
    var position = 0
    /// Objects and arrays nest at most this deep, so a hostile line cannot exhaust the stack.
    static let depthLimit = 512
    var depth = 0

    var atEnd: Bool { position >= bytes.count }
    var peek: UInt8? { position < bytes.count ? bytes[position] : nil }

    func invalid(_ reason: String) -> Invalid { .notJSON(reason: reason, byte: min(position, max(0, bytes.count - 1)) + 1) }

    mutating func expect(_ byte: UInt8, _ reason: String) throws(Invalid) {
      guard peek == byte else { throw invalid(reason) }
      position += 1
    }

    mutating func skipSpace() {
      while let b = peek, b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D { position += 1 }
    }

    mutating func value() throws(Invalid) {
      guard let next = peek else { throw invalid("the line ends where a value should be") }
      switch next {
      case UInt8(ascii: "\""): _ = try string()
      case UInt8(ascii: "{"): try container(close: UInt8(ascii: "}"), keyed: true)
      case UInt8(ascii: "["): try container(close: UInt8(ascii: "]"), keyed: false)
      case UInt8(ascii: "t"): try word("true")
      case UInt8(ascii: "f"): try word("false")
      case UInt8(ascii: "n"): try word("null")
      case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try number()
      default: throw invalid("expected a value")
      }
    }

    mutating func container(close: UInt8, keyed: Bool) throws(Invalid) {
      depth += 1
      guard depth <= Self.depthLimit else { throw invalid("nested more than \(Self.depthLimit) deep") }
      position += 1
      skipSpace()
      if peek == close {
        position += 1
        depth -= 1
        return
      }
      while true {
        skipSpace()
        if keyed {
          guard peek == UInt8(ascii: "\"") else { throw invalid("expected a key in double quotes") }
          _ = try string()
          skipSpace()
          try expect(UInt8(ascii: ":"), "expected ':' after the key")
          skipSpace()
        }
        try value()
        skipSpace()
        if peek == UInt8(ascii: ",") {
          position += 1
          continue
        }
        try expect(close, keyed ? "expected ',' or '}'" : "expected ',' or ']'")
        depth -= 1
        return
      }
    }

    mutating func word(_ text: String) throws(Invalid) {
      let expected = Array(text.utf8)
      guard position + expected.count <= bytes.count, bytes[position..<position + expected.count].elementsEqual(expected) else {
        throw invalid("expected a value")
      }
      position += expected.count
    }

    mutating func number() throws(Invalid) {
      if peek == UInt8(ascii: "-") { position += 1 }
      func digits() -> Int {
        let start = position
        while let b = peek, b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") { position += 1 }
        return position - start
      }
      if peek == UInt8(ascii: "0") {
        position += 1
      } else if digits() == 0 {
        throw invalid("expected a digit")
      }
      if peek == UInt8(ascii: ".") {
        position += 1
        guard digits() > 0 else { throw invalid("expected a digit after '.'") }
      }
      if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
        position += 1
        if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { position += 1 }
        guard digits() > 0 else { throw invalid("expected a digit in the exponent") }
      }
    }

    /// A string starting at the opening quote, decoded.
    mutating func string() throws(Invalid) -> String {
      position += 1
      let start = position
      // Fast path: no escapes, the bytes are the string (the line is valid UTF-8 already).
      while let b = peek, b != UInt8(ascii: "\""), b != UInt8(ascii: "\\") {
        guard b >= 0x20 else { throw invalid("a control character inside a string must be escaped") }
        position += 1
      }
      guard let stop = peek else { throw invalid("unterminated string") }
      if stop == UInt8(ascii: "\"") {
        position += 1
        return String(decoding: bytes[start..<position - 1], as: UTF8.self)
      }
      var decoded = Array(bytes[start..<position])
      while true {
        guard let b = peek else { throw invalid("unterminated string") }
        position += 1
        switch b {
        case UInt8(ascii: "\""): return String(decoding: decoded, as: UTF8.self)
        case UInt8(ascii: "\\"): try escape(into: &decoded)
        case 0..<0x20:
          position -= 1
          throw invalid("a control character inside a string must be escaped")
        default: decoded.append(b)
        }
      }
    }

    mutating func escape(into decoded: inout [UInt8]) throws(Invalid) {
      guard let b = peek else { throw invalid("unterminated string") }
      position += 1
      switch b {
      case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded.append(b)
      case UInt8(ascii: "b"): decoded.append(0x08)
      case UInt8(ascii: "f"): decoded.append(0x0C)
      case UInt8(ascii: "n"): decoded.append(0x0A)
      case UInt8(ascii: "r"): decoded.append(0x0D)
      case UInt8(ascii: "t"): decoded.append(0x09)
      case UInt8(ascii: "u"):
        var scalar = try hex4()
        if (0xD800..<0xDC00).contains(scalar) {
          guard peek == UInt8(ascii: "\\"), position + 1 < bytes.count, bytes[position + 1] == UInt8(ascii: "u") else {
            throw invalid("a high surrogate \\u escape without its low half")
          }
          position += 2
          let low = try hex4()
          guard (0xDC00..<0xE000).contains(low) else { throw invalid("a high surrogate \\u escape without its low half") }
          scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
        } else if (0xDC00..<0xE000).contains(scalar) {
          throw invalid("a low surrogate \\u escape on its own")
        }
        decoded.append(contentsOf: String(Character(Unicode.Scalar(scalar)!)).utf8)
      default:
        position -= 1
        throw invalid("unknown escape '\\\(Character(Unicode.Scalar(b)))'")
      }
    }

    mutating func hex4() throws(Invalid) -> UInt32 {
      var value: UInt32 = 0
      for _ in 0..<4 {
        guard let b = peek, let digit = Self.hexValue(b) else { throw invalid("expected four hex digits after \\u") }
        value = value << 4 | digit
        position += 1
      }
      return value
    }

    static func hexValue(_ b: UInt8) -> UInt32? {
      switch b {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(b - UInt8(ascii: "0"))
      case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(b - UInt8(ascii: "a") + 10)
      case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(b - UInt8(ascii: "A") + 10)
      default: nil
      }
    }
  }
}
