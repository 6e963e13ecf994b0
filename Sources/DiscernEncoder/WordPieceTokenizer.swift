import Foundation

/// Why a tokenizer could not be built.
public enum TokenizerError: Error, Equatable, CustomStringConvertible {
  case unreadableVocabulary(path: String)
  case missingSpecialToken(path: String, token: String)

  public var description: String {
    switch self {
    case .unreadableVocabulary(let path): "cannot read the vocabulary '\(path)'"
    case .missingSpecialToken(let path, let token): "the vocabulary '\(path)' has no '\(token)' token"
    }
  }
}

/// BERT's uncased WordPiece tokenizer, matching Hugging Face's (BertNormalizer, BertPreTokenizer,
/// WordPiece, then `[CLS] … [SEP]`):
/// 1. drop NUL, U+FFFD and other control/format characters; every whitespace becomes a space;
/// 2. put spaces around CJK ideographs;
/// 3. strip accents (NFD, drop nonspacing marks) and lowercase;
/// 4. split on whitespace and around every punctuation character;
/// 5. greedy longest-match WordPiece with `##` continuations; a word over 100 characters, or one
///    with a piece not in the vocabulary, becomes `[UNK]`.
/// Emoji are not in the vocabulary, so they become `[UNK]`: the rules carry their meaning.
public struct WordPieceTokenizer: Sendable {
  public let vocabulary: [String: Int32]
  public let maxLength: Int
  public let clsID: Int32
  public let sepID: Int32
  public let unknownID: Int32
  public let padID: Int32
  /// The longest vocabulary entry in scalars (with its `##`): no longer candidate can match, so
  /// WordPiece never builds one (a 60-character URL tried 60 candidates per piece before).
  let longestEntry: Int
  static let maxCharactersPerWord = 100

