import DiscernEncoder
import Foundation
import Testing

@Suite struct SafeTensorsTests {
  /// Writes a safetensors file by hand: header length, JSON header, data.
  func write(header: String, data: [UInt8], cutTo: Int? = nil) throws -> String {
    let json = Array(header.utf8)
    var bytes = (0..<8).map { UInt8((UInt64(json.count) >> (8 * UInt64($0))) & 0xFF) } + json + data
    if let cutTo { bytes = Array(bytes.prefix(cutTo)) }
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("st-\(UUID().uuidString).safetensors").path
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return path
  }

  static let twoFloats: [UInt8] = [0, 0, 0x80, 0x3F, 0, 0, 0, 0x40]  // 1.0, 2.0
  static let header = #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"__metadata__":{"format":"pt"}}"#

  @Test func readsTensorsAndMetadata() throws {
    let file = try SafeTensorsFile(path: try write(header: Self.header, data: Self.twoFloats))
    #expect(try file.floats("w", shape: [2]) == [1, 2])
    #expect(file.metadata["format"] == "pt")
  }

  @Test func halfPrecisionTensorsAreWidened() throws {
    let header = #"{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[4,8]}}"#
    // F16 1.5 = 0x3E00, -2 = 0xC000; BF16 1.0 = 0x3F80, 0.5 = 0x3F00 (little-endian).
    let file = try SafeTensorsFile(path: try write(header: header, data: [0x00, 0x3E, 0x00, 0xC0, 0x80, 0x3F, 0x00, 0x3F]))
    #expect(try file.floats("h", shape: [2]) == [1.5, -2])
    #expect(try file.floats("b", shape: [2]) == [1, 0.5])
  }

  @Test func aTruncatedFileSaysHowShort() throws {
    let path = try write(header: Self.header, data: Self.twoFloats, cutTo: 8 + Self.header.utf8.count + 4)
    #expect(throws: SafeTensorsError.truncated(path: path, expected: 8 + Self.header.utf8.count + 8, actual: 8 + Self.header.utf8.count + 4)) {
      try SafeTensorsFile(path: path)
    }
    let message = SafeTensorsError.truncated(path: "m.safetensors", expected: 100, actual: 60).description
    #expect(message == "'m.safetensors' is truncated: its header needs 100 bytes, the file has 60; download it again (make model)")
  }

  @Test func aWrongShapeOrMissingTensorIsNamed() throws {
    let path = try write(header: Self.header, data: Self.twoFloats)
    let file = try SafeTensorsFile(path: path)
    #expect(throws: SafeTensorsError.mismatch(path: path, name: "w", expected: "F32 [3]", actual: "F32 [2]")) {
      try file.floats("w", shape: [3])
    }
    #expect(throws: SafeTensorsError.missingTensor(path: path, name: "b")) { try file.floats("b", shape: [2]) }
  }

  @Test func aHeaderThatDisagreesWithItsSizesIsRefused() throws {
    let bad = #"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#
    let path = try write(header: bad, data: Self.twoFloats)
    #expect(throws: SafeTensorsError.badHeader(path: path, reason: "'w' has 8 bytes for shape [3] of F32")) {
      try SafeTensorsFile(path: path)
    }
  }
}
