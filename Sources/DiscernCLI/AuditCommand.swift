import ArgumentParser
import Discern
import DiscernEncoder
import Foundation

struct AuditCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "audit",
    abstract: "Decide every record of a JSONL file: one output record per input line, in order, errors included.",
    discussion: """
      Each input line is a JSON object with 'text' (and optionally 'id' and any other keys, passed \
      through under 'metadata'). Each output line is the 'discern explain --json' object plus 'id' and \
      the input 'line'; a line that cannot be decided (invalid JSON or UTF-8, no 'text', over the size \
      limit) gives {"line", "id", "error"} instead. Reads and writes as it goes, in batches.
      """)

  @OptionGroup var rulesOptions: RulesOptions
  @OptionGroup var encoderOptions: EncoderOptions
  @OptionGroup var engineOptions: EngineOptions

  @Argument(help: "A JSONL file, or '-' for standard input.")
  var input: String

  @Option(help: "Write the records here instead of standard output.")
  var out: String?



  @Option(help: "Messages per batch.")
  var batch: Int = 64

  @Option(help: "Longest message accepted, in bytes of UTF-8.")
  var maxBytes: Int = 100_000

  func validate() throws {
    if batch < 1 { throw ValidationError("--batch must be at least 1.") }
  }

  func run() throws {
    guard let reader = input == "-" ? LineReader(handle: .standardInput) : LineReader(path: input) else {
      throw ValidationError("Cannot read '\(input)'.")
    }
    let engine = try engineOptions.load(rules: rulesOptions.rules, encoder: try encoderOptions.load())
    let output: FileHandle
    if let out {
      guard FileManager.default.createFile(atPath: out, contents: nil), let handle = FileHandle(forWritingAtPath: out) else {
        throw ValidationError("Cannot write '\(out)'.")
      }
      output = handle
    } else {
      output = .standardOutput
    }
    var auditor = Auditor(engine: engine, maxBytes: maxBytes)
    var pending: [AuditInput] = []
    var lineNumber = 0
    func flush() throws {
      for record in auditor.decide(pending) { output.write(record + Data("\n".utf8)) }
      pending.removeAll(keepingCapacity: true)
    }
    while let line = reader.next() {
      lineNumber += 1
      pending.append(AuditInput(line: lineNumber, bytes: line))
      if pending.count >= batch { try flush() }
    }
    try flush()
    progressLine("audited \(lineNumber) records: \(lineNumber - auditor.errors) decided, \(auditor.errors) errors")
  }
}

struct AuditInput {
  let line: Int
  let bytes: Data
}

/// Turns input lines into output records, keeping their order.
struct Auditor {
  let engine: Engine
  let maxBytes: Int
  var errors = 0

  enum Parsed {
    case message(id: String?, text: String, metadata: [String: Any])
    case error(id: String?, reason: String)
  }

  func parse(_ bytes: Data) -> Parsed {
    // JSON escapes can take six bytes per character; past that, the text cannot be within the limit
    // and the line is not worth parsing.
    guard bytes.count <= maxBytes * 6 + 4096 else {
      return .error(id: nil, reason: "record of \(bytes.count) bytes is over the size limit (\(maxBytes) bytes of text)")
    }
    guard String(validating: bytes, as: UTF8.self) != nil else {
      let offset = firstInvalidUTF8(bytes)
      return .error(id: nil, reason: "invalid UTF-8 at byte \(offset) of the line")
    }
    guard let object = try? JSONSerialization.jsonObject(with: bytes) else { return .error(id: nil, reason: "not valid JSON") }
    guard let fields = object as? [String: Any] else { return .error(id: nil, reason: "not a JSON object") }
    let id = (fields["id"] as? String) ?? (fields["id"] as? NSNumber).map { "\($0)" }
    guard let text = fields["text"] as? String else {
      return .error(id: id, reason: fields["text"] == nil ? "no 'text' field" : "'text' is not a string")
    }
    guard text.utf8.count <= maxBytes else {
      return .error(id: id, reason: "message of \(text.utf8.count) bytes is over the size limit (\(maxBytes))")
    }
    return .message(id: id, text: text, metadata: fields.filter { $0.key != "id" && $0.key != "text" })
  }

  func firstInvalidUTF8(_ bytes: Data) -> Int {
    var low = 0, high = bytes.count
    // The longest valid prefix, by bisection on whole-prefix validity (cut points inside a scalar
    // count as invalid, which only moves the answer to that scalar's start).
    while low < high {
      let middle = (low + high + 1) / 2
      if String(validating: bytes.prefix(middle), as: UTF8.self) != nil { low = middle } else { high = middle - 1 }
    }
    return low
  }

  mutating func decide(_ inputs: [AuditInput]) -> [Data] {
    let parsed = inputs.map { parse($0.bytes) }
    var texts: [String] = []
    for case .message(_, let text, _) in parsed { texts.append(text) }
    var decisions = engine.decide(texts).makeIterator()
    var records: [Data] = []
    for (input, item) in zip(inputs, parsed) {
      var object: [String: Any]
      switch item {
      case .message(let id, _, let metadata):
        let decision = decisions.next()!
        object = (try? JSONSerialization.jsonObject(with: Data(DecisionJSON.line(decision).utf8))) as? [String: Any] ?? [:]
        object["id"] = id ?? NSNull()
        if !metadata.isEmpty { object["metadata"] = metadata }
      case .error(let id, let reason):
        errors += 1
        object = ["id": id ?? NSNull(), "error": reason]
      }
      object["line"] = input.line
      records.append((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data())
    }
    return records
  }
}

/// Lines of a file or stream as raw bytes (no decoding, so invalid UTF-8 reaches the auditor), read
/// in 1 MB chunks: memory holds one chunk and the current line.
final class LineReader {
  private let handle: FileHandle
  private var buffer = Data()
  /// Where the unread part of `buffer` starts (consumed lines are not copied away one by one).
  private var start = 0
  private var finished = false

  init(handle: FileHandle) { self.handle = handle }

  convenience init?(path: String) {
    guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
    self.init(handle: handle)
  }

  func next() -> Data? {
    while true {
      if let newline = buffer[(buffer.startIndex + start)...].firstIndex(of: UInt8(ascii: "\n")) {
        var line = buffer[(buffer.startIndex + start)..<newline]
        if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
        start = newline + 1 - buffer.startIndex
        return Data(line)
      }
      if finished {
        guard start < buffer.count else { return nil }
        defer { buffer = Data(); start = 0 }
        return Data(buffer[(buffer.startIndex + start)...])
      }
      // Drop what was consumed, then read on.
      buffer = Data(buffer[(buffer.startIndex + start)...])
      start = 0
      let chunk = handle.readData(ofLength: 1 << 20)
      if chunk.isEmpty { finished = true } else { buffer.append(chunk) }
    }
  }
}
