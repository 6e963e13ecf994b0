import Foundation

/// *Just a Scratch*'s span metrics: CMSE for casual-mention spans, SISE for serious-intent spans.
/// For each text with gold spans of the type, the token-bag F1 between the words of the predicted
/// spans of that type and each gold span, the best over the gold spans; averaged over those texts.
/// A text where nothing of the type was predicted scores 0.
public enum SpanMetrics {
  /// One text: its message, the gold spans and the predicted spans of one type (Unicode-scalar ranges).
  public struct Item: Sendable {
    public let text: String
    public let gold: [Range<Int>]
    public let predicted: [Range<Int>]
    public init(text: String, gold: [Range<Int>], predicted: [Range<Int>]) {
      self.text = text
      self.gold = gold
      self.predicted = predicted
    }
  }

  /// The mean over items with gold spans, and how many there were.
  public static func score(_ items: [Item]) -> (score: Double, texts: Int) {
    let scored = items.filter { !$0.gold.isEmpty }.map { item -> Double in
      let scalars = Array(item.text.unicodeScalars)
      let predicted = item.predicted.flatMap { words(scalars, $0) }
      return item.gold.map { bagF1(predicted, words(scalars, $0)) }.max() ?? 0
    }
    return (scored.isEmpty ? 0 : scored.reduce(0, +) / Double(scored.count), scored.count)
  }

  /// The lower-cased words (letters and digits) of a range of the message.
  static func words(_ scalars: [Unicode.Scalar], _ range: Range<Int>) -> [String] {
    let clamped = max(0, range.lowerBound)..<min(scalars.count, max(range.lowerBound, range.upperBound))
    var view = String.UnicodeScalarView()
    view.append(contentsOf: scalars[clamped])
    return String(view).lowercased().split { !$0.isLetter && !$0.isNumber }.map(String.init)
  }

  static func bagF1(_ predicted: [String], _ gold: [String]) -> Double {
    guard !predicted.isEmpty, !gold.isEmpty else { return 0 }
    var counts: [String: Int] = [:]
    for word in gold { counts[word, default: 0] += 1 }
    var common = 0
    for word in predicted where (counts[word] ?? 0) > 0 {
      counts[word]! -= 1
      common += 1
    }
    guard common > 0 else { return 0 }
    let precision = Double(common) / Double(predicted.count), recall = Double(common) / Double(gold.count)
    return 2 * precision * recall / (precision + recall)
  }
}
