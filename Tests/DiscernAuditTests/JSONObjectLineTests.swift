import Foundation
import Testing

@testable import DiscernAudit

/// An audit's input lines: `id` and `text` decoded, every other member passed through as written, and
/// a line that is not a JSON object rejected with where and why.
@Suite struct JSONObjectLineTests {
  func read(_ line: String) throws(JSONObjectLine.Invalid) -> JSONObjectLine { try JSONObjectLine(Array(line.utf8)) }

  @Test func membersKeepTheirBytesAndStringsAreDecoded() throws {
    let object = try read(#"{"id": 7, "text": "tab\there \ud83d\ude02 \"quoted\"", "labels": {"self_harm": 1.0, "x": [true, null]}}"#)
    #expect(object.members.map(\.key) == ["id", "text", "labels"])
    #expect(object.string(try #require(object.member("text"))) == "tab\there 😂 \"quoted\"")
    #expect(object.raw(try #require(object.member("labels"))) == #"{"self_harm": 1.0, "x": [true, null]}"#)
    #expect(object.string(try #require(object.member("id"))) == nil)
    let passed = PassThrough(object: object, leaving: ["id", "text"])
    #expect(String(decoding: passed.json, as: UTF8.self) == #"{"labels":{"self_harm": 1.0, "x": [true, null]}}"#)
  }

  @Test(arguments: [
    (#"{"id": "a", "text": "x",}"#, "not valid JSON at byte 25: expected a key in double quotes"),
    (#"{"text" "x"}"#, "not valid JSON at byte 9: expected ':' after the key"),
    (#"{"text": "a\qb"}"#, #"not valid JSON at byte 13: unknown escape '\q'"#),
    (#"{"text": "\ud83d"}"#, #"not valid JSON at byte 17: a high surrogate \u escape without its low half"#),
    (#"{"text": tru}"#, "not valid JSON at byte 10: expected a value"),
    (#"{"n": 01}"#, "not valid JSON at byte 8: expected ',' or '}'"),
    (#"{"text": "x"} extra"#, "not valid JSON at byte 15: more after the object"),
    (#"["text", "x"]"#, "not a JSON object (an array)"),
    ("", "not valid JSON at byte 1: the line is empty"),
    // A hostile line cannot exhaust the stack: nesting stops at 512.
    (#"{"text": "x", "deep": "# + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}",
     "not valid JSON at byte 535: nested more than 512 deep"),
  ])
  func invalidLinesSayWhereAndWhat(_ line: String, _ message: String) {
    #expect(throws: (any Error).self) { try read(line) }
    do {
      _ = try read(line)
    } catch {
      #expect(error.description == message)
    }
  }
}
