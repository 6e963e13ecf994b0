/// Scalars taken out of a text, and where an offset into what is left lies in the text as written.
/// Two readings remove scalars before the rules or the encoder see a message — padding
/// (`PaddedMessage`) and the separators of letters spelt apart (`Obfuscation`) — and both must show
/// every span on the message the author wrote. Offsets are Unicode scalars.
public struct RemovedScalars: Sendable, Equatable {
  /// The removed ranges of the original, sorted and disjoint.
  public let ranges: [Range<Int>]

  public init(_ ranges: [Range<Int>]) { self.ranges = ranges }

  public var isEmpty: Bool { ranges.isEmpty }
  /// Scalars of the original taken out.
  public var count: Int { ranges.reduce(0) { $0 + $1.count } }

  /// The original scalars of a range of the remaining text's scalars. A span starts at its first
  /// kept scalar and ends after its last, so removed scalars at its edges stay outside it.
  public func originalRange(_ kept: Range<Int>) -> Range<Int> {
    func original(_ offset: Int) -> Int {
      var offset = offset
      for range in ranges where range.lowerBound <= offset { offset += range.count }
      return offset
    }
    let start = original(kept.lowerBound)
    return kept.isEmpty ? start..<start : start..<original(kept.upperBound - 1) + 1
  }

  /// Overlapping or touching ranges joined, in order.
  static func merge(_ ranges: [Range<Int>]) -> [Range<Int>] {
    var merged: [Range<Int>] = []
    for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
      if let last = merged.last, range.lowerBound <= last.upperBound {
        merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, range.upperBound)
      } else {
        merged.append(range)
      }
    }
    return merged
  }
}
