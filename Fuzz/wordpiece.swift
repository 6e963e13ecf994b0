// Fuzz target `wordpiece`: WordPieceTokenizer (normalization — control characters, whitespace, CJK,
// NFD accent stripping, lowercasing — then punctuation splitting and greedy longest-match WordPiece)
// on String(decoding: input, as: UTF8.self), through `encode` and `tokens`, with the default length
// (128) and a short one (8) so that truncation is reached. Checked besides crashes:
//  - `encode` and `tokens` give the same ids; [CLS] first, [SEP] last, at most maxLength of them;
//  - every id is one of the vocabulary's;
//  - every token between them points at a non-empty range of the text's scalars, in order.
// The vocabulary: $FUZZ_VOCAB if set, else the real one at .models/all-MiniLM-L6-v2/vocab.txt when
// it is there (`make model`), else the committed fixture Fuzz/wordpiece-vocab.txt (the special
// tokens and a cut of the real vocabulary). Public API of DiscernEncoder only.
import DiscernEncoder
import Foundation

let root: String = {
  let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
  return URL(fileURLWithPath: exe).deletingLastPathComponent().deletingLastPathComponent().path
}()

let vocabularyPath: String = {
  if let path = ProcessInfo.processInfo.environment["FUZZ_VOCAB"] { return path }
  let real = root + "/.models/all-MiniLM-L6-v2/vocab.txt"
  return FileManager.default.fileExists(atPath: real) ? real : root + "/Fuzz/wordpiece-vocab.txt"
}()

func tokenizer(_ maxLength: Int) -> WordPieceTokenizer {
  do {
    return try WordPieceTokenizer(vocabularyPath: vocabularyPath, maxLength: maxLength)
  } catch {
    fatalError("wordpiece: \(error)")
  }
}

let tokenizers: [WordPieceTokenizer] = {
  let made = [tokenizer(128), tokenizer(8)]
  FileHandle.standardError.write(Data("wordpiece: vocabulary \(vocabularyPath) (\(made[0].vocabulary.count) tokens)\n".utf8))
  return made
}()
let ids = Set(tokenizers[0].vocabulary.values)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
  let scalarCount = text.unicodeScalars.count
  for tokenizer in tokenizers {
    func fail(_ what: String) -> Never {
      fatalError("wordpiece (maxLength \(tokenizer.maxLength)): \(what); text: \(String(text.prefix(200)).debugDescription)")
    }
    let encoded = tokenizer.encode(text)
    let tokens = tokenizer.tokens(text)
    guard encoded == tokens.map(\.id) else { fail("encode gives \(encoded.count) ids, tokens \(tokens.count), not the same") }
    guard encoded.count >= 2, encoded.count <= tokenizer.maxLength, encoded.first == tokenizer.clsID, encoded.last == tokenizer.sepID
    else { fail("\(encoded.count) ids, not [CLS] … [SEP] within \(tokenizer.maxLength)") }
    guard tokens.first?.scalars == nil, tokens.last?.scalars == nil else { fail("[CLS] or [SEP] points into the text") }
    var previous = 0
    for token in tokens.dropFirst().dropLast() {
      guard ids.contains(token.id) else { fail("id \(token.id) is not in the vocabulary") }
      guard let range = token.scalars, !range.isEmpty, range.lowerBound >= previous, range.upperBound <= scalarCount else {
        fail("token \(token.id) points at \(String(describing: token.scalars)) (text has \(scalarCount) scalars, previous token from \(previous))")
      }
      previous = range.lowerBound
    }
  }
  return 0
}
