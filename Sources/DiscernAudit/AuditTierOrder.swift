import DiscernRules
import Foundation

/// How `discern audit --sort` orders the records.
public enum AuditSort: String, CaseIterable, Sendable {
  /// The input's order (the default).
  case input
  /// Most urgent tier first, the input's order within a tier, error records last.
  case urgency
}

/// What an audit record is, for `--tier` and `--sort urgency`: a decision of some tier, or an error
/// record (the input could not be decided). Ordered as `--sort urgency` writes them.
enum RecordGroup: Hashable, Comparable {
  case tier(UrgencyTier)
  case error
}

/// Which records an audit writes, and in what order. By default every record, in the input's order:
/// one output record per input record. `--tier` writes only the decisions of the tiers named and every
/// error record (an error is never silently dropped: the message may need reading); the summary line
/// says how many records were left out.
struct TierSelection {
  /// The tiers whose decisions are written; nil for all.
  let tiers: Set<UrgencyTier>?
  let sort: AuditSort

  static let all = TierSelection(tiers: nil, sort: .input)

  func keeps(_ group: RecordGroup) -> Bool {
    guard let tiers, case .tier(let tier) = group else { return true }
    return tiers.contains(tier)
  }

  /// Whether records are written as they are decided (else some wait for the end of the input).
  func writesAtOnce(_ group: RecordGroup) -> Bool { sort == .input || group == .tier(.urgent) }
}

/// A batch's records of one group, or (`group` nil) records in the input's order.
struct AuditBlock {
  let group: RecordGroup?
  let bytes: [UInt8]
}

/// Records `--sort urgency` holds back until the input ends: urgent records are written as they come,
/// the others wait in one anonymous temporary file per group (an audit's output can be far larger
/// than memory), then follow in tier order.
final class HeldRecords {
  private var files: [RecordGroup: UnsafeMutablePointer<FILE>] = [:]

  deinit { for file in files.values { fclose(file) } }

  func hold(_ bytes: [UInt8], as group: RecordGroup) throws(AuditError) {
    let file: UnsafeMutablePointer<FILE>
    if let open = files[group] {
      file = open
    } else {
      guard let made = tmpfile() else { throw AuditError.sorting("cannot make a temporary file to sort the records: \(String(cString: strerror(errno)))") }
      files[group] = made
      file = made
    }
    guard bytes.withUnsafeBytes({ fwrite($0.baseAddress, 1, $0.count, file) }) == bytes.count else {
      throw AuditError.sorting("cannot hold records in a temporary file to sort them: \(String(cString: strerror(errno))); free space in \(NSTemporaryDirectory())")
    }
  }

  /// Hands every held record to `writer`, group by group in order.
  func release(to writer: BackgroundWriter) throws(AuditError) {
    for group in files.keys.sorted() {
      let file = files[group]!
      guard fflush(file) == 0, fseek(file, 0, SEEK_SET) == 0 else {
        throw AuditError.sorting("cannot read back the records held to sort them: \(String(cString: strerror(errno)))")
      }
      var chunk = [UInt8](repeating: 0, count: 1 << 20)
      while true {
        let count = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
        if count > 0 { writer.write(Array(chunk[..<count])) }
        if count < chunk.count {
          if ferror(file) != 0 { throw AuditError.sorting("cannot read back the records held to sort them: \(String(cString: strerror(errno)))") }
          break
        }
      }
    }
  }
}
