import DiscernEncoder
import Foundation

/// Lines of a file or stream as raw bytes (no decoding, so invalid UTF-8 reaches the auditor), read
/// in 1 MB chunks with read(2): memory holds one chunk and the current line. A line longer than
/// `maxLineBytes` is counted as it streams past and never held, so one hostile line cannot take the
/// memory of its whole length; its fingerprint covers its first `Fingerprint.longLinePrefix` bytes and
/// its length (hashing the rest would cost a pass over bytes nothing reads).
final class LineReader {
  enum Line {
    case bytes([UInt8])
    /// A line over the limit: how long it was (without its line break) and its fingerprint.
    case tooLong(bytes: Int, fingerprint: UInt64)
  }

  /// How messages name the stream: `'path'`, or `standard input`.
  let name: String
  let maxLineBytes: Int
  /// The input's size when it is a regular file (for the ETA).
  let totalBytes: Int?
  /// Bytes of the lines handed out so far, line breaks included.
  private(set) var bytesRead = 0
  /// Whether the last line handed out ended in a line break: a file's last line may be cut short by
  /// an interrupted write.
  private(set) var lastLineEnded = true
  /// The OS error that ended reading early; the lines before it were handed out.
  private(set) var failure: String?

  private let descriptor: Int32
  private let owned: Bool
  private var buffer: [UInt8] = []
  /// Where the unread part of `buffer` starts (consumed lines are not copied away one by one).
  private var start = 0
  /// How far past `start` is known to hold no line break (a long line is not searched again per chunk).
  private var searched = 0
  private var finished = false
  /// Until the first bytes are in: a UTF-8 byte order mark there is not part of the first line.
  private var atStreamStart = true
  /// The line over the limit being skipped: its bytes so far, the hash of its start, its last byte.
  private var skipped: Skipped?
  private struct Skipped {
    var count = 0
    var hash = Fingerprint()
    var lastByte: UInt8 = 0
  }
  /// What read(2) fills before its bytes join `buffer`.
  private var chunk = [UInt8](repeating: 0, count: 1 << 20)

  /// Reads `descriptor` (closed with the reader when `owned`).
  init(descriptor: Int32, name: String, maxLineBytes: Int, owned: Bool) {
    self.descriptor = descriptor
    self.name = name
    self.maxLineBytes = maxLineBytes
    self.owned = owned
    var info = stat()
    totalBytes = fstat(descriptor, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG ? Int(info.st_size) : nil
  }

  deinit { if owned { close(descriptor) } }

  func next() -> Line? {
    while true {
      if atStreamStart, buffer.count >= 3 || finished {
        atStreamStart = false
        if buffer.starts(with: [0xEF, 0xBB, 0xBF]) {
          start = 3
          bytesRead = 3
        }
      }
      if !atStreamStart, let newline = lineBreak() {
        defer {
          start = newline + 1
          searched = 0
        }
        lastLineEnded = true
        bytesRead += newline + 1 - start
        if let skipped {
          self.skipped = nil
          return tooLong(skipped, adding: start..<newline)
        }
        var end = newline
        if end > start, buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        guard end - start <= maxLineBytes else { return tooLong(Skipped(), adding: start..<newline) }
        return .bytes(Array(buffer[start..<end]))
      }
      // A carriage return last in the buffer may be the line break's first half: not counted yet,
      // or a line of exactly the limit would be over it whenever a read ended between CR and LF.
      let pendingReturn = buffer.last == UInt8(ascii: "\r") ? 1 : 0
      if !atStreamStart, skipped != nil || buffer.count - start - pendingReturn > maxLineBytes {
        // No line break yet and already over the limit: keep the count and hash, drop the bytes.
        skipped = tooLongSoFar(skipped, adding: start..<buffer.count)
        bytesRead += buffer.count - start
        buffer.removeAll(keepingCapacity: true)
        start = 0
        searched = 0
      }
      if finished {
        guard start < buffer.count || skipped != nil else { return nil }
        lastLineEnded = false
        bytesRead += buffer.count - start
        defer {
          buffer = []
          start = 0
          searched = 0
        }
        if let skipped {
          self.skipped = nil
          return tooLong(skipped, adding: start..<buffer.count)
        }
        // A last line without a line break keeps a final CR (no LF follows it), and with it may be
        // over the limit that a pending CR was let through for.
        guard buffer.count - start <= maxLineBytes else { return tooLong(Skipped(), adding: start..<buffer.count) }
        return .bytes(Array(buffer[start...]))
      }
      // Drop what was consumed, then read on.
      buffer.removeFirst(start)
      start = 0
      fill()
    }
  }

  /// The position of the next line break at or after `start`, searching only bytes not searched before.
  private func lineBreak() -> Int? {
    let from = start + searched
    guard from < buffer.count else { return nil }
    let found = buffer.withUnsafeBufferPointer { all -> Int? in
      guard let hit = memchr(all.baseAddress! + from, Int32(UInt8(ascii: "\n")), all.count - from) else { return nil }
      return all.baseAddress!.distance(to: hit.assumingMemoryBound(to: UInt8.self))
    }
    if found == nil { searched = buffer.count - start }
    return found
  }

  private func tooLongSoFar(_ so: Skipped?, adding range: Range<Int>) -> Skipped {
    var line = so ?? Skipped()
    let hashed = max(0, min(range.count, Fingerprint.longLinePrefix - line.count))
    buffer.withUnsafeBytes { line.hash.mix(UnsafeRawBufferPointer(rebasing: $0[range.lowerBound..<range.lowerBound + hashed])) }
    line.count += range.count
    if let byte = buffer[range].last { line.lastByte = byte }
    return line
  }

  private func tooLong(_ so: Skipped, adding range: Range<Int>) -> Line {
    var line = tooLongSoFar(so, adding: range)
    // A carriage return before the line break is not part of the line, as for lines kept whole.
    let count = line.lastByte == UInt8(ascii: "\r") && range.upperBound < buffer.count ? line.count - 1 : line.count
    withUnsafeBytes(of: UInt64(count).littleEndian) { line.hash.mix($0) }
    return .tooLong(bytes: count, fingerprint: line.hash.value)
  }

  private func fill() {
    while true {
      let got = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress!, $0.count) }
      if got > 0 {
        chunk.withUnsafeBytes { buffer.append(contentsOf: $0[..<got]) }
        return
      }
      if got == 0 {
        finished = true
        return
      }
      if errno == EINTR { continue }
      failure = String(cString: strerror(errno))
      finished = true
      return
    }
  }
}

/// The audit's record fingerprints: DiscernEncoder's FNV-1a (its `mix` is inlinable, so hashing every
/// input record specializes here), with what the audit adds.
typealias Fingerprint = FNV1a

extension FNV1a {
  /// How much of a line over the size limit its fingerprint reads.
  static let longLinePrefix = 1 << 16

  mutating func mix(_ text: String) { mix(text.utf8) }

  static func of(_ bytes: [UInt8]) -> UInt64 {
    var hash = FNV1a()
    hash.mix(bytes)
    return hash.value
  }

  /// As model files write fingerprints.
  static func text(_ value: UInt64) -> String {
    var hash = FNV1a()
    hash.value = value
    return hash.fingerprint
  }
}
