import Foundation

/// Why an audit stopped, by where it went wrong; each says what and where in one sentence, which the
/// command prints after "Error: " (and a service returns as it is).
public enum AuditError: Error, CustomStringConvertible, Equatable {
  /// The input cannot be opened or read, or its CSV header cannot be used.
  case input(String)
  /// The output cannot be opened, locked, written or cut.
  case output(String)
  /// The records already in `--out` cannot be continued from: another input, rules or model, or not an audit's.
  case resume(String)
  /// The temporary files that hold records for `--sort urgency` cannot be written or read back.
  case sorting(String)

  public var description: String {
    switch self {
    case .input(let message), .output(let message), .resume(let message), .sorting(let message): message
    }
  }
}
