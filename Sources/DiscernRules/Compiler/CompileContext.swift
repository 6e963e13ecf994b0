import Foundation

/// What rule kinds may need from outside their own YAML during one compile: lexicons, read once
/// each however many rules name them.
public final class CompileContext {
  private var lexicons: [String: Lexicon?] = [:]
  private(set) var diagnostics = DiagnosticList()

  public init() {}

  /// The lexicon at `path`, relative to the file that names it; nil (reported once) when it
  /// cannot be read or has errors.
  public func lexicon(_ path: String, relativeTo source: SourceText, at mark: SourceMark) -> Lexicon? {
    let directory = (source.path as NSString).deletingLastPathComponent
    let resolved = path.hasPrefix("/") ? path : (directory.isEmpty ? path : directory + "/" + path)
    let key = Self.collapse(resolved)
    if let cached = lexicons[key] { return cached }
    var found = DiagnosticList()
    let lexicon: Lexicon?
    if FileManager.default.fileExists(atPath: key) {
      lexicon = LexiconLoader.load(path: key, diagnostics: &found)
    } else {
      found.error("no lexicon at '\(path)' (looked for '\(key)')", at: mark)
      lexicon = nil
    }
    diagnostics.append(contentsOf: found.items)
    lexicons[key] = lexicon
    return lexicon
  }

  /// `Rules/../Lexicons/x.yaml` → `Lexicons/x.yaml`, so diagnostics name the file as a person would.
  static func collapse(_ path: String) -> String {
    var parts: [Substring] = []
    for part in path.split(separator: "/", omittingEmptySubsequences: false) {
      if part == "." { continue }
      if part == "..", let last = parts.last, last != "..", !last.isEmpty {
        parts.removeLast()
      } else {
        parts.append(part)
      }
    }
    let joined = parts.joined(separator: "/")
    return joined.isEmpty ? "." : joined
  }
}
