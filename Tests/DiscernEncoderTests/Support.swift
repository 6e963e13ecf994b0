import Foundation

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .deletingLastPathComponent().path

/// The encoder `make model` unpacks; the golden tests skip, saying so, when it is absent.
let encoderFolder = repositoryRoot + "/.models/all-MiniLM-L6-v2"
let hasEncoder = FileManager.default.fileExists(atPath: encoderFolder + "/model.safetensors")

struct TokenCase: Decodable, CustomStringConvertible, Sendable {
  let text: String
  let ids: [Int32]
  var description: String { text.debugDescription }
}

struct TokenFixture: Decodable {
  let max_length: Int
  let cases: [TokenCase]
}

struct EmbeddingCase: Decodable, Sendable {
  let text: String
  let embedding: [Float]
}

func fixture<T: Decodable>(_ name: String, as type: T.Type) -> T? {
  guard let data = FileManager.default.contents(atPath: repositoryRoot + "/Tests/Fixtures/encoder/" + name) else { return nil }
  return try? JSONDecoder().decode(T.self, from: data)
}
