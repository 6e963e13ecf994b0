// Fuzz target `jsonl`: the JSONL record scanner of `discern audit` (JSONObjectLine, compiled from
// Sources/DiscernAudit/JSONObjectLine.swift into this binary: it is internal to the audit library).
//
// The input is split into lines as the audit's LineReader splits them ('\n', one trailing '\r'
// dropped). Every line goes through `JSONObjectLine` — also lines that are not UTF-8, as the resume
// path (SavedRecords) feeds them — and then through what the audit does with an accepted object:
// `member("id")`, `member("text")`, `string(_:)`, `raw(_:)` and the pass-through object of the
// other members. Besides crashes (traps, ASan), these properties are checked:
//  1. every member's value range lies inside the line and is itself one complete JSON value;
//  2. a string value decodes (`string(_:)` is non-nil);
//  3. the pass-through object the audit writes from the raw members parses again, with the same keys;
//  4. on valid UTF-8, JSONObjectLine and Foundation's JSONSerialization agree on whether the line is
//     a JSON object, and on the decoded `id` and `text` strings. Foundation's own limits are not held
//     against the scanner: numbers outside Double's range and nesting past 512 levels; nor is its
//     leniency: it reads a trailing comma before '}' or ']', and stops at a NUL byte (lines with one
//     are left out of this comparison).
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let input = Array(UnsafeBufferPointer(start: data, count: size))
  for piece in input.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
    var line = Array(piece)
    if line.last == UInt8(ascii: "\r") { line.removeLast() }
    check(line)
  }
  return 0
}

func fail(_ what: String, _ line: [UInt8]) -> Never {
  let shown = String(decoding: line.prefix(300), as: UTF8.self).debugDescription
  fatalError("jsonl: \(what); line (\(line.count) bytes): \(shown)")
}

func check(_ line: [UInt8]) {
  let object: JSONObjectLine?
  let refusal: JSONObjectLine.Invalid?
  do {
    object = try JSONObjectLine(line)
    refusal = nil
  } catch {
    object = nil
    refusal = error
    _ = error.description
    if case .notJSON(_, let byte) = error, byte < 1 || byte > max(1, line.count) {
      fail("error byte \(byte) outside the line", line)
    }
  }
  if let object { checkAccepted(object, line) }
  guard String(validating: line, as: UTF8.self) != nil else { return }
  differential(line, object: object, refusal: refusal)
}

func checkAccepted(_ object: JSONObjectLine, _ line: [UInt8]) {
  for member in object.members {
    guard member.value.lowerBound >= 0, member.value.upperBound <= line.count, !member.value.isEmpty else {
      fail("member '\(member.key)' has value range \(member.value)", line)
    }
    let raw = object.raw(member)
    if line[member.value.lowerBound] == UInt8(ascii: "\"") && object.string(member) == nil {
      fail("string member '\(member.key)' does not decode", line)
    }
    // The value alone, wrapped as the only member, must be an object again.
    let wrapped = Array("{\"k\":".utf8) + line[member.value] + Array("}".utf8)
    guard let again = try? JSONObjectLine(wrapped), again.members.count == 1, again.members[0].value.count == member.value.count
    else { fail("member '\(member.key)' value \(raw.debugDescription) is not one JSON value on its own", line) }
  }
  // What the audit does with an accepted record.
  let id = object.member("id")
  _ = id.flatMap(object.string)
  _ = id.map(object.raw)
  _ = object.member("text").flatMap(object.string)
  // The pass-through object, as PassThrough(object:leaving:) builds it.
  let kept = object.members.filter { $0.key != "id" && $0.key != "text" }
  guard !kept.isEmpty else { return }
  var json = Array("{".utf8)
  for (i, member) in kept.enumerated() {
    if i > 0 { json.append(UInt8(ascii: ",")) }
    json += quoted(member.key)
    json.append(UInt8(ascii: ":"))
    json += line[member.value]
  }
  json.append(UInt8(ascii: "}"))
  guard let passed = try? JSONObjectLine(json), passed.members.map(\.key) == kept.map(\.key) else {
    fail("the pass-through object built from the members does not parse back", line)
  }
}

/// A JSON string literal (RFC 8259 escapes), written independently of the code under test.
func quoted(_ s: String) -> [UInt8] {
  var out: [UInt8] = [UInt8(ascii: "\"")]
  for byte in s.utf8 {
    switch byte {
    case UInt8(ascii: "\""), UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), byte]
    case 0..<0x20: out += Array(String(format: "\\u%04x", byte).utf8)
    default: out.append(byte)
    }
  }
  out.append(UInt8(ascii: "\""))
  return out
}

func differential(_ line: [UInt8], object: JSONObjectLine?, refusal: JSONObjectLine.Invalid?) {
  enum Kind: Equatable { case object, otherValue, invalid }
  // Foundation stops reading at a NUL byte ("1\0x" is the number 1 to it); JSON has none outside strings.
  if line.contains(0) { return }
  let foundation: Any?
  var foundationError = ""
  do {
    foundation = try JSONSerialization.jsonObject(with: Data(line), options: [.fragmentsAllowed])
  } catch {
    foundation = nil
    foundationError = "\(error)"
  }
  // Foundation's limits, not JSON's: numbers past Double, nesting past 512.
  if foundationError.contains("not representable") || foundationError.contains("Too many nested") { return }
  if case .notJSON(let reason, let byte)? = refusal {
    if reason.contains("nested more than") { return }
    // Foundation also reads a trailing comma ("[1,]", "{\"a\":1,}"); JSON does not.
    if byte >= 1, byte <= line.count, line[byte - 1] == UInt8(ascii: "}") || line[byte - 1] == UInt8(ascii: "]"),
      line[..<(byte - 1)].last(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) == UInt8(ascii: ",")
    { return }
  }
  let mine: Kind = object != nil ? .object : refusal.map { if case .notAnObject = $0 { Kind.otherValue } else { Kind.invalid } } ?? .invalid
  let theirs: Kind = foundation == nil ? .invalid : foundation is [String: Any] ? .object : .otherValue
  guard mine == theirs else {
    fail("JSONObjectLine says \(mine) (\(refusal.map { "\($0)" } ?? "accepted")), Foundation says \(theirs) \(foundationError)", line)
  }
  guard let object, let dictionary = foundation as? [String: Any] else { return }
  for key in ["id", "text"] {
    guard let member = object.member(key), let mine = object.string(member) else { continue }
    guard let theirs = dictionary[key] as? String, theirs.unicodeScalars.elementsEqual(mine.unicodeScalars) else {
      fail("'\(key)' decodes to \(mine.debugDescription), Foundation says \(String(describing: dictionary[key]))", line)
    }
  }
}
