import DiscernEncoder
import DiscernRules
import Foundation

/// Benchmarks for Discern. Each prints figures; none is a pass/fail test.
///
///     discern-bench rules --rules Rules --corpus FILE.jsonl [--rounds 5]
///         messages per second of RuleSet.evaluate, one thread, as one JSON line
///     discern-bench patterns --rules Rules
///         the compiled patterns as JSON, for peers that run the same patterns
///     discern-bench encoder --encoder .models/all-MiniLM-L6-v2 [--tuned Models/default/encoder] [--tokens 32] [--runs 50] [--threads 1]
///                           [--precision fp32|int8] [--weights 63|127] [--batch 1] [--read yes]
///         median latency of a batch of messages of exactly N tokens, throughput and peak memory, the
///         int8 kernel path that ran (DISCERN_KERNEL forces one) and the OpenBLAS core type, as one JSON line
///     discern-bench roofline --encoder .models/all-MiniLM-L6-v2 [--tuned Models/default/encoder] [--weights 63|127]
///                            [--runs 50]
///         this core's sustained multiply-accumulate rate per instruction path, then per forward pass of
///         one message (32 and 128 tokens, one thread) each linear layer's achieved int8 rate as a share
///         of its path's peak, and where the rest of the time goes; JSON lines
///     discern-bench startup --encoder .models/all-MiniLM-L6-v2 [--tuned Models/default/encoder] [--runs 5]
///         what the encoder's fingerprint (every byte of the weights and vocabulary) costs at start-up:
///         median load time, median fingerprint time over the same files, and their ratio, as one JSON line
///     discern-bench cosine --corpus FILE.jsonl|DIR [--encoder DIR] [--tuned DIR] [--weights 63,127] [--split test]
///                          [--limit N] [--threads 2]
///         cosine of int8 to fp32 pooled embeddings over the corpus texts, one JSON line per file
enum Bench {
  static func main() throws {
    var arguments = Array(CommandLine.arguments.dropFirst())
    guard let command = arguments.first else { usage() }
    arguments.removeFirst()
    var options: [String: String] = [:]
    while let key = arguments.first, key.hasPrefix("--"), arguments.count >= 2 {
      options[String(key.dropFirst(2))] = arguments[1]
      arguments.removeFirst(2)
    }
    // --weights 63|127, or for cosine a list (63,127) compared against one fp32 pass.
    var ranges: [WeightRange] = []
    for name in (options["weights"] ?? "").split(separator: ",") {
      guard let range = WeightRange(rawValue: String(name)) else {
        FileHandle.standardError.write(Data("discern-bench: --weights '\(name)' is not a weight range; use 63 or 127\n".utf8))
        exit(2)
      }
      ranges.append(range)
    }
    let weights = ranges.first
    if command == "cosine" {
      guard let corpus = options["corpus"] else { usage() }
      try cosineToFloat(
        folder: options["encoder"] ?? ".models/all-MiniLM-L6-v2", tuned: options["tuned"], ranges: ranges.isEmpty ? [nil] : ranges,
        corpus: corpus,
        split: options["split"], limit: Int(options["limit"] ?? "") ?? .max, threads: Int(options["threads"] ?? "2") ?? 2)
      return
    }
    if command == "roofline" {
      try roofline(
        folder: options["encoder"] ?? ".models/all-MiniLM-L6-v2", tuned: options["tuned"], weights: weights,
        runs: Int(options["runs"] ?? "50") ?? 50)
      return
    }
    if command == "startup" {
      try benchStartup(
        folder: options["encoder"] ?? ".models/all-MiniLM-L6-v2", tuned: options["tuned"] ?? "Models/default/encoder",
        runs: Int(options["runs"] ?? "5") ?? 5)
      return
    }
    if command == "encoder" {
      try benchEncoder(
        folder: options["encoder"] ?? ".models/all-MiniLM-L6-v2", tuned: options["tuned"], tokens: Int(options["tokens"] ?? "32") ?? 32,
        runs: Int(options["runs"] ?? "50") ?? 50, threads: Int(options["threads"] ?? "1") ?? 1,
        precision: Precision(rawValue: options["precision"] ?? "fp32") ?? .fp32, weights: weights,
        batch: Int(options["batch"] ?? "1") ?? 1, reading: options["read"] == "yes")
      return
    }
    let rules = options["rules"] ?? "Rules"
    let result = RuleCompiler.compile(directory: rules)
    guard let ruleSet = result.ruleSet else {
      for diagnostic in result.diagnostics { FileHandle.standardError.write(Data("\(diagnostic)\n".utf8)) }
      exit(1)
    }
    switch command {
    case "patterns":
      try printPatterns(ruleSet)
    case "rules":
      guard let corpus = options["corpus"] else { usage() }
      try benchRules(ruleSet, corpus: corpus, rounds: Int(options["rounds"] ?? "5") ?? 5)
    default:
      usage()
    }
  }

