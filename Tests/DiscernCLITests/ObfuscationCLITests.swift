import Foundation
import Testing

/// Obfuscated English reaches the rules (issue 18, item 12), and the moderator sees each span on the
/// message as it was written. Before, "k!ll mys3lf" had no span at all.
extension CLITests {

  /// The `spans` of one JSON object, each as "type rule [start, end) 'text'".
  func spans(_ json: String) throws -> [String] {
    let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    let spans = try #require(object["spans"] as? [[String: Any]])
    return spans.map { "\($0["type"] ?? "-") \($0["rule"] ?? "") [\($0["start"] ?? ""), \($0["end"] ?? "")) '\($0["text"] ?? "")'" }
  }

  @Test func scanShowsALeetspeakSpanOnTheMessageAsWritten() throws {
    let run = try discern("scan", "k!ll mys3lf")
    #expect(run.status == 0, "\(run.stderr)")
    #expect(run.stdout.hasPrefix("» k!ll mys3lf\n  serious_intent  serious-intent.hurt-myself  [0, 11) 'k!ll mys3lf'\n"))
    let json = try discern("scan", "--json", "k!ll mys3lf")
    #expect(try spans(json.stdout) == ["serious_intent serious-intent.hurt-myself [0, 11) 'k!ll mys3lf'"])
  }

  @Test func scanShowsAlgospeakSpeltApartWithItsSeparators() throws {
    let run = try discern("scan", "🙃 nobody asked, k.y.s")
    #expect(run.stdout.contains("  toward_others   algospeak.tell-to  [16, 21) 'k.y.s'\n"), "\(run.stdout)")
  }

  @Test(.enabled(if: hasEncoder, "needs 'make model'"))
  func explainShowsObfuscatedSpansOnTheMessageAsWritten() throws {
    let run = try discern("explain", "--json", "k!ll mys3lf")
    #expect(run.status == 0, "\(run.stderr)")
    #expect(try spans(run.stdout).contains("serious_intent serious-intent.hurt-myself [0, 11) 'k!ll mys3lf'"))
    // Padding taken out first, then the separators: both are counted back into the offsets.
    let padded = try discern("explain", "--json", "😂😂😂😂😂😂 k-i-l-l myself")
    #expect(try spans(padded.stdout).contains("serious_intent serious-intent.hurt-myself [7, 21) 'k-i-l-l myself'"))
  }

  /// The algospeak pack counts in decisions through its pinned weights, before any retraining: a
  /// first-person intent in algospeak is flagged, the same word in a joke about an exam is not.
  @Test(.enabled(if: hasEncoder, "needs 'make model'"))
  func algospeakIntentIsFlaggedAndAJokeIsNot() throws {
    let run = try discern("explain", "--no-color", "i want to un4live mys3lf tonight", "kms lol this exam is brutal")
    #expect(run.status == 0, "\(run.stderr)")
    let views = run.stdout.components(separatedBy: "» ").dropFirst()
    #expect(views.count == 2)
    #expect(views.first?.contains("\n  self_harm         p ") == true)
    let flagged = views.map { $0.split(separator: "\n").first { $0.hasPrefix("  self_harm ") }.map { !$0.hasSuffix("not flagged") } }
    #expect(flagged == [true, false], "\(run.stdout)")
    #expect(views.first?.contains("    serious_intent  algospeak.unalive-myself [10, 24) 'un4live mys3lf'\n") == true, "\(run.stdout)")
    #expect(views.last?.contains("    casual_mention  algospeak.casual [0, 17) 'kms lol this exam'\n") == true, "\(run.stdout)")
  }
}
