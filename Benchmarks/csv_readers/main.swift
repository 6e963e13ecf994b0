// The audit's hand-written CSV reader against the CSV libraries the mirror has, on the same file
// (issue 18, item 9). Built and run by Benchmarks/csv_readers.sh, which cuts the reader out of
// Sources/DiscernAudit (Fuzz/extract.sh) and depends on yaslab/CSV.swift and swiftcsv/SwiftCSV.
//
//   csv-readers generate FILE ROWS       a synthetic export: id, text (quoted commas, doubled quotes,
//                                        line breaks, emoji), queue; no corpus text
//   csv-readers read READER FILE         one reader over the file: one JSON line of figures
//   csv-readers guarantees               what each reader does with the inputs the audit must survive
import CSV
import DiscernEncoder
import Foundation
import SwiftCSV

enum Reader: String, CaseIterable {
  case handWritten = "hand-written", yaslab = "yaslab/CSV.swift", swiftcsv = "SwiftCSV"
}

/// What a reader handed over: one entry per record, with the line it starts on when the reader knows.
struct Reading {
  var records: [(line: Int?, fields: [String]?)] = []
  var failure: String? = nil
}

func readAll(_ reader: Reader, path: String, keep: Bool) -> (count: Int, textBytes: Int, reading: Reading) {
  var reading = Reading()
  var count = 0, textBytes = 0
  func take(_ line: Int?, _ fields: [String]?) {
    count += 1
    textBytes += fields.map { $0.count > 1 ? $0[1].utf8.count : 0 } ?? 0
    if keep { reading.records.append((line, fields)) }
  }
  switch reader {
  case .handWritten:
    // As the audit reads: LineReader, CSVRecordReader (header first), UTF-8 check, CSV.fields.
    let descriptor = open(path, O_RDONLY)
    let lines = LineReader(descriptor: descriptor, name: path, maxLineBytes: 100_000 * 6 + 4096, owned: true)
    let inputs = AuditInputReader(lines: lines, csv: true, maxBytes: 100_000)
    do { try inputs.readHeader() } catch { reading.failure = error.description }
    while let input = inputs.next() {
      guard input.problem == nil, let string = String(validating: input.bytes, as: UTF8.self) else {
        take(input.line, nil)
        continue
      }
      take(input.line, CSV.fields(string))
    }
  case .yaslab:
    do {
      let csv = try CSVReader(stream: InputStream(fileAtPath: path)!, hasHeaderRow: true)
      while let row = csv.next() { take(nil, row) }
      if let error = csv.error { reading.failure = "\(error)" }
    } catch { reading.failure = "\(error)" }
  case .swiftcsv:
    do {
      let csv = try EnumeratedCSV(url: URL(fileURLWithPath: path), delimiter: .comma, loadColumns: false)
      for row in csv.rows { take(nil, row) }
    } catch { reading.failure = "\(error)" }
  }
  return (count, textBytes, reading)
}

func peakMegabytes() -> Double {
  var usage = rusage()
  getrusage(__rusage_who_t(truncatingIfNeeded: RUSAGE_SELF.rawValue), &usage)
  return Double(usage.ru_maxrss) / 1024
}

func generate(path: String, rows: Int) throws {
  let words = ["the", "exam", "tomorrow", "is", "going", "to", "be", "fine", "I", "think", "group", "project", "weather", "🙂", "😂", "café", "naïve"]
  var generator = SystemRandomNumberGenerator()
  var out = "id,text,queue\n"
  out.reserveCapacity(rows * 110)
  for i in 0..<rows {
    var text = (0..<Int.random(in: 6...24, using: &generator)).map { _ in words.randomElement(using: &generator)! }.joined(separator: " ")
    let kind = i % 20
    if kind == 0 { text = "\"" + text + ", with a comma\"" } else if kind == 1 {
      text = "\"she said \"\"" + text + "\"\"\""
    } else if kind == 2 { text = "\"" + text + "\nand a second line\"" }
    out += "m\(i),\(text),q\(i % 7)\n"
  }
  try out.write(toFile: path, atomically: true, encoding: .utf8)
}

/// The inputs an audit must turn into one output record per input record, each carrying its line.
func guarantees() throws {
  let folder = NSTemporaryDirectory() + "csv-readers-\(getpid())"
  try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
  let cases: [(String, [UInt8])] = [
    ("BOM before the header", Array("\u{FEFF}id,text\n1,a\n2,b\n".utf8)),
    ("quoted line break", Array("id,text\n1,\"a\nb\"\n2,c\n".utf8)),
    ("stray quote in record 1 of 4", Array("id,text\n1,\"oops\n2,b\n3,c\n4,d\n".utf8)),
    ("invalid UTF-8 in record 1 of 3", Array("id,text\n1,a".utf8) + [0xFF] + Array("b\n2,c\n3,d\n".utf8)),
  ]
  for (name, bytes) in cases {
    let path = folder + "/case.csv"
    FileManager.default.createFile(atPath: path, contents: Data(bytes))
    for reader in Reader.allCases {
      let (count, _, reading) = readAll(reader, path: path, keep: true)
      let shown = reading.records.map { record in
        (record.line.map { "line \($0): " } ?? "") + (record.fields.map { $0.debugDescription } ?? "error record")
      }
      print("\(name) | \(reader.rawValue) | \(count) records | \(shown.joined(separator: "; "))\(reading.failure.map { " | stopped: \($0)" } ?? "")")
    }
  }
}

let arguments = CommandLine.arguments
switch arguments.dropFirst().first {
case "generate":
  try generate(path: arguments[2], rows: Int(arguments[3]) ?? 500_000)
case "read":
  let reader = Reader(rawValue: arguments[2])!
  let path = arguments[3]
  let size = Double((try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0)
  let start = Date()
  let (count, textBytes, reading) = readAll(reader, path: path, keep: false)
  let seconds = Date().timeIntervalSince(start)
  print(
    String(
      format: "{\"reader\": \"%@\", \"records\": %d, \"text_bytes\": %d, \"seconds\": %.3f, \"records_per_s\": %.0f, \"mb_per_s\": %.1f, \"peak_mb\": %.1f%@}",
      reader.rawValue, count, textBytes, seconds, Double(count) / seconds, size / 1e6 / seconds, peakMegabytes(),
      reading.failure.map { ", \"failure\": \"\($0)\"" } ?? ""))
case "guarantees":
  try guarantees()
default:
  FileHandle.standardError.write(Data("usage: csv-readers generate FILE ROWS | read READER FILE | guarantees\n".utf8))
  exit(2)
}
