import Foundation

/// Reads an emoji lexicon (`Lexicons/cesm.yaml`) with the same loader and diagnostics as rules.
public enum LexiconLoader {
  static let fileKeys = ["lexicon", "version", "description", "entries"]
  static let entryKeys = ["emoji", "name", "meaning", "self_harm_meaning", "casual_mention", "serious_intent", "signal"]

  public static func load(path: String, diagnostics: inout DiagnosticList) -> Lexicon? {
    guard let text = SourceFiles.read(path, kind: "lexicon ", diagnostics: &diagnostics) else { return nil }
    return parse(SourceText(path: path, text: text), text: text, diagnostics: &diagnostics)
  }

  public static func parse(_ source: SourceText, text: String, diagnostics: inout DiagnosticList) -> Lexicon? {
    let errorsBefore = diagnostics.items.filter { $0.severity == .error }.count
    guard let root = YAMLLoader().load(source, text: text, diagnostics: &diagnostics) else { return nil }
    guard let pairs = root.mapping else {
      diagnostics.error("a lexicon is a mapping with 'lexicon:' and 'entries:', found \(root.kindName)", at: root.mark)
      return nil
    }
    NodeChecks.reportUnknownKeys(in: pairs, allowed: fileKeys, context: "in the lexicon", diagnostics: &diagnostics)
    guard let name = root["lexicon"]?.scalar, let version = root["version"]?.scalar else {
      diagnostics.error("a lexicon needs 'lexicon: NAME' and 'version: …'", at: root.mark)
      return nil
    }
    guard let items = root["entries"]?.sequence else {
      diagnostics.error("lexicon '\(name)' needs an 'entries:' list", at: root["entries"]?.mark ?? root.mark)
      return nil
    }
    var entries: [LexiconEntry] = []
    var seen: [String: SourceMark] = [:]
    for item in items {
      guard let entry = parseEntry(item, diagnostics: &diagnostics) else { continue }
      let key = EmojiScanner.fold(entry.emoji)
      if let first = seen[key] {
        diagnostics.error("'\(entry.emoji)' is already in the lexicon (line \(first.line)); skin tones and VS16 fold together", at: item.mark)
        continue
      }
      seen[key] = item.mark
      entries.append(entry)
    }
    let errorsAfter = diagnostics.items.filter { $0.severity == .error }.count
    return errorsAfter > errorsBefore ? nil : Lexicon(name: name, version: version, entries: entries)
  }

  static func parseEntry(_ node: YAMLNode, diagnostics: inout DiagnosticList) -> LexiconEntry? {
    guard let pairs = node.mapping else {
      diagnostics.error("a lexicon entry is a mapping, found \(node.kindName)", at: node.mark)
      return nil
    }
    let label = node["emoji"]?.scalar ?? "?"
    NodeChecks.reportUnknownKeys(in: pairs, allowed: entryKeys, context: "in entry '\(label)'", diagnostics: &diagnostics)
    var ok = true
    var texts: [String: String] = [:]
    for key in ["emoji", "name", "meaning", "self_harm_meaning"] {
      guard let value = node[key]?.scalar, !value.isEmpty else {
        diagnostics.error("entry '\(label)' needs '\(key)'", at: node[key]?.mark ?? node.mark)
        ok = false
        continue
      }
      texts[key] = value
    }
    let cm = NodeChecks.parseEnum(node["casual_mention"], key: "casual_mention", as: LexiconLevel.self, diagnostics: &diagnostics, ok: &ok)
    let si = NodeChecks.parseEnum(node["serious_intent"], key: "serious_intent", as: LexiconLevel.self, diagnostics: &diagnostics, ok: &ok)
    let signal = NodeChecks.parseEnum(node["signal"], key: "signal", as: EmojiSignal.self, diagnostics: &diagnostics, ok: &ok)
    for key in ["casual_mention", "serious_intent"] where node[key] == nil {
      diagnostics.error("entry '\(label)' needs '\(key)' (low, medium or high)", at: node.mark)
      ok = false
    }
    if let emoji = texts["emoji"], let emojiNode = node["emoji"] {
      let characters = Array(emoji)
      if characters.count != 1 || !EmojiScanner.isEmoji(characters[0], isKnown: { _ in true }) {
        diagnostics.error("'\(emoji)' is not a single emoji", at: emojiNode.mark)
        ok = false
      }
    }
    guard ok, let cm, let si else { return nil }
    return LexiconEntry(
      emoji: texts["emoji"]!, name: texts["name"]!, meaning: texts["meaning"]!,
      selfHarmMeaning: texts["self_harm_meaning"]!, casualMention: cm, seriousIntent: si, signal: signal)
  }
}
