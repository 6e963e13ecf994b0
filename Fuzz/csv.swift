// Fuzz target `csv`: the CSV input path of `discern audit --csv` — LineReader, CSVRecordReader (with
// CSVQuotes), AuditInputReader and CSV.fields, compiled from the working tree's Sources/DiscernAudit
// (Fuzz/build.sh cuts the declarations out into .build-fuzz/gen/CSVRecords.swift; LineReader.swift
// is compiled whole).
//
// Input: a CSV file. When its first byte is below 0x08, that byte picks a smaller line/record limit
// (so that the over-limit and "does not close within" paths are reachable with small inputs) and is
// not part of the file; 0x10…0x17 pick the same limits with ';' as the delimiter, 0x18…0x1F with tab
// (--delimiter); otherwise the limit is the audit's default (--max-bytes 100000) and the delimiter ','. The file is
// written to a scratch file and read twice, as the audit reads it:
//  1. AuditInputReader(csv: true): readHeader(), then every record, each parsed like
//     Auditor.parse does (UTF-8, CSV.fields, header/field counts);
//  2. CSVRecordReader alone, to check that the records account for the input's lines: every line is
//     in exactly one record, records start on increasing lines, a record within the limit is what the
//     lines say (joined with '\n'), and its fingerprint is FNV-1a of its bytes;
//  3. CSVRecordReader again, from a stream whose reads end just after each '\r' (as a pipe may cut
//     a line): the records must be the same as from the file.
// And one cross-check between the two quote readers the audit uses: CSVRecordReader finds a record's
// end with CSVQuotes, byte by byte; Auditor.parse splits it with CSV.fields, Character by Character
// (grapheme clusters). Each record handed over whole is split by both CSV.fields and this file's
// scalar-by-scalar reading of the same rules (`scalarFields`), and the two must agree — on whether a
// quote is left open, and on the fields.
import DiscernEncoder
import Foundation

let limits = [1, 8, 32, 100, 400, 1000, 4102, 604_096]
/// The delimiter the current input is read with (its first byte may choose one).
nonisolated(unsafe) var delimiter = CSVDelimiter.comma
let defaultLimit = 604_096

let scratch: Int32 = {
  let directory = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : NSTemporaryDirectory()
  var template = Array((directory + "/discern-fuzz-csv-XXXXXX").utf8CString)
  let fd = mkstemp(&template)
  guard fd >= 0 else { fatalError("csv: cannot make a scratch file: \(String(cString: strerror(errno)))") }
  unlink(String(cString: template))
  return fd
}()

func load(_ bytes: UnsafeBufferPointer<UInt8>) {
  guard ftruncate(scratch, 0) == 0 else { fatalError("csv: ftruncate failed") }
  var done = 0
  while done < bytes.count {
    let wrote = pwrite(scratch, bytes.baseAddress! + done, bytes.count - done, off_t(done))
    guard wrote > 0 else { fatalError("csv: pwrite failed") }
    done += wrote
  }
  lseek(scratch, 0, SEEK_SET)
}

func fail(_ what: String, _ file: UnsafeBufferPointer<UInt8>) -> Never {
  let shown = String(decoding: file.prefix(400), as: UTF8.self).debugDescription
  fatalError("csv: \(what); file (\(file.count) bytes): \(shown)")
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let all = UnsafeBufferPointer(start: data, count: size)
  var limit = defaultLimit
  var file = all
  if let first = all.first, first < 8 || (0x10..<0x20).contains(first) {
    limit = limits[Int(first & 7)]
    delimiter = first < 8 ? .comma : first < 0x18 ? .semicolon : .tab
    file = UnsafeBufferPointer(rebasing: all[1...])
  } else {
    delimiter = .comma
  }
  load(file)
  audit(limit: limit, file)
  let fromFile = account(limit: limit, file)
  let fromStream = streamed(limit: limit, file)
  guard fromStream.count == fromFile.count else {
    fail("\(fromFile.count) records from a file, \(fromStream.count) from a stream delivered in pieces", file)
  }
  for (a, b) in zip(fromFile, fromStream) where a != b {
    if b.problem?.contains("over the size limit") == true, crAtLimit(line: b.line, file, limit: limit) {
      fail("\(crAtLimit) (line \(a.line), from a stream whose read ended after the CR)", file)
    }
    fail("record \(a.line) from a file is \(a), delivered in pieces \(b)", file)
  }
  return 0
}

