import CDiscernKernels
import Foundation

/// A span the encoder's tagger marks in a message: its type ("casual_mention", "serious_intent"),
/// Unicode-scalar offsets in the message, and the tagger's mean probability over its tokens.
public struct TaggedSpan: Sendable, Equatable {
  public let type: String
  public let scalars: Range<Int>
  public let confidence: Double

  public init(type: String, scalars: Range<Int>, confidence: Double) {
    self.type = type
    self.scalars = scalars
    self.confidence = confidence
  }
}

/// What the encoder reads of one message: its pooled embedding and the spans its tagger marked (none
/// without a tagger).
public struct EncoderReading: Sendable {
  public let embedding: [Float]
  public let spans: [TaggedSpan]

  public init(embedding: [Float], spans: [TaggedSpan]) {
    self.embedding = embedding
    self.spans = spans
  }
}

/// A message → encoder-input transform (the emoji gloss) and what identifies it, so that anything
/// cached per encoder (embeddings) is also keyed by what the encoder was given to read.
public struct InputGloss: Sendable {
  public let identity: String
  public let apply: @Sendable (String) -> String
  public init(identity: String, apply: @escaping @Sendable (String) -> String) {
    self.identity = identity
    self.apply = apply
  }
}

/// The span tagger: one linear layer over each token's last-layer state, classes in BIO form
/// (`O`, `B-<type>`, `I-<type>`) — the paper's span extraction as token tagging.
public struct TokenTagger: Sendable {
  public let tags: [String]
  let weight: [Float]
  let bias: [Float]
  let hidden: Int

  public init(tags: [String], weight: [Float], bias: [Float], hidden: Int) {
    self.tags = tags
    self.weight = weight
    self.bias = bias
    self.hidden = hidden
  }

  /// Softmax over the classes for each of `rows` token states (`hidden` floats each), the logits of
  /// all of them in one matrix product: token by token in scalar Swift they cost 4% of an audit.
  func probabilities(_ states: UnsafePointer<Float>, rows: Int) -> [[Float]] {
    guard rows > 0 else { return [] }
    let classes = tags.count
    var logits = [Float](repeating: 0, count: rows * classes)
    dk_sgemm(1, Int32(rows), Int32(classes), Int32(hidden), 1, states, Int32(hidden), weight, Int32(hidden), 0, &logits, Int32(classes))
    return (0..<rows).map { row in
      let scores = (0..<classes).map { logits[row * classes + $0] + bias[$0] }
      let top = scores.max() ?? 0
      let exps = scores.map { Foundation.exp($0 - top) }
      let total = exps.reduce(0, +)
      return exps.map { $0 / total }
    }
  }

  /// BIO decoding: a span opens at `B-x` (or at an `I-x` that does not continue an open `x` span)
  /// and runs over the following `I-x` tokens; it covers its tokens' scalars. Tokens outside the
  /// message (special tokens, the appended gloss) close any open span and are never marked.
  public func spans(tokens: [WordPieceTokenizer.Token], probabilities: [[Float]], messageLength: Int) -> [TaggedSpan] {
    var spans: [TaggedSpan] = []
    var open: (type: String, start: Int, end: Int, sum: Float, count: Int)?
    func close() {
      if let o = open { spans.append(TaggedSpan(type: o.type, scalars: o.start..<o.end, confidence: Double(o.sum / Float(o.count)))) }
      open = nil
    }
    for (token, p) in zip(tokens, probabilities) {
      guard let range = token.scalars, range.upperBound <= messageLength, let best = p.indices.max(by: { p[$0] < p[$1] }) else {
        close()
        continue
      }
      let tag = tags[best]
      // A span covers whole words: the rest of a word it reached joins it whatever its own tag
      // ("kms" is "km" + "##s"; a span that stopped at "km" showed the moderator half a word).
      if token.continuesWord, let o = open {
        open = (o.type, o.start, range.upperBound, o.sum, o.count)
      } else if tag.hasPrefix("I-"), let o = open, o.type == String(tag.dropFirst(2)) {
        open = (o.type, o.start, range.upperBound, o.sum + p[best], o.count + 1)
      } else if tag.hasPrefix("B-") || tag.hasPrefix("I-") {
        close()
        open = (String(tag.dropFirst(2)), range.lowerBound, range.upperBound, p[best], 1)
      } else {
        close()
      }
    }
    close()
    return spans
  }
}