  public init(vocabularyPath path: String, maxLength: Int = 128) throws(TokenizerError) {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw .unreadableVocabulary(path: path) }
    var vocabulary: [String: Int32] = [:]
    for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let token = line.hasSuffix("\r") ? String(line.dropLast()) : String(line)
      if !token.isEmpty, vocabulary[token] == nil { vocabulary[token] = Int32(index) }
    }
    func id(_ token: String) throws(TokenizerError) -> Int32 {
      guard let id = vocabulary[token] else { throw .missingSpecialToken(path: path, token: token) }
      return id
    }
    self.vocabulary = vocabulary
    longestEntry = vocabulary.keys.reduce(0) { max($0, $1.unicodeScalars.count) }
    self.maxLength = max(2, maxLength)
    clsID = try id("[CLS]")
    sepID = try id("[SEP]")
    unknownID = try id("[UNK]")
    padID = try id("[PAD]")
  }

  /// Token ids with `[CLS]` and `[SEP]`, truncated to `maxLength`.
  public func encode(_ text: String) -> [Int32] {
    var ids: [Int32] = [clsID]
    let budget = maxLength - 2
    outer: for word in words(normalize(text)) {
      for id in wordPieces(word) {
        if ids.count - 1 == budget { break outer }
        ids.append(id)
      }
    }
    ids.append(sepID)
    return ids
  }

  /// One token and the Unicode scalars of the original text it came from (nil for `[CLS]`/`[SEP]`).
  public struct Token: Sendable, Equatable {
    public let id: Int32
    public let scalars: Range<Int>?
    /// A word piece after the first of its word ("##s" of "kms"): a span marks whole words.
    public let continuesWord: Bool
    public init(id: Int32, scalars: Range<Int>?, continuesWord: Bool = false) {
      self.id = id
      self.scalars = scalars
      self.continuesWord = continuesWord
    }
  }

  /// The same tokens as `encode`, each with the range of original scalars it covers, so that what a
  /// model says about a token can be pointed at in the message.
  public func tokens(_ text: String) -> [Token] {
    let (normalized, origins) = normalizeWithOrigins(text)
    var tokens = [Token(id: clsID, scalars: nil)]
    let budget = maxLength - 2
    outer: for word in words(normalized) {
      for (piece, (id, range)) in wordPieceRanges(word).enumerated() {
        if tokens.count - 1 == budget { break outer }
        tokens.append(Token(id: id, scalars: origins[range.lowerBound]..<(origins[range.upperBound - 1] + 1), continuesWord: piece > 0))
      }
    }
    tokens.append(Token(id: sepID, scalars: nil))
    return tokens
  }

  /// Steps 1–3, scalar by scalar, with the index of the original scalar behind each output scalar.
  /// Canonical decomposition is applied per scalar: it differs from the whole string's only in the
  /// order of combining marks, which normalization drops.
  func normalizeWithOrigins(_ text: String) -> ([Unicode.Scalar], [Int]) {
    var out: [Unicode.Scalar] = [], origins: [Int] = []
    out.reserveCapacity(text.utf8.count)
    origins.reserveCapacity(text.utf8.count)
    for (index, scalar) in text.unicodeScalars.enumerated() {
      func emit(_ s: Unicode.Scalar) {
        out.append(s)
        origins.append(index)
      }
      // Most messages are mostly ASCII: its controls, whitespace and capitals without a lookup of
      // Unicode properties (the same answers, checked scalar by scalar in the tests).
      if scalar.isASCII {
        let v = scalar.value
        if v == 9 || v == 10 || v == 13 || v == 32 {
          emit(" ")
        } else if v >= 32 && v != 127 {
          emit(v >= 65 && v <= 90 ? Unicode.Scalar(v + 32)! : scalar)
        }
        continue
      }
      if scalar.value == 0xFFFD || Self.isControl(scalar) { continue }
      if Self.isWhitespace(scalar) {
        emit(" ")
      } else if Self.isCJK(scalar) {
        emit(" ")
        emit(scalar)
        emit(" ")
      } else {
        for part in String(scalar).decomposedStringWithCanonicalMapping.unicodeScalars
        where part.properties.generalCategory != .nonspacingMark {
          if part.isASCII {
            emit(part.properties.isUppercase ? Unicode.Scalar(part.value + 32)! : part)
          } else {
            for lower in part.properties.lowercaseMapping.unicodeScalars { emit(lower) }
          }
        }
      }
    }
    return (out, origins)
  }


  /// Steps 1–3: cleaned, CJK-spaced, accent-stripped, lowercased scalars.
  func normalize(_ text: String) -> [Unicode.Scalar] { normalizeWithOrigins(text).0 }

  /// Step 4: words split on whitespace, each punctuation character a word of its own.
  func words(_ scalars: [Unicode.Scalar]) -> [ArraySlice<Unicode.Scalar>] {
    var words: [ArraySlice<Unicode.Scalar>] = []
    var start: Int?
    for (i, scalar) in scalars.enumerated() {
      if scalar.isASCII ? (9...13).contains(scalar.value) || scalar == " " : scalar.properties.isWhitespace {
        if let s = start { words.append(scalars[s..<i]) }
        start = nil
      } else if Self.isPunctuation(scalar) {
        if let s = start { words.append(scalars[s..<i]) }
        words.append(scalars[i..<i + 1])
        start = nil
      } else if start == nil {
        start = i
      }
    }
    if let s = start { words.append(scalars[s...]) }
    return words
  }

  /// Step 5: greedy longest-match WordPiece.
  func wordPieces(_ word: ArraySlice<Unicode.Scalar>) -> [Int32] {
    wordPieceRanges(word).map(\.0)
  }

  /// The word's pieces, each with the range of the word's scalars it matched (the whole word for
  /// `[UNK]`).
  func wordPieceRanges(_ word: ArraySlice<Unicode.Scalar>) -> [(Int32, Range<Int>)] {
    let whole = [(unknownID, word.startIndex..<word.endIndex)]
    guard word.count <= Self.maxCharactersPerWord else { return whole }
    var pieces: [(Int32, Range<Int>)] = []
    var start = word.startIndex
    while start < word.endIndex {
      var end = min(word.endIndex, start + longestEntry)
      var found: Int32?
      while start < end {
        var candidate = start == word.startIndex ? "" : "##"
        candidate.unicodeScalars.append(contentsOf: word[start..<end])
        if let id = vocabulary[candidate] {
          found = id
          break
        }
        end -= 1
      }
      guard let id = found else { return whole }
      pieces.append((id, start..<end))
      start = end
    }
    return pieces
  }

  static func isWhitespace(_ s: Unicode.Scalar) -> Bool {
    s == "\t" || s == "\n" || s == "\r" || s.properties.isWhitespace
  }

  /// Control, format, surrogate, private-use and unassigned characters (category C), except the
  /// whitespace controls.
  static func isControl(_ s: Unicode.Scalar) -> Bool {
    if s == "\t" || s == "\n" || s == "\r" { return false }
    switch s.properties.generalCategory {
    case .control, .format, .surrogate, .privateUse, .unassigned: return true
    default: return false
    }
  }

  static func isPunctuation(_ s: Unicode.Scalar) -> Bool {
    if s.isASCII {
      let v = s.value
      return (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v)
    }
    switch s.properties.generalCategory {
    case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
      .initialPunctuation, .finalPunctuation, .otherPunctuation:
      return true
    default: return false
    }
  }

  static func isCJK(_ s: Unicode.Scalar) -> Bool {
    switch s.value {
    case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F,
      0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
      return true
    default: return false
    }
  }
}