/// The message of one known finding (Fuzz/KNOWN.md): LineReader counts the CR before a line break
/// against the limit when the read that brought the CR did not bring the line break too.
let crAtLimit = "a line of exactly the limit bytes and a CR is reported over the limit"

/// Whether line `number` of the file is `limit` bytes and a CR before its line break.
func crAtLimit(line number: Int, _ file: UnsafeBufferPointer<UInt8>, limit: Int) -> Bool {
  var body = Array(file)
  if body.starts(with: [0xEF, 0xBB, 0xBF]) { body.removeFirst(3) }
  let lines = body.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
  guard number >= 1, number < lines.count else { return false }
  return lines[number - 1].count == limit + 1 && lines[number - 1].last == UInt8(ascii: "\r")
}

/// What a record reader handed over, to compare two readings.
struct Seen: Equatable, CustomStringConvertible {
  let line: Int
  let bytes: [UInt8]
  let problem: String?
  let fingerprint: UInt64
  init(_ input: AuditInput) {
    line = input.line
    bytes = input.bytes
    problem = input.problem
    fingerprint = input.fingerprint
  }
  var description: String { "line \(line), \(bytes.count) bytes, problem \(problem ?? "none"), fingerprint \(fingerprint)" }
}

/// The same file read from a stream whose reads end just after a '\r' (the first 16 of them): a pipe
/// or a terminal can hand a line over in pieces, and the reader must give the same records. A
/// SOCK_SEQPACKET socket makes the pieces deterministic: each read(2) returns one message.
func streamed(limit: Int, _ file: UnsafeBufferPointer<UInt8>) -> [Seen] {
  var pieces: [Range<Int>] = []
  var start = 0
  for (i, byte) in file.enumerated() where byte == UInt8(ascii: "\r") && pieces.count < 16 {
    pieces.append(start..<i + 1)
    start = i + 1
  }
  pieces.append(start..<file.count)
  // A SEQPACKET message must fit the socket's buffer: longer pieces go in 32 KiB messages.
  pieces = pieces.flatMap { piece in stride(from: piece.lowerBound, to: piece.upperBound, by: 1 << 15).map { $0..<min($0 + (1 << 15), piece.upperBound) } }
  var ends: [Int32] = [0, 0]
  guard socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue), 0, &ends) == 0 else { fatalError("csv: socketpair failed") }
  let bytes = Array(file)
  let (cuts, writeEnd) = (pieces, ends[1])
  let writer = Thread {
    for piece in cuts where !piece.isEmpty {
      let sent = bytes[piece].withUnsafeBytes { send(writeEnd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
      guard sent == piece.count else { fatalError("csv: send failed") }
    }
    close(writeEnd)
  }
  writer.start()
  let lines = LineReader(descriptor: ends[0], name: "fuzz stream", maxLineBytes: limit, owned: true)
  var reader = CSVRecordReader(lines: lines, maxBytes: limit, delimiter: delimiter)
  var seen: [Seen] = []
  while let record = reader.nextRecord() { seen.append(Seen(record)) }
  return seen
}

/// The audit's own reading: header, then records parsed as Auditor.parse parses CSV records.
func audit(limit: Int, _ file: UnsafeBufferPointer<UInt8>) {
  lseek(scratch, 0, SEEK_SET)
  let lines = LineReader(descriptor: scratch, name: "fuzz", maxLineBytes: limit, owned: false)
  let inputs = AuditInputReader(lines: lines, csv: true, maxBytes: limit, delimiter: delimiter)
  do { try inputs.readHeader() } catch { _ = error.description }
  var last = 0
  while let input = inputs.next() {
    guard input.line > last else { fail("record at line \(input.line) after one at line \(last)", file) }
    last = input.line
    if input.problem != nil { continue }
    guard let string = String(validating: input.bytes, as: UTF8.self) else { continue }
    let values = CSV.fields(string, delimiter: delimiter)
    let reference = scalarFields(string)
    guard let reference else {
      fail("record at line \(input.line) was read whole (CSVQuotes), but has a quote left open read scalar by scalar", file)
    }
    guard let values, values.count == reference.count,
      zip(values, reference).allSatisfy({ $0.unicodeScalars.elementsEqual($1.unicodeScalars) })
    else {
      fail(
        "CSV.fields disagrees with RFC 4180 read scalar by scalar on the record at line \(input.line): "
          + "\(values.map { "\($0.count) fields \($0)" } ?? "nil (a quote left open)") vs \(reference.count) fields \(reference)", file)
    }
    if let header = input.header, values.count == header.count {
      _ = zip(header, values).map { ($0, $1) }
    }
    _ = values.map { CSV.escape($0, delimiter: delimiter) }
  }
}

/// CSV.fields' own rules (a '"' opens a quoted field only at a field's start; '""' inside is a quote,
/// a lone '"' closes it, text after it joins the field), applied to the record's UTF-8 bytes by index —
/// as CSVQuotes applies them — rather than by walking scalars as CSV.fields does: an independent
/// reading to hold it to.
func scalarFields(_ record: String) -> [String]? {
  let bytes = Array(record.utf8)
  let quote = UInt8(ascii: "\""), comma = delimiter.byte
  var fields: [[UInt8]] = [[]]
  var i = 0
  var quoted = false
  while i < bytes.count {
    let byte = bytes[i]
    if quoted {
      if byte == quote, i + 1 < bytes.count, bytes[i + 1] == quote {
        fields[fields.count - 1].append(quote)
        i += 2
        continue
      }
      if byte == quote { quoted = false } else { fields[fields.count - 1].append(byte) }
    } else if byte == quote, fields[fields.count - 1].isEmpty {
      quoted = true
    } else if byte == comma {
      fields.append([])
    } else {
      fields[fields.count - 1].append(byte)
    }
    i += 1
  }
  return quoted ? nil : fields.map { String(decoding: $0, as: UTF8.self) }
}

/// Every line of the file in exactly one record, in order.
@discardableResult
func account(limit: Int, _ file: UnsafeBufferPointer<UInt8>) -> [Seen] {
  // The lines as LineReader must give them: a leading UTF-8 BOM dropped, split on '\n', a '\r'
  // before a '\n' dropped, no line after a final '\n'.
  var body = Array(file)
  if body.starts(with: [0xEF, 0xBB, 0xBF]) { body.removeFirst(3) }
  var expected = body.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map(Array.init)
  if expected.last?.isEmpty == true { expected.removeLast() }
  for i in expected.indices where i < expected.count - 1 || body.last == UInt8(ascii: "\n") {
    if expected[i].last == UInt8(ascii: "\r") { expected[i].removeLast() }
  }

  lseek(scratch, 0, SEEK_SET)
  let lines = LineReader(descriptor: scratch, name: "fuzz", maxLineBytes: limit, owned: false)
  var reader = CSVRecordReader(lines: lines, maxBytes: limit, delimiter: delimiter)
  var next = 1
  var seen: [Seen] = []
  while let record = reader.nextRecord() {
    seen.append(Seen(record))
    guard record.line == next else {
      fail("record starts at line \(record.line), expected line \(next) (a line lost or read twice)", file)
    }
    guard record.line <= expected.count else { fail("record at line \(record.line) past the last line \(expected.count)", file) }
    if record.problem != nil && record.bytes.isEmpty {
      // Over the limit: one line, never held.
      let line = expected[record.line - 1]
      guard line.count > limit else {
        if crAtLimit(line: record.line, file, limit: limit) { fail("\(crAtLimit) (line \(record.line), from a file)", file) }
        fail("line \(record.line) of \(line.count) bytes reported over the limit \(limit)", file)
      }
      next += 1
      continue
    }
    guard record.bytes.count <= limit else { fail("record at line \(record.line) holds \(record.bytes.count) bytes, over the limit \(limit)", file) }
    let parts = record.bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map(Array.init)
    if record.problem != nil && parts.count != 1 {
      fail("error record at line \(record.line) holds \(parts.count) lines", file)
    }
    for (k, part) in parts.enumerated() {
      guard record.line + k <= expected.count, part == expected[record.line + k - 1] else {
        fail("record at line \(record.line): its line \(k + 1) is not the input's line \(record.line + k)", file)
      }
    }
    var hash = FNV1a()
    hash.mix(record.bytes)
    guard hash.value == record.fingerprint else { fail("record at line \(record.line): fingerprint is not FNV-1a of its bytes", file) }
    next += parts.count
  }
  guard next == expected.count + 1 else {
    fail("records cover lines 1…\(next - 1) of \(expected.count)", file)
  }
  return seen
}
