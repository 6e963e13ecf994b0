import Foundation
import Testing

/// A rule stopped by a PCRE2 limit counted as a miss and no output said so; now every output does.
extension CLITests {
  @Test func aRuleStoppedByALimitIsReportedInTheAuditRecordAndItsRationale() throws {
    let folder = try rulesFolder([:])
    let input = folder + "/laughter.jsonl"
    // 25,000 "haha"s exhaust hyperbole.laughter's JIT stack.
    try ("{\"id\":\"pad\",\"text\":\"" + String(repeating: "haha", count: 25_000) + "\"}\n").write(toFile: input, atomically: true, encoding: .utf8)
    let run = try discern("audit", input, "--rules-only")
    #expect(run.status == 0)
    #expect(run.stdout.contains(#""limits":[{"limit":"jit_stack","rule":"hyperbole.laughter"}]"#))
    #expect(run.stdout.contains("Incomplete: hyperbole.laughter stopped at a matching limit on this message, so its evidence may be partial."))
    // The audit report counts them per rule, so staff know which messages to read themselves.
    let reported = try discern("audit", input, "--rules-only", "--report", folder + "/report", "--out", folder + "/out.jsonl")
    #expect(reported.status == 0, "\(reported.stderr)")
    let report = try String(contentsOfFile: folder + "/report/report.md", encoding: .utf8)
    #expect(report.contains("## Rules stopped by a matching limit"))
    #expect(report.contains("| hyperbole.laughter | jit_stack | 1 |"))
  }
}
