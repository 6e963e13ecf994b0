import ArgumentParser
import DiscernModel
import Foundation

struct AnnotationsCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "annotations",
    abstract: "Build Discern's annotated set: join the stand-off annotations with the corpus, checking every span.",
    subcommands: [Build.self])

  struct Build: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Join Annotations/real.jsonl with ../shared/data and copy the written posts into corpus-format files.",
      discussion: """
        Writes annotated_real.jsonl and annotated_written.jsonl (the corpus row format plus spans, \
        category and synthetic) into --out, so that `discern eval --corpus OUT` and `discern train \
        --corpus OUT` read them. Every record is checked: all four labels 0/1, a category the guide \
        knows, spans inside their text, and each real chunk's fingerprint against the corpus text. On \
        any problem nothing is written. Without the corpus folder the real texts are skipped, and said so.
        """)

    @Option(help: "The annotated set's folder (real.jsonl, written.jsonl).")
    var annotations: String = "Annotations"

    @Option(help: "Folder of corpus .jsonl files the real texts are drawn from.")
    var corpus: String = "../shared/data/corpus"

    @Option(help: "Where the joined files go.")
    var out: String = "Annotations/build"

    func run() throws {
      let report: AnnotatedSet.BuildReport
      do {
        report = try AnnotatedSet.build(annotations: annotations, corpus: corpus, out: out)
      } catch {
        progressLine("error: \(error)")
        throw ExitCode.failure
      }
      let spans = "\(report.spans) span\(report.spans == 1 ? "" : "s") checked"
      if let skipped = report.skippedReal {
        print("skipped the real texts: \(skipped)")
        print("wrote \(report.written) written posts (\(spans)) to \(out)")
      } else {
        print("wrote \(report.real) real texts and \(report.written) written posts (\(spans)) to \(out)")
      }
      for line in report.summary { print("  " + line) }
    }
  }
}
