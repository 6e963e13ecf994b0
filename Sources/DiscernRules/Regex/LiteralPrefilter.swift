/// Which patterns of a rule set could match a message, found in one pass over its bytes: an
/// Aho–Corasick automaton over every pattern's required literals (`RequiredLiterals`). A pattern none
/// of whose literals occur cannot match and is not run; one without literals always runs. Most
/// messages hit a handful of the rules, so this skips most of the PCRE2 work of a rules-only audit.
public final class LiteralPrefilter: Sendable {
  /// The filtered patterns' slots in `candidates(in:)`.
  private let slotOf: [ObjectIdentifier: Int]
  public var filteredPatterns: Int { slotOf.count }
  /// Input bytes to automaton columns: bytes that occur in no literal share column 0, and ASCII
  /// capitals share their lowercase letter's column.
  private let columnOf: [Int32]
  private let columns: Int
  /// The complete transition table, `next[state * columns + column]`.
  private let next: [Int32]
  /// The slots a state completes a literal for (its suffixes' included), and whether it has any (read
  /// per byte, so kept flat).
  private let outputs: [[Int32]]
  private let completes: [Bool]

  public init(patterns: [PCRE2Pattern]) {
    var slotOf: [ObjectIdentifier: Int] = [:]
    var literals: [(bytes: [UInt8], slot: Int32)] = []
    for pattern in patterns where slotOf[ObjectIdentifier(pattern)] == nil {
      guard let required = RequiredLiterals.of(pattern.source) else { continue }
      let slot = slotOf.count
      slotOf[ObjectIdentifier(pattern)] = slot
      // Sorted, so the automaton (and its state numbers) do not depend on set order.
      for literal in required.sorted(by: { $0.lexicographicallyPrecedes($1) }) { literals.append((literal, Int32(slot))) }
    }
    var columnOf = [Int32](repeating: 0, count: 256)
    var columns: Int32 = 1
    for byte in Set(literals.flatMap(\.bytes)).sorted() {
      columnOf[Int(byte)] = columns
      columns += 1
    }
    for upper in UInt8(ascii: "A")...UInt8(ascii: "Z") { columnOf[Int(upper)] = columnOf[Int(upper | 0x20)] }
    let width = Int(columns)

    // The trie; -1 marks a missing edge until the breadth-first pass fills it in.
    var next = [Int32](repeating: -1, count: width)
    var outputs: [[Int32]] = [[]]
    for (bytes, slot) in literals {
      var state = 0
      for byte in bytes {
        let column = Int(columnOf[Int(byte)])
        if next[state * width + column] < 0 {
          next[state * width + column] = Int32(outputs.count)
          outputs.append([])
          next.append(contentsOf: repeatElement(-1, count: width))
        }
        state = Int(next[state * width + column])
      }
      if !outputs[state].contains(slot) { outputs[state].append(slot) }
    }
    // Failure links, folded into a complete table: a missing edge goes where the longest proper
    // suffix of the state's string would go.
    var failure = [Int](repeating: 0, count: outputs.count)
    var queue: [Int] = []
    for column in 0..<width {
      if next[column] < 0 {
        next[column] = 0
      } else {
        queue.append(Int(next[column]))
      }
    }
    var head = 0
    while head < queue.count {
      let state = queue[head]
      head += 1
      for slot in outputs[failure[state]] where !outputs[state].contains(slot) { outputs[state].append(slot) }
      for column in 0..<width {
        let child = next[state * width + column]
        let fallback = next[failure[state] * width + column]
        if child < 0 {
          next[state * width + column] = fallback
        } else {
          failure[Int(child)] = Int(fallback)
          queue.append(Int(child))
        }
      }
    }
    self.slotOf = slotOf
    self.columnOf = columnOf
    self.columns = width
    self.next = next
    self.outputs = outputs
    completes = outputs.map { !$0.isEmpty }
  }

  /// Per filtered slot, whether one of its literals occurs in `bytes`; nil when the message must be
  /// searched unfiltered (it holds a non-ASCII scalar that matches an ASCII letter caselessly).
  func candidates(in bytes: [UInt8]) -> [Bool]? {
    if Self.hasNonASCIICaseVariant(bytes) { return nil }
    var found = [Bool](repeating: false, count: slotOf.count)
    next.withUnsafeBufferPointer { next in
      columnOf.withUnsafeBufferPointer { columnOf in
        completes.withUnsafeBufferPointer { completes in
          var state = 0
          for byte in bytes {
            state = Int(next[state * columns + Int(columnOf[Int(byte)])])
            if completes[state] { for slot in outputs[state] { found[Int(slot)] = true } }
          }
        }
      }
    }
    return found
  }

  /// Scalars that PCRE2 matches caselessly against ASCII letters (KELVIN SIGN for k, LONG S for s) and
  /// the Turkish dotted and dotless i: a message containing one is searched without the filter.
  static func hasNonASCIICaseVariant(_ bytes: [UInt8]) -> Bool {
    var i = 0
    while i + 1 < bytes.count {
      switch (bytes[i], bytes[i + 1]) {
      case (0xC5, 0xBF), (0xC4, 0xB0), (0xC4, 0xB1): return true
      case (0xE2, 0x84) where i + 2 < bytes.count && bytes[i + 2] == 0xAA: return true
      default: i += 1
      }
    }
    return false
  }

  /// Whether `pattern` may match the message whose `candidates` these are.
  @inline(__always)
  func mayMatch(_ pattern: PCRE2Pattern, candidates: [Bool]) -> Bool {
    guard let slot = slotOf[ObjectIdentifier(pattern)] else { return true }
    return candidates[slot]
  }
}
