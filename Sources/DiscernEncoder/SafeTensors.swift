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
    case .badHeader(let path, let reason): "'\(path)' is not a safetensors file: \(reason)"
    case .missingTensor(let path, let name): "'\(path)' has no tensor '\(name)'"
    case .mismatch(let path, let name, let expected, let actual):
      "tensor '\(name)' in '\(path)' is \(actual), expected \(expected)"
    }
  }
}

/// A memory-mapped safetensors file: an 8-byte little-endian header length, a JSON header naming
/// each tensor's dtype, shape and byte range, then the raw data.
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
  private let data: Data
  private let dataStart: Int

  static let dtypeSizes: [String: Int] = [
    "F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1,
  ]

  public init(path: String) throws(SafeTensorsError) {
    self.path = path
    do {
      data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
    } catch {
      throw .unreadable(path: path, reason: (error as NSError).localizedDescription)
    }
    guard data.count >= 8 else { throw .truncated(path: path, expected: 8, actual: data.count) }
    let headerLength = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
    guard headerLength < 100_000_000 else { throw .badHeader(path: path, reason: "header length \(headerLength) is implausible") }
    let headerEnd = 8 + Int(headerLength)
    guard data.count >= headerEnd else { throw .truncated(path: path, expected: headerEnd, actual: data.count) }
    let object: Any
    do {
      object = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<headerEnd))
    } catch {
      throw .badHeader(path: path, reason: "the header is not JSON")
    }
    guard let header = object as? [String: Any] else { throw .badHeader(path: path, reason: "the header is not a JSON object") }
    var tensors: [String: TensorInfo] = [:]
    var metadata: [String: String] = [:]
    var dataEnd = 0
    for (name, value) in header {
      if name == "__metadata__" {
        metadata = (value as? [String: String]) ?? [:]
        continue
      }
      guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
        let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2,
        offsets[0] >= 0, offsets[0] <= offsets[1]
      else { throw .badHeader(path: path, reason: "entry '\(name)' lacks dtype, shape or data_offsets") }
      guard let width = Self.dtypeSizes[dtype] else { throw .badHeader(path: path, reason: "unknown dtype '\(dtype)' for '\(name)'") }
      let count = shape.reduce(1, *)
      guard count * width == offsets[1] - offsets[0] else {
        throw .badHeader(path: path, reason: "'\(name)' has \(offsets[1] - offsets[0]) bytes for shape \(shape) of \(dtype)")
      }
      tensors[name] = TensorInfo(dtype: dtype, shape: shape, range: offsets[0]..<offsets[1])
      dataEnd = max(dataEnd, offsets[1])
    }
    guard data.count >= headerEnd + dataEnd else {
      throw .truncated(path: path, expected: headerEnd + dataEnd, actual: data.count)
    }
    self.tensors = tensors
    self.metadata = metadata
    self.dataStart = headerEnd
  }

  /// An F32 tensor copied out of the map, after checking its shape.
  public func floats(_ name: String, shape: [Int]) throws(SafeTensorsError) -> [Float] {
    guard let info = tensors[name] else { throw .missingTensor(path: path, name: name) }
    guard info.dtype == "F32", info.shape == shape else {
      throw .mismatch(path: path, name: name, expected: "F32 \(shape)", actual: "\(info.dtype) \(info.shape)")
    }
    let start = dataStart + info.range.lowerBound
    return data.withUnsafeBytes { raw in
      // The map may not be 4-byte aligned; copy byte-wise into an aligned array.
      var out = [Float](repeating: 0, count: info.range.count / 4)
      out.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[start..<start + info.range.count])) }
      return out
    }
  }
}
