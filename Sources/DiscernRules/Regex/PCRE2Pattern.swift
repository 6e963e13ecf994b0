import CPCRE2

/// A PCRE2 pattern compiled for UTF-8 text with Unicode properties (UTF + UCP), JIT-compiled when
/// the platform allows. Immutable after creation, so one instance serves every thread.
public final class PCRE2Pattern: @unchecked Sendable {
  /// The pattern text PCRE2 compiled.
  public let source: String
  public let caseless: Bool
  let code: OpaquePointer

  /// Why a pattern did not compile: PCRE2's message and the offset, in UTF-8 code units of
  /// `source`, where it gave up.
  public struct CompileError: Error, Sendable {
    public let message: String
    public let offset: Int
  }

  public init(_ source: String, caseless: Bool = true) throws(CompileError) {
    self.source = source
    self.caseless = caseless
    // The interpreter resets its match limit at every start position, so one message could take
    // seconds; every rule pattern runs JIT-compiled, where the limit bounds the whole search.
    if let noJIT = source.utf8.firstRange(of: "(*NO_JIT)".utf8) {
      throw CompileError(
        message: "(*NO_JIT) is not allowed: rule patterns run JIT-compiled, which bounds the work one message can cost",
        offset: source.utf8.distance(from: source.utf8.startIndex, to: noJIT.lowerBound))
    }
    // \C matches one byte of a multi-byte character: spans would land mid-character.
    var options = UInt32(PCRE2_UTF | PCRE2_UCP | PCRE2_NEVER_BACKSLASH_C)
    if caseless { options |= UInt32(PCRE2_CASELESS) }
    var errorCode: Int32 = 0
    var errorOffset = 0
    let bytes = Array(source.utf8)
    let compiled = bytes.withUnsafeBufferPointer {
      pcre2_compile_8($0.baseAddress ?? PCRE2Pattern.emptyInput, $0.count, options, &errorCode, &errorOffset, nil)
    }
    guard let compiled else {
      throw CompileError(message: PCRE2Pattern.message(for: errorCode), offset: errorOffset)
    }
    code = compiled
    let jit = pcre2_jit_compile_8(code, UInt32(PCRE2_JIT_COMPLETE))
    // PCRE2 built without JIT support: the interpreter is all there is, and lint's own measure
    // (which runs the interpreter) still catches runaway patterns.
    if jit != 0 && jit != PCRE2_ERROR_JIT_BADOPTION {
      throw CompileError(message: "PCRE2 cannot JIT-compile this pattern (\(PCRE2Pattern.message(for: jit))); simplify it", offset: 0)
    }
  }

  deinit { pcre2_code_free_8(code) }

  /// PCRE2's own text for an error code.
  static func message(for errorCode: Int32) -> String {
    var buffer = [UInt8](repeating: 0, count: 256)
    let length = pcre2_get_error_message_8(errorCode, &buffer, buffer.count)
    return length > 0 ? String(decoding: buffer.prefix(Int(length)), as: UTF8.self) : "error \(errorCode)"
  }

  /// A non-null pointer for empty input (PCRE2 rejects a null subject).
  nonisolated(unsafe) static let emptyInput: UnsafePointer<UInt8> = {
    let p = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
    p.initialize(to: 0)
    return UnsafePointer(p)
  }()
}

/// The outcome of one search.
public enum PCRE2Search: Equatable, Sendable {
  case match(Range<Int>)
  case noMatch
  /// A match, depth, heap or JIT-stack limit stopped the search.
  case limit(PCRE2Limit)
  /// Any other PCRE2 failure, with its message.
  case failure(String)
}

public enum PCRE2Limit: String, Sendable, Codable {
  case match, depth, heap, jitStack = "jit_stack"
}

/// Limits for one search, and the scratch memory it uses. One per thread: searches write to it.
public final class PCRE2Matcher: @unchecked Sendable {
  let context: OpaquePointer
  let matchData: OpaquePointer
  /// Set for lint, which measures backtracking with the interpreter's deterministic counters.
  let useJIT: Bool

  public struct Limits: Sendable {
    /// Backtracking steps per search (PCRE2's match limit).
    public var match: UInt32
    /// Nested backtracking depth (interpreter only).
    public var depth: UInt32
    /// Heap for backtracking frames, in KiB (interpreter only).
    public var heapKiB: UInt32

    public init(match: UInt32 = 1_000_000, depth: UInt32 = 10_000, heapKiB: UInt32 = 20_000) {
      self.match = match
      self.depth = depth
      self.heapKiB = heapKiB
    }

    public static let engine = Limits()
  }

  public init(limits: Limits = .engine, useJIT: Bool = true) {
    context = pcre2_match_context_create_8(nil)
    pcre2_set_match_limit_8(context, limits.match)
    pcre2_set_depth_limit_8(context, limits.depth)
    pcre2_set_heap_limit_8(context, limits.heapKiB)
    matchData = pcre2_match_data_create_8(1, nil)
    self.useJIT = useJIT
  }

  deinit {
    pcre2_match_data_free_8(matchData)
    pcre2_match_context_free_8(context)
  }

  /// The first match of `pattern` in valid UTF-8 `subject` at or after byte `offset`, which must
  /// lie on a scalar boundary.
  @inline(__always)
  public func search(_ pattern: PCRE2Pattern, in subject: UnsafeBufferPointer<UInt8>, from offset: Int) -> PCRE2Search {
    // Subjects come from Swift strings, which are valid UTF-8: skip PCRE2's O(n) check per call.
    var options = UInt32(PCRE2_NO_UTF_CHECK)
    if !useJIT { options |= UInt32(PCRE2_NO_JIT) }
    let rc = pcre2_match_8(
      pattern.code, subject.baseAddress ?? PCRE2Pattern.emptyInput, subject.count, offset, options, matchData, context)
    // 0 means a match with more capture groups than the one-pair ovector holds: the whole match
    // is still in the first pair, and that is all a rule needs.
    if rc >= 0 {
      let ovector = pcre2_get_ovector_pointer_8(matchData)!
      return .match(Int(ovector[0])..<Int(ovector[1]))
    }
    switch rc {
    case PCRE2_ERROR_NOMATCH: return .noMatch
    case PCRE2_ERROR_MATCHLIMIT: return .limit(.match)
    case PCRE2_ERROR_DEPTHLIMIT: return .limit(.depth)
    case PCRE2_ERROR_HEAPLIMIT: return .limit(.heap)
    case PCRE2_ERROR_JIT_STACKLIMIT: return .limit(.jitStack)
    default: return .failure(PCRE2Pattern.message(for: rc))
    }
  }

  /// Every non-overlapping match, left to right. Stops at the first limit or failure and reports it.
  public func allMatches(
    _ pattern: PCRE2Pattern, in subject: UnsafeBufferPointer<UInt8>
  ) -> (spans: [Range<Int>], stop: PCRE2Search?) {
    var spans: [Range<Int>] = []
    var offset = 0
    while offset <= subject.count {
      switch search(pattern, in: subject, from: offset) {
      case .match(let range):
        spans.append(range)
        // An empty match must not be found again: step over one whole scalar.
        offset = range.isEmpty ? UTF8Text.nextScalarStart(in: subject, after: range.upperBound) : range.upperBound
      case .noMatch:
        return (spans, nil)
      case let stop:
        return (spans, stop)
      }
    }
    return (spans, nil)
  }
}
