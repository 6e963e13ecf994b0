// swift-tools-version: 6.1
import PackageDescription

let package = Package(
  name: "Discern",
  platforms: [.macOS(.v13)],
  products: [
    .executable(name: "discern", targets: ["DiscernCLI"]),
    .executable(name: "discern-bench", targets: ["DiscernBench"]),
    .library(name: "DiscernRules", targets: ["DiscernRules"]),
    .library(name: "DiscernEncoder", targets: ["DiscernEncoder"]),
    .library(name: "Discern", targets: ["Discern"]),
    .library(name: "DiscernAudit", targets: ["DiscernAudit"]),
    .library(name: "DiscernServer", targets: ["DiscernServer"]),
    .library(name: "DiscernVerdicts", targets: ["DiscernVerdicts"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
    .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
    .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
  ],
  targets: [
    // System libraries: found through pkg-config, installed by `make deps` (apt).
    .systemLibrary(
      name: "CPCRE2", pkgConfig: "libpcre2-8",
      providers: [.apt(["libpcre2-dev"])]),
    .systemLibrary(
      name: "CYAML", pkgConfig: "yaml-0.1",
      providers: [.apt(["libyaml-dev"])]),
    .systemLibrary(
      name: "CEditLine", pkgConfig: "libedit",
      providers: [.apt(["libedit-dev"])]),
    // Chromium's Compact Language Detector 2 (Debian's libcld2-dev, which ships no pkg-config file).
    // Its API is C++, so this target is a small extern "C" shim that links the system library.
    .target(name: "CCLD2", linkerSettings: [.linkedLibrary("cld2")]),

    // The rule DSL: YAML → validated rules → compiled matchers → features with evidence.
    .target(name: "DiscernRules", dependencies: ["CPCRE2", "CYAML"]),

    // The encoder's hot loops in C (AVX2 with a portable fallback chosen at run time). Always built
    // optimized: a debug build of these loops would make the golden tests crawl.
    .target(name: "CDiscernKernels", cSettings: [.unsafeFlags(["-O3"])], linkerSettings: [.linkedLibrary("dl")]),

    // The encoder: safetensors, WordPiece, a BERT forward pass on OpenBLAS and the int8 kernels.
    .target(name: "DiscernEncoder", dependencies: ["CDiscernKernels"]),

    // Fusion: label heads, the calibrated logistic layer over rules and encoder, metrics, model files.
    .target(name: "DiscernModel", dependencies: ["DiscernRules", "DiscernEncoder", "CDiscernKernels"]),

    // The engine facade: rules + policy + encoder + model, checked against each other.
    .target(name: "Discern", dependencies: ["DiscernRules", "DiscernEncoder", "DiscernModel", "CCLD2"]),

    // Audits: JSONL and CSV records in and out, the batched decide-and-write pipeline, resume, the
    // report and the impact diff; what `discern audit`, the REPL and a service share.
    .target(name: "DiscernAudit", dependencies: ["Discern", "DiscernRules", "DiscernModel", "DiscernEncoder"]),

    // `discern serve`: the HTTP routes over one loaded engine (Hummingbird 2), reusing the audit's
    // decision records and fingerprints so a response and an audit record read the same; a bounded
    // queue that batches requests for the encoder, reload, drain (service-lifecycle) and /metrics.
    .target(
      name: "DiscernServer",
      dependencies: [
        "Discern", "DiscernAudit", "DiscernEncoder", "DiscernVerdicts",
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "UnixSignals", package: "swift-service-lifecycle"),
        .product(name: "Metrics", package: "swift-metrics"),
        .product(name: "Prometheus", package: "swift-prometheus"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
      ]),

    // Moderators' verdicts: one SQLite row per message × label (GRDB over the system SQLite, which
    // `make deps` installs as libsqlite3-dev), export to the corpus JSONL, and `discern learn`'s refit.
    .target(
      name: "DiscernVerdicts",
      dependencies: [
        "Discern", "DiscernModel", "DiscernRules",
        .product(name: "GRDB", package: "GRDB.swift"),
      ]),

    // The `discern` command.
    .executableTarget(
      name: "DiscernCLI",
      dependencies: [
        "Discern", "DiscernAudit", "DiscernServer", "DiscernRules", "DiscernEncoder", "DiscernModel", "DiscernVerdicts",
        "CEditLine",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        .product(name: "Hummingbird", package: "hummingbird"),
      ]),

    // Benchmarks print figures; they are never timed unit tests.
    .executableTarget(name: "DiscernBench", dependencies: ["DiscernRules", "DiscernEncoder"]),

    .testTarget(name: "DiscernRulesTests", dependencies: ["DiscernRules"]),
    .testTarget(name: "DiscernEncoderTests", dependencies: ["DiscernEncoder", "CDiscernKernels"]),
    .testTarget(name: "DiscernModelTests", dependencies: ["Discern", "DiscernModel", "DiscernEncoder", "DiscernRules"]),
    .testTarget(name: "DiscernAuditTests", dependencies: ["DiscernAudit", "Discern", "DiscernRules"]),
    .testTarget(name: "DiscernCLITests", dependencies: ["DiscernCLI", "DiscernVerdicts", "DiscernEncoder"]),
    .testTarget(
      name: "DiscernVerdictsTests", dependencies: ["DiscernVerdicts", "DiscernModel", "DiscernRules"],
      exclude: ["Fixtures"]),
    .testTarget(
      name: "DiscernServerTests",
      dependencies: [
        "DiscernServer", "DiscernAudit", "Discern", "DiscernVerdicts",
        .product(name: "HummingbirdTesting", package: "hummingbird"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
      ]),
  ]
)