  static func usage() -> Never {
    FileHandle.standardError.write(Data("usage: discern-bench rules|patterns --rules DIR [--corpus FILE]\n".utf8))
    exit(2)
  }

  static func printPatterns(_ ruleSet: RuleSet) throws {
    let patterns = ruleSet.rules.flatMap { rule in
      rule.kind.lintPatterns.map { lintable -> [String: Any] in
        let required = RequiredLiterals.of(lintable.pattern.source).map { $0.map { String(decoding: $0, as: UTF8.self) }.sorted() }
        return ["rule": rule.id, "source": lintable.pattern.source, "caseless": lintable.pattern.caseless ? "1" : "0", "required": required ?? NSNull()]
      }
    }
    let data = try JSONSerialization.data(withJSONObject: patterns, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
  }

  /// `batch` messages of exactly `tokens` tokens ([CLS] + words + [SEP]), embedded `runs` times.
  /// With `reading`, each run is what a decision costs: tokenizing a message of exactly `tokens`
  /// tokens and reading it (the span tagger included, when the tuned encoder has one).
  static func benchEncoder(
    folder: String, tuned: String?, tokens: Int, runs: Int, threads: Int, precision: Precision, weights: WeightRange?, batch: Int,
    reading: Bool = false
  ) throws {
    let loadStart = DispatchTime.now().uptimeNanoseconds
    // A glossed student reads emoji meanings; the bench's messages have no emoji, so the gloss is the identity.
    let encoder = try BertEncoder(
      folder: folder, tuned: tuned, precision: precision, maxLength: max(tokens, 128), threads: threads, gloss: benchGloss,
      weights: weights)
    let loadSeconds = Double(DispatchTime.now().uptimeNanoseconds - loadStart) / 1e9
    let word = encoder.tokenizer.encode("hello")[1]
    let ids = [encoder.tokenizer.clsID] + [Int32](repeating: word, count: tokens - 2) + [encoder.tokenizer.sepID]
    let messages = [[Int32]](repeating: ids, count: batch)
    let texts = [String](repeating: Array(repeating: "hello", count: tokens - 2).joined(separator: " "), count: batch)
    let run = {
      if reading { _ = encoder.read(texts) } else { _ = encoder.embed(ids: messages) }
    }
    for _ in 0..<5 { run() }
    var times: [Double] = []
    for _ in 0..<runs {
      let start = DispatchTime.now().uptimeNanoseconds
      run()
      times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
    }
    times.sort()
    let report: [String: Any] = [
      "tokens": tokens, "runs": runs, "threads": threads, "median_ms": times[times.count / 2],
      "min_ms": times[0], "load_seconds": loadSeconds, "precision": precision.rawValue, "batch": batch,
      "messages_per_second": Double(batch) / (times[times.count / 2] / 1000), "peak_rss_mb": peakResidentMegabytes(),
      "layers": encoder.config.layers, "blas_core": BlasCore.current?.name ?? "none",
      "kernel": encoder.int8?.kernel.rawValue ?? "fp32", "weights": encoder.int8?.weights.rawValue ?? "fp32",
    ]
    let data = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
  }

  /// Cosine of int8 to fp32 pooled embeddings over the texts of one split of each corpus file (a
  /// file, or every .jsonl in a folder), one JSON line per file and one for all.
  static func cosineToFloat(
    folder: String, tuned: String?, ranges: [WeightRange?], corpus: String, split: String?, limit: Int, threads: Int
  ) throws {
    let reference = try BertEncoder(folder: folder, tuned: tuned, precision: .fp32, threads: threads, gloss: benchGloss)
    let quantized = try ranges.map {
      try BertEncoder(folder: folder, tuned: tuned, precision: .int8, threads: threads, gloss: benchGloss, weights: $0)
    }
    var isFolder: ObjCBool = false
    _ = FileManager.default.fileExists(atPath: corpus, isDirectory: &isFolder)
    let files = isFolder.boolValue
      ? try FileManager.default.contentsOfDirectory(atPath: corpus).filter { $0.hasSuffix(".jsonl") }.sorted().map { corpus + "/" + $0 }
      : [corpus]
    var all = [[Double]](repeating: [], count: quantized.count)
    func report(_ name: String, _ similarities: [Double], _ encoder: BertEncoder) throws {
      let sorted = similarities.sorted()
      guard !sorted.isEmpty else { return }
      let figures: [String: Any] = [
        "corpus": name, "split": split ?? "all", "messages": sorted.count, "mean": sorted.reduce(0, +) / Double(sorted.count),
        "min": sorted[0], "p1": sorted[sorted.count / 100], "median": sorted[sorted.count / 2],
        "below_0_99": sorted.filter { $0 < 0.99 }.count, "kernel": encoder.int8?.kernel.rawValue ?? "",
        "weights": encoder.int8?.weights.rawValue ?? "", "encoder": tuned ?? folder,
      ]
      print(String(decoding: try JSONSerialization.data(withJSONObject: figures, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self))
    }
    for file in files {
      let texts = Array(try readTexts(file).filter { split == nil || $0.split == split }.map(\.text).prefix(limit))
      var similarities = [[Double]](repeating: [], count: quantized.count)
      for start in stride(from: 0, to: texts.count, by: 64) {
        let batch = Array(texts[start..<min(start + 64, texts.count)])
        let exact = reference.embed(batch)
        for (index, encoder) in quantized.enumerated() {
          for (a, b) in zip(exact, encoder.embed(batch)) {
            similarities[index].append(Double(zip(a, b).reduce(Float(0)) { $0 + $1.0 * $1.1 }))
          }
        }
      }
      for (index, encoder) in quantized.enumerated() {
        try report((file as NSString).lastPathComponent, similarities[index], encoder)
        all[index] += similarities[index]
      }
    }
    if files.count > 1 { for (index, encoder) in quantized.enumerated() { try report("all", all[index], encoder) } }
  }

  /// A glossed student reads emoji meanings; fp32 and int8 read the same identity gloss here, which is
  /// all a comparison between them needs.
  static let benchGloss = InputGloss(identity: "bench") { $0 }

  /// Peak multiply-accumulate rates of this core, then each linear layer's achieved int8 rate.
  static func roofline(folder: String, tuned: String?, weights: WeightRange?, runs: Int) throws {
    var peaks: [MultiplyAccumulatePath: Double] = [:]
    for path in MultiplyAccumulatePath.allCases {
      guard path.isSupported else {
        print(#"{"bench":"roofline","path":"\#(path.rawValue)","supported":false}"#)
        continue
      }
      peaks[path] = path.sustainedRate()
      print(#"{"bench":"roofline","path":"\#(path.rawValue)","gmac_per_second":\#(String(format: "%.1f", peaks[path]! / 1e9))}"#)
    }
    let encoder = try BertEncoder(folder: folder, tuned: tuned, precision: .int8, threads: 1, gloss: benchGloss, weights: weights)
    let kernel = encoder.int8!.kernel
    let peak = MultiplyAccumulatePath(kernel).flatMap { peaks[$0] }
    for tokens in [32, 128] {
      let profile = encoder.profile(tokens: tokens, runs: runs)
      let total = profile.seconds.values.reduce(0, +)
      var figures: [String: Any] = [
        "bench": "roofline-encoder", "tokens": tokens, "kernel": kernel.rawValue, "weights": encoder.int8!.weights.rawValue,
        "layers": encoder.config.layers, "total_ms": total * 1000,
      ]
      for stage in EncoderStage.allCases { figures["\(stage.rawValue)_ms"] = (profile.seconds[stage] ?? 0) * 1000 }
      for stage in EncoderStage.products {
        let rate = Double(profile.multiplyAccumulates[stage]!) / (profile.seconds[stage] ?? .infinity)
        figures["\(stage.rawValue)_gmac_per_second"] = rate / 1e9
        if let peak { figures["\(stage.rawValue)_percent_of_peak"] = 100 * rate / peak }
      }
      let data = try JSONSerialization.data(withJSONObject: figures, options: [.sortedKeys])
      print(String(decoding: data, as: UTF8.self))
    }
  }

  struct Line: Decodable {
    let text: String
    let split: String?
  }

  /// The most memory this process has held resident: VmHWM from /proc (ru_maxrss would carry over
  /// the peak of a parent that forked us, such as a Python benchmark driver with PyTorch loaded).
  static func peakResidentMegabytes() -> Double {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? ""
    return (Double(line.split(separator: " ").dropFirst().first ?? "") ?? 0) / 1024
  }

  static func readTexts(_ corpus: String) throws -> [Line] {
    let decoder = JSONDecoder()
    return try String(contentsOfFile: corpus, encoding: .utf8).split(separator: "\n").map {
      try decoder.decode(Line.self, from: Data($0.utf8))
    }
  }

  static func benchRules(_ ruleSet: RuleSet, corpus: String, rounds: Int) throws {
    let texts = try readTexts(corpus).map(\.text)
    let matcher = PCRE2Matcher()
    // The best of `rounds` passes over every text, with the literal prefilter and without it.
    func best(prefiltered: Bool) -> (seconds: Double, spans: Int) {
      var spans = 0
      var best = Double.infinity
      for _ in 0..<rounds {
        spans = 0
        let start = DispatchTime.now().uptimeNanoseconds
        for text in texts {
          spans += ruleSet.evaluate(text, matcher: matcher, prefiltered: prefiltered).evidence.count
        }
        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
      }
      return (best, spans)
    }
    let filtered = best(prefiltered: true)
    let unfiltered = best(prefiltered: false)
    let report: [String: Any] = [
      "messages": texts.count, "rules": ruleSet.rules.count, "spans": filtered.spans, "unfiltered_spans": unfiltered.spans,
      "best_seconds": filtered.seconds, "messages_per_second": Double(texts.count) / filtered.seconds,
      "unfiltered_messages_per_second": Double(texts.count) / unfiltered.seconds, "rounds": rounds,
      "filtered_patterns": ruleSet.prefilter.filteredPatterns,
    ]
    let data = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
  }
}

try Bench.main()

/// Load time against the fingerprint's share of it, measured in the same run (a ratio, since
/// absolute times drift between machines).
func benchStartup(folder: String, tuned: String, runs: Int) throws {
  func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
  var loads: [Double] = [], prints: [Double] = []
  let config = FileManager.default.contents(atPath: folder + "/config.json") ?? Data()
  let vocabulary = FileManager.default.contents(atPath: folder + "/vocab.txt") ?? Data()
  for _ in 0..<max(1, runs) {
    var start = DispatchTime.now().uptimeNanoseconds
    _ = try BertEncoder(folder: folder, tuned: tuned, precision: .int8, gloss: InputGloss(identity: "bench") { $0 })
    loads.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
    start = DispatchTime.now().uptimeNanoseconds
    _ = try SafeTensorsFile(path: folder + "/model.safetensors").fingerprint(extra: config + vocabulary)
    _ = try SafeTensorsFile(path: tuned + "/model.safetensors").fingerprint()
    prints.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
  }
  let (load, fingerprint) = (median(loads), median(prints))
  print(#"{"bench":"startup","load_ms":\#(String(format: "%.1f", load)),"fingerprint_ms":\#(String(format: "%.1f", fingerprint)),"fingerprint_share":\#(String(format: "%.3f", fingerprint / load))}"#)
}
