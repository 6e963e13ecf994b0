import ArgumentParser
import Foundation

/// Whether to paint output: on a terminal, unless `--no-color` or the NO_COLOR convention
/// (no-color.org: the variable present and not empty) says not to.
struct ColourOption: ParsableArguments {
  @Flag(help: "No colour, even on a terminal (so does NO_COLOR set to anything).")
  var noColor = false

  func enabled(for descriptor: Int32 = STDOUT_FILENO) -> Bool {
    guard !noColor, isatty(descriptor) == 1 else { return false }
    return (ProcessInfo.processInfo.environment["NO_COLOR"] ?? "").isEmpty
  }
}
