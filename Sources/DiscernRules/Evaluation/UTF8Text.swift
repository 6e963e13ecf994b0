/// Byte-level helpers for valid UTF-8.
enum UTF8Text {
  @inline(__always)
  static func isContinuation(_ byte: UInt8) -> Bool { byte & 0xC0 == 0x80 }

  /// The start of the scalar after the one at `offset` (or `offset + 1` past the end).
  static func nextScalarStart(in bytes: UnsafeBufferPointer<UInt8>, after offset: Int) -> Int {
    var next = offset + 1
    while next < bytes.count, isContinuation(bytes[next]) { next += 1 }
    return next
  }

  /// How many scalars start before byte `offset`.
  static func scalarCount<C: Collection<UInt8>>(_ bytes: C) -> Int {
    var count = 0
    for byte in bytes where !isContinuation(byte) { count += 1 }
    return count
  }
}
