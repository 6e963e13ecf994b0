import Foundation

/// Why a safetensors file could not be used. Each message names the file and what was expected.
public enum SafeTensorsError: Error, Equatable, CustomStringConvertible {
  /// The file could not be opened or mapped.
  case unreadable(path: String, reason: String)
  /// Shorter than its own header says: a truncated download.
  case truncated(path: String, expected: Int, actual: Int)
  /// The JSON header is not valid.
  case badHeader(path: String, reason: String)
  /// A tensor the model needs is not in the file.
  case missingTensor(path: String, name: String)
  /// A tensor has another shape or dtype than the model expects.
  case mismatch(path: String, name: String, expected: String, actual: String)

  public var description: String {
    switch self {
    case .unreadable(let path, let reason): "cannot read '\(path)': \(reason)"
    case .truncated(let path, let expected, let actual):
      "'\(path)' is truncated: its header needs \(expected) bytes, the file has \(actual); download it again (make model)"
    case .badHeader(let path, let reason):
      "'\(path)' is not a safetensors file: \(reason); the file is corrupt, restore it ('make model' for the default "
        + "encoder, 'discern train' for a model's heads)"
    case .missingTensor(let path, let name): "'\(path)' has no tensor '\(name)'"
    case .mismatch(let path, let name, let expected, let actual):
      "tensor '\(name)' in '\(path)' is \(actual), expected \(expected)"
    }
  }
}

/// A memory-mapped safetensors file: an 8-byte little-endian header length, a JSON header naming
/// each tensor's dtype, shape and byte range, then the raw data.
///
/// F32 tensors are read in place from the map (no copy: only the pages a caller touches become
/// resident, which keeps a 47 MB word-embedding table out of memory); F16 and BF16 are widened.
public final class SafeTensorsFile: @unchecked Sendable {
  public struct TensorInfo: Sendable, Equatable {
    public let dtype: String
    public let shape: [Int]
    /// Byte range within the data section.
    public let range: Range<Int>
  }

  public let path: String
  public let tensors: [String: TensorInfo]
  public let metadata: [String: String]
  private let map: UnsafeRawBufferPointer
  private let dataStart: Int

  static let dtypeSizes: [String: Int] = [
    "F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1,
  ]

