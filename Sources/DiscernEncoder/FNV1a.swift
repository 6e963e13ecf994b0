import CDiscernKernels

/// FNV-1a, 64-bit: a fast, stable fingerprint for files and ids (not for security). Used to tie
/// heads and models to the encoder, corpus and lexicon they were made from.
public struct FNV1a: Sendable {
  /// The running hash. Settable so that `mix`, inlined into other modules, specializes there: the
  /// audit hashes every input record with it.
  public var value: UInt64

  public init(seed: UInt64 = 0) { value = 0xcbf2_9ce4_8422_2325 ^ seed }

  @inlinable
  public mutating func mix<S: Sequence<UInt8>>(_ bytes: S) {
    var hash = value
    for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
    value = hash
  }

  /// Every byte of `bytes`, in 64 KiB blocks (see `dk_fingerprint_blocks`): for whole model files.
  public mutating func mixBlocks(_ bytes: UnsafeRawBufferPointer) {
    guard let base = bytes.baseAddress else { return }
    value = dk_fingerprint_blocks(base.assumingMemoryBound(to: UInt8.self), bytes.count, value)
  }

  /// "fnv1a64:" and the value in hex, as model files record it.
  public var fingerprint: String { "fnv1a64:" + String(value, radix: 16) }
}
