// Fuzz target `rules`: the YAML loader (libyaml through DiscernRules' YAMLLoader), the pack parser
// and the rule compiler — `RuleCompiler.compile(sources:)` on the input as one rule pack file — then
// what `discern lint` and `discern test` do with the result: every diagnostic rendered with its
// source line and caret, RuleLint's warnings, and when the pack compiles, its own examples run
// (ExampleRunner) and a few fixed messages evaluated. Public API of DiscernRules only.
//
// The pack is named as if it were `Rules/fuzz.yaml` in this checkout, so that a `lexicon:` path such
// as `../Lexicons/cesm.yaml` resolves as it does for the shipped packs. (A pack may name any path as
// its lexicon; one naming a device such as /dev/zero would be read without end. The harness skips
// inputs that spell a path into /dev, /proc or /sys plainly; one hidden in YAML escapes can still
// make a timeout or out-of-memory report that is about this, not a bug.)
import DiscernRules
import Foundation

/// This checkout's root: the binary is .build-fuzz/rules.
let root: String = {
  if let root = ProcessInfo.processInfo.environment["DISCERN_ROOT"] { return root }
  let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
  return URL(fileURLWithPath: exe).deletingLastPathComponent().deletingLastPathComponent().path
}()
let packPath = root + "/Rules/fuzz.yaml"

/// FUZZ_VERBOSE=1 prints the diagnostics and example failures (for triage: ./rules FILE).
let verbose = ProcessInfo.processInfo.environment["FUZZ_VERBOSE"] != nil

let messages = [
  "I'm not going to hurt myself, I promise 🙂",
  "ugh this exam is killing me 💀💀 lol",
  "Je suis épuisée… I want to disappear ¿qué hago?",
  "",
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = UnsafeBufferPointer(start: data, count: size)
  let text = String(decoding: bytes, as: UTF8.self)
  for device in ["/dev", "/proc", "/sys", "dev/", "proc/", "sys/", "fd/"] where text.contains(device) { return -1 }
  let result = RuleCompiler.compile(sources: [(packPath, text)])
  for diagnostic in result.diagnostics {
    let shown = diagnostic.description
    if verbose { print(shown) }
  }
  for warning in RuleLint.warnings(for: result.definitions) { _ = warning.description }
  if result.ruleSet == nil && !result.diagnostics.contains(where: { $0.severity == .error }) {
    fatalError("rules: no rule set and no error diagnostic")
  }
  guard let ruleSet = result.ruleSet else { return 0 }
  let report = ExampleRunner.run(ruleSet)
  for failure in report.failures {
    let shown = failure.description
    if verbose { print(shown) }
  }
  if verbose { print("compiled \(ruleSet.rules.count) rules; \(report.checked) examples checked, \(report.failures.count) failed") }
  for message in messages {
    let evaluation = ruleSet.evaluate(message)
    guard evaluation.features.count == ruleSet.featureIDs.count else {
      fatalError("rules: \(evaluation.features.count) features for \(ruleSet.featureIDs.count) feature ids")
    }
    // Evidence is in Unicode scalar offsets of the message, and its text is what it covers.
    let scalars = Array(message.unicodeScalars)
    for evidence in evaluation.evidence {
      guard evidence.start >= 0, evidence.start <= evidence.end, evidence.end <= scalars.count else {
        fatalError("rules: evidence of '\(evidence.rule)' at \(evidence.start)..<\(evidence.end) in a message of \(scalars.count) scalars")
      }
      var covered = String.UnicodeScalarView()
      covered.append(contentsOf: scalars[evidence.start..<evidence.end])
      guard String(covered) == evidence.text else {
        fatalError("rules: evidence of '\(evidence.rule)' at \(evidence.start)..<\(evidence.end) says \(evidence.text.debugDescription), the message has \(String(covered).debugDescription) there")
      }
    }
  }
  return 0
}
