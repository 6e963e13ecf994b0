import Foundation

/// A copy of the shipped Rules/ and the Lexicons/ they name, inside `folder`, for a test to edit.
/// Returns the copied rules folder.
@discardableResult
func copyShippedRules(from root: String, into folder: String) throws -> String {
  for name in ["Rules", "Lexicons"] { try FileManager.default.copyItem(atPath: root + "/" + name, toPath: folder + "/" + name) }
  return folder + "/Rules"
}

/// Rewrites a text file in place.
func edit(_ path: String, _ change: (String) throws -> String) throws {
  try change(try String(contentsOfFile: path, encoding: .utf8)).write(toFile: path, atomically: true, encoding: .utf8)
}
