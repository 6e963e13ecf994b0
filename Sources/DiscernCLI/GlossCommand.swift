import ArgumentParser
import Discern
import DiscernRules
import Foundation

struct GlossCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "gloss",
    abstract: "Print the text the encoder reads: each message with its emoji's meanings appended.",
    discussion: """
      Reads one JSON string per line on standard input and writes one per line: the message, and when \
      it holds emoji, each distinct emoji's lexicon meaning (or Unicode name) in parentheses, at most \
      \(EmojiGloss.maxGlosses). Training (Training/train.py) builds its inputs through this command, so \
      the encoder learns from exactly the text Discern gives it.
      """)

  @Option(help: "The emoji lexicon (default: Lexicons/cesm.yaml, \(searchOrderHelp)).")
  var lexicon: String?

  func run() throws {
    let lexicon = try loadLexicon(try locate(.lexicon, flag: lexicon))
    var number = 0
    var output = Data()
    while let line = readLine(strippingNewline: true) {
      number += 1
      guard let message = try? JSONSerialization.jsonObject(with: Data(line.utf8), options: .fragmentsAllowed) as? String else {
        progressLine("error: line \(number) of standard input is not a JSON string")
        throw ExitCode.failure
      }
      output.append(try JSONSerialization.data(withJSONObject: EmojiGloss.text(message, lexicon: lexicon), options: [.fragmentsAllowed, .withoutEscapingSlashes]))
      output.append(UInt8(ascii: "\n"))
      if output.count > 1 << 20 {
        FileHandle.standardOutput.write(output)
        output.removeAll(keepingCapacity: true)
      }
    }
    FileHandle.standardOutput.write(output)
  }
}
