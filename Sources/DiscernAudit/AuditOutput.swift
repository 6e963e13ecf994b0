import Foundation

/// A file descriptor written with write(2), every failure an error naming the file and the OS's
/// reason: Foundation's FileHandle.write traps on a full disk, and print() drops what it cannot write.
public final class OutputFile: @unchecked Sendable {
  /// How messages name it: `'path'`, or `standard output`.
  public let name: String
  let descriptor: Int32
  /// Only a regular file can be cut, locked, or lose records to a second writer.
  var isRegularFile: Bool { FileIdentity(descriptor: descriptor) != nil }
  private let owned: Bool

  public static let standardOutput = OutputFile(descriptor: STDOUT_FILENO, name: "standard output", owned: false)

  private init(descriptor: Int32, name: String, owned: Bool) {
    self.descriptor = descriptor
    self.name = name
    self.owned = owned
  }

  deinit { if owned { close(descriptor) } }

  public func write(_ bytes: [UInt8]) throws(AuditError) {
    var done = 0
    while done < bytes.count {
      let wrote = bytes.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress! + done, bytes.count - done) }
      if wrote < 0 {
        if errno == EINTR { continue }
        throw AuditError.output("cannot write \(name): \(String(cString: strerror(errno)))")
      }
      done += wrote
    }
  }

  public func write(_ text: String) throws(AuditError) { try write(Array(text.utf8)) }

  /// Cuts a regular file to its first `length` bytes (later writes append after them).
  func truncate(to length: Int) throws(AuditError) {
    guard ftruncate(descriptor, off_t(length)) == 0 else {
      throw AuditError.output("cannot cut \(name) to its complete records: \(String(cString: strerror(errno)))")
    }
  }

  /// Opens an audit's `--out` for appending, locked against a second audit, and emptied unless
  /// `keep` (a resume). It is opened in place, never replaced: the path may be a device such as
  /// /dev/null, or a file another process is watching. Nothing is truncated before the checks: the
  /// same file as the input, or a file another audit is writing, is refused as it was found.
  static func audit(path: String, input: FileIdentity?, inputName: String, keep: Bool) throws(AuditError) -> OutputFile {
    let sameFile = AuditError.output(
      "--out '\(path)' is the same file as the input \(inputName); writing the records there would erase the input before it is read. "
        + "Give --out another file.")
    if let input, FileIdentity(path: path) == input { throw sameFile }
    let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else { throw AuditError.output("cannot write '\(path)': \(String(cString: strerror(errno)))") }
    let file = OutputFile(descriptor: descriptor, name: "'\(path)'", owned: true)
    // Only regular files hold records to lose: two audits may well both write to /dev/null.
    guard let identity = FileIdentity(descriptor: descriptor) else { return file }
    // Checked again on what was opened: a link made between the two looks would otherwise slip by.
    if identity == input { throw sameFile }
    guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
      if errno == EWOULDBLOCK {
        throw AuditError.output("another audit is writing '\(path)' (it holds the file's lock); wait for it to finish, or give --out another file.")
      }
      throw AuditError.output("cannot lock '\(path)': \(String(cString: strerror(errno)))")
    }
    if !keep { try file.truncate(to: 0) }
    return file
  }
}

/// A regular file's device and inode: one file whatever path, link or descriptor reaches it.
struct FileIdentity: Equatable {
  let device: UInt64
  let inode: UInt64

  private init?(_ info: stat) {
    guard (info.st_mode & S_IFMT) == S_IFREG else { return nil }
    device = UInt64(info.st_dev)
    inode = UInt64(info.st_ino)
  }

  /// The file at `path` (links followed); nil when there is none or it is not a regular file.
  init?(path: String) {
    var info = stat()
    guard stat(path, &info) == 0 else { return nil }
    self.init(info)
  }

  init?(descriptor: Int32) {
    var info = stat()
    guard fstat(descriptor, &info) == 0 else { return nil }
    self.init(info)
  }
}