  public init(path: String) throws(SafeTensorsError) {
    self.path = path
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
    let size = Int(info.st_size)
    guard size >= 8 else { throw .truncated(path: path, expected: 8, actual: size) }
    guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
      throw .unreadable(path: path, reason: String(cString: strerror(errno)))
    }
    let map = UnsafeRawBufferPointer(start: base, count: size)
    do {
      (tensors, metadata, dataStart) = try Self.readHeader(map, path: path)
    } catch {
      munmap(base, size)
      throw error
    }
    self.map = map
  }

  deinit { munmap(UnsafeMutableRawPointer(mutating: map.baseAddress), map.count) }

  /// The most header bytes a file may declare: safetensors' own limit (100 MB). Anything larger is
  /// corruption or a hostile file, and refusing it early keeps `8 + length` far from overflow.
  static let maxHeaderLength: UInt64 = 100_000_000

  /// Parses and checks the JSON header. Every number in it comes from the file, so every sum and
  /// product is checked for overflow (a shape of [2⁶², 2⁶², 4] or an offset near 2⁶³ must be a refusal,
  /// never a trap), and every tensor must lie inside the data section with exactly
  /// product(shape) × dtype size bytes: `tensor(_:shape:)` then reads the map unchecked.
  private static func readHeader(_ map: UnsafeRawBufferPointer, path: String) throws(SafeTensorsError) -> (
    [String: TensorInfo], [String: String], Int
  ) {
    let headerLength = (0..<8).reduce(UInt64(0)) { $0 | UInt64(map[$1]) << (8 * UInt64($1)) }
    guard headerLength <= maxHeaderLength else {
      throw .badHeader(
        path: path, reason: "header length \(headerLength) is implausible (at most \(maxHeaderLength) bytes); the file is corrupt")
    }
    let headerEnd = 8 + Int(headerLength)
    guard map.count >= headerEnd else { throw .truncated(path: path, expected: headerEnd, actual: map.count) }
    let object: Any
    do {
      object = try JSONSerialization.jsonObject(with: Data(map[8..<headerEnd]))
    } catch {
      throw .badHeader(path: path, reason: "the header is not JSON")
    }
    guard let header = object as? [String: Any] else { throw .badHeader(path: path, reason: "the header is not a JSON object") }
    var tensors: [String: TensorInfo] = [:]
    var metadata: [String: String] = [:]
    // The furthest data byte any tensor needs. Entries are read in name order so that, of several
    // faults, the same one is reported every time.
    var dataEnd = 0
    for name in header.keys.sorted() {
      let value = header[name]!
      if name == "__metadata__" {
        metadata = (value as? [String: String]) ?? [:]
        continue
      }
      let info = try tensorInfo(value, name: name, path: path)
      tensors[name] = info
      dataEnd = max(dataEnd, info.range.upperBound)
    }
    // The offsets are relative to the end of the header; their sum with it must not wrap either.
    let (needed, overflow) = headerEnd.addingReportingOverflow(dataEnd)
    guard !overflow else {
      let name = tensors.first { $0.value.range.upperBound == dataEnd }?.key ?? "?"
      throw .badHeader(path: path, reason: "tensor '\(name)' ends at data offset \(dataEnd), past any possible file; the header is corrupt")
    }
    guard map.count >= needed else { throw .truncated(path: path, expected: needed, actual: map.count) }
    return (tensors, metadata, headerEnd)
  }

  /// One header entry, checked: a known dtype, a shape of non-negative integers whose byte size is
  /// representable, and data offsets `[begin, end]` with 0 ≤ begin ≤ end and end − begin that size.
  private static func tensorInfo(_ value: Any, name: String, path: String) throws(SafeTensorsError) -> TensorInfo {
    func refuse(_ reason: String) -> SafeTensorsError { .badHeader(path: path, reason: "tensor '\(name)' \(reason)") }
    guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String, let shape = entry["shape"] as? [Int],
      let offsets = entry["data_offsets"] as? [Int], offsets.count == 2
    else {
      throw .badHeader(path: path, reason: "entry '\(name)' lacks dtype, shape or data_offsets")
    }
    guard let width = dtypeSizes[dtype] else { throw .badHeader(path: path, reason: "unknown dtype '\(dtype)' for '\(name)'") }
    guard shape.allSatisfy({ $0 >= 0 }) else { throw refuse("has a negative dimension in shape \(shape)") }
    var bytes = width
    for dimension in shape {
      let (product, overflow) = bytes.multipliedReportingOverflow(by: dimension)
      guard !overflow else { throw refuse("has shape \(shape) of \(dtype): more bytes than any file can hold") }
      bytes = product
    }
    let (begin, end) = (offsets[0], offsets[1])
    guard begin >= 0, begin <= end else {
      throw refuse("has data offsets [\(begin), \(end)]: the start must be at least 0 and not after the end")
    }
    guard bytes == end - begin else {
      throw .badHeader(path: path, reason: "'\(name)' has \(end - begin) bytes for shape \(shape) of \(dtype)")
    }
    return TensorInfo(dtype: dtype, shape: shape, range: begin..<end)
  }

  /// A float tensor (F32, F16 or BF16) after checking its shape: F32 in place when aligned, else copied.
  public func tensor(_ name: String, shape: [Int]) throws(SafeTensorsError) -> FloatTensor {
    guard let info = tensors[name] else { throw .missingTensor(path: path, name: name) }
    guard ["F32", "F16", "BF16"].contains(info.dtype), info.shape == shape else {
      throw .mismatch(path: path, name: name, expected: "F32 \(shape)", actual: "\(info.dtype) \(info.shape)")
    }
    let bytes = UnsafeRawBufferPointer(rebasing: map[dataStart + info.range.lowerBound..<dataStart + info.range.upperBound])
    let count = shape.reduce(1, *)
    if info.dtype == "F32", Int(bitPattern: bytes.baseAddress) % MemoryLayout<Float>.alignment == 0 {
      return FloatTensor(mapped: bytes.bindMemory(to: Float.self), shape: shape, owner: self)
    }
    let owned = UnsafeMutableBufferPointer<Float>.allocate(capacity: count)
    switch info.dtype {
    case "F32": UnsafeMutableRawBufferPointer(owned).copyMemory(from: bytes)
    case "F16":
      for j in 0..<count { owned[j] = Float(Float16(bitPattern: bytes.loadUnaligned(fromByteOffset: 2 * j, as: UInt16.self))) }
    default:
      for j in 0..<count { owned[j] = Float(bitPattern: UInt32(bytes.loadUnaligned(fromByteOffset: 2 * j, as: UInt16.self)) << 16) }
    }
    return FloatTensor(owned: owned, shape: shape)
  }

  /// FNV-1a (64-bit) over `extra` (e.g. the config and vocabulary), then every byte of the file:
  /// a change to any weight changes it (a fingerprint of the header and each tensor's first bytes
  /// let a zeroed embedding row through unnoticed).
  public func fingerprint(extra: Data = Data()) -> String {
    var hash = FNV1a()
    hash.mix(extra)
    hash.mixBlocks(map)
    return hash.fingerprint
  }

  /// A float tensor copied into an array, after checking its shape.
  public func floats(_ name: String, shape: [Int]) throws(SafeTensorsError) -> [Float] {
    try tensor(name, shape: shape).array
  }
}

/// Floats read from a safetensors file: either a view into its map (kept alive by `owner`) or a
/// widened copy this value owns.
public final class FloatTensor: @unchecked Sendable {
  public let values: UnsafeBufferPointer<Float>
  public let shape: [Int]
  private let owner: SafeTensorsFile?
  private let owned: Bool

  init(mapped: UnsafeBufferPointer<Float>, shape: [Int], owner: SafeTensorsFile) {
    values = mapped
    self.shape = shape
    self.owner = owner
    owned = false
  }

  init(owned: UnsafeMutableBufferPointer<Float>, shape: [Int]) {
    values = UnsafeBufferPointer(owned)
    self.shape = shape
    owner = nil
    self.owned = true
  }

  /// The values copied into an array (while this tensor, and so its memory, is still alive).
  public var array: [Float] { withExtendedLifetime(self) { Array(values) } }

  deinit { if owned { values.deallocate() } }
}
