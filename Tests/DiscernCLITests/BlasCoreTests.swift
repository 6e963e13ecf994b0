import Foundation
import Testing

/// Issue 20, item 2: fp32 runs on OpenBLAS kernels for the CPU it is on. An OpenBLAS older than its
/// CPU falls back to Prescott's SSE3 kernels, so Discern picks the core type from the CPU's features
/// before loading it; a user's OPENBLAS_CORETYPE always wins. OpenBLAS chooses once per process, so
/// each case is its own `discern embed --verbose` run.
@Suite struct BlasCoreTests {
  /// This CPU's flags as /proc/cpuinfo lists them (empty off Linux).
  static let cpuFlags: Set<String> = {
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
      let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
    else { return [] }
    return Set(line.split(separator: ":", maxSplits: 1).last?.split(separator: " ").map(String.init) ?? [])
  }()
  static let hasAVX2 = cpuFlags.isSuperset(of: ["avx2", "fma"])

  /// `discern embed --verbose` on the base encoder, fp32, one thread, with OPENBLAS_CORETYPE set to
  /// `coreType` (removed when nil).
  func embedVerbose(coreType: String?) throws -> CLITests.Run {
    var environment = ProcessInfo.processInfo.environment
    environment["OPENBLAS_CORETYPE"] = coreType
    return try CLITests.run(
      URL(fileURLWithPath: ResourceSearchTests.builtBinary), ["embed", "--verbose", "--precision", "fp32", "--threads", "1", "hello"],
      in: CLITests.root, environment: environment)
  }

  @Test(.enabled(if: CLITests.hasEncoder && hasAVX2, "needs 'make model' and a CPU with AVX2"))
  func withoutOpenBLASCoretypeTheCoreIsChosenFromTheCPUNotPrescott() throws {
    let run = try embedVerbose(coreType: nil)
    #expect(run.status == 0, "\(run.stderr)")
    let line = run.stderr.split(separator: "\n").first.map(String.init) ?? ""
    let prefix = "encoder: 6 layers, fp32, 1 thread; OpenBLAS core "
    let suffix = " (chosen from this CPU's features; OPENBLAS_CORETYPE overrides)"
    #expect(line.hasPrefix(prefix) && line.hasSuffix(suffix), "\(line)")
    let core = line.dropFirst(prefix.count).dropLast(suffix.count)
    let avx512 = Self.cpuFlags.isSuperset(of: ["avx512f", "avx512bw", "avx512vl", "avx512dq"])
    let amd = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?.contains("AuthenticAMD") ?? false
    let expected =
      avx512 ? (Self.cpuFlags.contains("avx512_bf16") ? "Cooperlake" : "SkylakeX") : (amd ? "Zen" : "Haswell")
    #expect(core == expected)
    #expect(run.stdout.split(separator: "\n").count == 1)
  }

  @Test(.enabled(if: CLITests.hasEncoder, "needs 'make model'"))
  func aUsersOpenBLASCoretypeWinsEvenWhenItIsSlower() throws {
    for coreType in ["Haswell", "Prescott"] {
      let run = try embedVerbose(coreType: coreType)
      #expect(run.status == 0, "\(run.stderr)")
      #expect(run.stderr == "encoder: 6 layers, fp32, 1 thread; OpenBLAS core \(coreType) (set by OPENBLAS_CORETYPE)\n")
    }
  }

  @Test(.enabled(if: CLITests.hasEncoder, "needs 'make model'"))
  func withoutVerboseEmbedPrintsNothingOnStandardError() throws {
    let run = try CLITests.run(
      URL(fileURLWithPath: ResourceSearchTests.builtBinary), ["embed", "--precision", "fp32", "--threads", "1", "hello"],
      in: CLITests.root)
    #expect(run.status == 0)
    #expect(run.stderr.isEmpty)
  }
}
