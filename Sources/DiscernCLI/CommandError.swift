import ArgumentParser
import DiscernAudit

/// An error that ends a command at run time, said as one sentence after "Error: " with exit status 1
/// and no usage text: the arguments were fine, the files were not (a ValidationError is for
/// arguments, and prints the usage with exit status 64).
struct CommandError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
  init(_ error: AuditError) { self.init(error.description) }
}

/// The corpus splits a `--split` option names.
enum SplitOption {
  /// Refuses a `--split` that names no split.
  static func validate(_ split: String) throws {
    guard ["train", "dev", "test"].contains(split) else { throw ValidationError("--split is train, dev or test, not '\(split)'.") }
  }
}
