import DiscernEncoder
import Foundation
import Testing

/// DISCERN_KERNEL through the binary: each path this CPU runs can be forced and prints the same
/// numbers, and a wrong name is refused with the names that exist.
@Suite struct KernelPathTests {
  func embed(kernel: String) throws -> CLITests.Run {
    var environment = ProcessInfo.processInfo.environment
    environment[Int8Kernel.environmentVariable] = kernel
    let binary = CLITests.root.appendingPathComponent(".build/debug/discern")
    return try CLITests.run(binary, ["embed", "--precision", "int8", "kms lol", "I can't do this anymore"], in: CLITests.root, environment: environment)
  }

  /// Every path loads with the same (±63) weights by default, so every CPU prints the same numbers.
  @Test(.enabled(if: CLITests.hasEncoder, "needs 'make model'"))
  func everyPathPrintsThePortablePathsEmbeddings() throws {
    let portable = try embed(kernel: "portable")
    #expect(portable.status == 0, "\(portable.stderr)")
    for kernel in Int8Kernel.supported where kernel != .portable {
      let run = try embed(kernel: kernel.rawValue)
      #expect(run.status == 0, "\(kernel): \(run.stderr)")
      #expect(run.stdout == portable.stdout, "\(kernel)")
    }
  }

  @Test(.enabled(if: CLITests.hasEncoder, "needs 'make model'"))
  func aKernelNamedWronglyIsRefusedWithTheNamesThatExist() throws {
    let run = try embed(kernel: "sse4")
    #expect(run.status == 1)
    #expect(
      run.stderr
        == "error: DISCERN_KERNEL='sse4' names no int8 kernel path; use one of portable, avx2, avx512vnni, avxvnni, "
        + "or unset it for the fastest this CPU runs (\(Int8Kernel.fastest))\n")
  }
}
