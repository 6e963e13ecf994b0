import Foundation
import Testing

/// A new moderator's first day (issue 18), through the binary, asserting the text they see.
extension CLITests {
  @Test func versionSaysWhichReleaseAndModelFormat() throws {
    let run = try discern("--version")
    #expect(run.status == 0)
    #expect(run.stdout == "discern 0.9.0 (model format discern-heads-1)\n")
  }

  @Test(arguments: ["0", "-1"])
  func threadsBelowOneAreRefusedWithTheRange(_ threads: String) throws {
    let run = try discern("explain", "--threads=\(threads)", "hi")
    #expect(run.status == 64)
    #expect(run.stderr.hasPrefix(
      "Error: --threads must be between 1 and 1024; got \(threads). This machine has \(ProcessInfo.processInfo.activeProcessorCount) cores.\n"))
  }
}
