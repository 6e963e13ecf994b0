import Foundation

/// Writes F32 tensors as a safetensors file (the format SafeTensorsFile reads), so that what Discern
/// trains is stored in the same format as what it loads.
public enum SafeTensorsWriter {
  public struct Tensor: Sendable {
    public let name: String
    public let shape: [Int]
    public let values: [Float]

    public init(name: String, shape: [Int], values: [Float]) {
      precondition(shape.reduce(1, *) == values.count, "tensor '\(name)': \(values.count) values for shape \(shape)")
      self.name = name
      self.shape = shape
      self.values = values
    }
  }

  /// Writes atomically; the header is padded with spaces so that the data starts 8-byte aligned
  /// (which lets readers map F32 tensors in place).
  public static func write(_ tensors: [Tensor], metadata: [String: String], to path: String) throws {
    var header: [String: Any] = ["__metadata__": metadata]
    var offset = 0
    for tensor in tensors {
      let bytes = tensor.values.count * 4
      header[tensor.name] = ["dtype": "F32", "shape": tensor.shape, "data_offsets": [offset, offset + bytes]]
      offset += bytes
    }
    var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
    while (8 + json.count) % 8 != 0 { json.append(UInt8(ascii: " ")) }
    var data = Data()
    withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
    data.append(json)
    for tensor in tensors {
      tensor.values.withUnsafeBytes { raw in
        for value in raw.bindMemory(to: Float.self) { withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
      }
    }
    try data.write(to: URL(fileURLWithPath: path), options: .atomic)
  }
}
