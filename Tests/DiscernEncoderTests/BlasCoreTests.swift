import CDiscernKernels
import DiscernEncoder
import Foundation
import Testing

/// Which OpenBLAS kernels Discern asks for, by CPU feature; and that this process got them.
@Suite struct BlasCoreChoiceTests {
  static let avx512: UInt32 = UInt32(DK_CPU_AVX512F.rawValue | DK_CPU_AVX512BW.rawValue | DK_CPU_AVX512VL.rawValue | DK_CPU_AVX512DQ.rawValue)
  static let avx2: UInt32 = UInt32(DK_CPU_AVX2.rawValue | DK_CPU_FMA.rawValue)

  func choice(_ features: UInt32) -> String? { dk_blas_core_for_features(features).map { String(cString: $0) } }

  @Test func theCoreTypeFollowsTheFeaturesNotTheModel() {
    #expect(choice(Self.avx512 | Self.avx2) == "SkylakeX")
    #expect(choice(Self.avx512 | Self.avx2 | UInt32(DK_CPU_AVX512BF16.rawValue)) == "Cooperlake")
    #expect(choice(Self.avx512 | Self.avx2 | UInt32(DK_CPU_AMD.rawValue)) == "SkylakeX")
    #expect(choice(Self.avx2) == "Haswell")
    #expect(choice(Self.avx2 | UInt32(DK_CPU_AMD.rawValue)) == "Zen")
    // A partial AVX-512 (no BW/VL, as on Knights Landing) cannot run SkylakeX's kernels.
    #expect(choice(Self.avx2 | UInt32(DK_CPU_AVX512F.rawValue)) == "Haswell")
    // AVX2 without FMA, or nothing: OpenBLAS's own detection.
    #expect(choice(UInt32(DK_CPU_AVX2.rawValue)) == nil)
    #expect(choice(0) == nil)
  }

  @Test(.enabled(if: ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil, "the user chose the core type"))
  func thisProcessRunsTheChosenCore() throws {
    let core = try #require(BlasCore.current)
    if let chosen = choice(dk_cpu_features()) {
      #expect(core == BlasCore(name: chosen, source: .cpuFeatures))
      #expect(core.name != "Prescott")
    } else {
      #expect(core.source == .openBLAS)
    }
  }
}
