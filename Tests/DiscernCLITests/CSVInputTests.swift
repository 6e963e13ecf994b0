import Foundation
import Testing

/// Issue 18, item 9: CSV exports with their own column names and delimiters, through the binary.
extension CLITests {
  /// Each record's id and text as a rules-only audit writes them (JSON lines), with its line.
  func auditedIDsAndTexts(_ arguments: [String]) throws -> (run: Run, records: [(line: Int, id: String?, text: String?)]) {
    let run = try discern(arguments: ["audit", "--rules-only"] + arguments)
    let records = try run.stdout.split(separator: "\n").map { line in
      let record = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
      return (line: try #require(record["line"] as? Int), id: record["id"] as? String, text: record["text"] as? String)
    }
    return (run, records)
  }

  @Test func auditReadsASemicolonExportWithItsOwnColumnNames() throws {
    let folder = try rulesFolder([:])
    let input = folder + "/export.csv"
    try """
      msg_id;queue;body
      m1;q1;"first; with a semicolon"
      m2;q2;"a ""quoted"" word
      over two lines"
      m3;q1;plain text

      """.write(toFile: input, atomically: true, encoding: .utf8)
    let (run, records) = try auditedIDsAndTexts([input, "--delimiter", ";", "--text-column", "body", "--id-column", "msg_id"])
    #expect(run.status == 0, "\(run.stderr)")
    #expect(run.stderr == "audited 3 records: 3 decided, 0 errors\n")
    #expect(records.map(\.line) == [2, 3, 5])
    #expect(records.map(\.id) == ["m1", "m2", "m3"])
    #expect(records.map(\.text) == ["first; with a semicolon", "a \"quoted\" word\nover two lines", "plain text"])
  }

  /// A tab-separated export in, CSV out with the same delimiter (the file goes back to the tool that
  /// wrote the input); the other column passes through as metadata.
  @Test(arguments: ["tab", "\\t", "\t"])
  func auditReadsATabExportAndWritesTabs(_ delimiter: String) throws {
    let folder = try rulesFolder([:])
    let input = folder + "/export.tsv", output = folder + "/out.csv"
    try "ref\tmessage\tteam\nr1\tjust a normal day\tblue\nr2\t\"has, a comma\tand a tab\"\tred\n"
      .write(toFile: input, atomically: true, encoding: .utf8)
    let (run, records) = try auditedIDsAndTexts(["--csv", input, "--delimiter", delimiter, "--text-column", "message", "--id-column", "ref"])
    #expect(run.status == 0, "\(run.stderr)")
    #expect(records.map(\.id) == ["r1", "r2"])
    #expect(records.map(\.text) == ["just a normal day", "has, a comma\tand a tab"])
    let written = try discern(arguments: ["audit", "--rules-only", "--csv", input, "--delimiter", delimiter, "--text-column", "message", "--id-column", "ref", "--out", output])
    #expect(written.status == 0, "\(written.stderr)")
    let rows = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n").map(String.init)
    #expect(rows.count == 3)
    #expect(rows[0].hasPrefix("line\tid\terror\tself_harm_probability\t"))
    #expect(rows[1].hasPrefix("2\tr1\t\t") && rows[1].hasSuffix("\t" + #""{""team"":""blue""}""#))
    #expect(rows[2].hasPrefix("3\tr2\t\t") && rows[2].hasSuffix("\t" + #""{""team"":""red""}""#))
  }

  @Test func aMissingTextColumnIsOneLineWithTheColumnsAHintAndTheOption() throws {
    let folder = try rulesFolder([:])
    let input = folder + "/export.csv"
    try "msg_id;body\nm1;hello\n".write(toFile: input, atomically: true, encoding: .utf8)
    let wrong = try discern(arguments: ["audit", "--rules-only", input, "--delimiter", ";", "--text-column", "bdy"])
    #expect(wrong.status == 1)
    #expect(wrong.stdout == "")
    #expect(wrong.stderr == """
      Error: '\(input)': line 1: the CSV header has no column 'bdy' for the message text (its columns: 'msg_id', 'body'); \
      did you mean 'body'? Give it with --text-column body.

      """)
    let noID = try discern(arguments: ["audit", "--rules-only", input, "--delimiter", ";", "--text-column", "body", "--id-column", "id"])
    #expect(noID.status == 1)
    #expect(noID.stderr == """
      Error: '\(input)': line 1: the CSV header has no column 'id' for the record ids (its columns: 'msg_id', 'body'). \
      Name the column with --id-column.

      """)
    let byPosition = try discern(arguments: ["audit", "--rules-only", input, "--delimiter", ";", "--text-column", "2"])
    #expect(byPosition.status == 1)
    #expect(byPosition.stderr == """
      Error: '\(input)': line 1: the CSV header has no column '2' for the message text (its columns: 'msg_id', 'body'); \
      columns are chosen by name, not position: column 2 is 'body' (--text-column body).

      """)
    let commas = try discern(arguments: ["audit", "--rules-only", input])
    #expect(commas.status == 1)
    #expect(commas.stderr == """
      Error: '\(input)': line 1: the CSV header has no column 'text' for the message text (its columns: 'msg_id;body'); \
      it looks separated by ';', not ',': give --delimiter ';'.

      """)
  }
}
