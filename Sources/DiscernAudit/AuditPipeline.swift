import Foundation

/// Reads batches of input records on a thread of its own, at most `depth` batches ahead of the
/// auditor, so reading overlaps deciding; memory holds at most `depth` + 1 batches however long the
/// input. On two cores the serial reading and writing were a fifth of a rules-only audit.
final class BatchReader: @unchecked Sendable {
  struct Batch {
    let inputs: [AuditInput]
    /// Input bytes consumed up to this batch (for the progress bar's ETA).
    let bytesRead: Int
  }

  private let condition = NSCondition()
  private var ready: [Batch] = []
  private var finished = false

  /// Starts reading: `produce` runs on the reader thread until it returns nil.
  init(depth: Int = 2, produce: @escaping () -> Batch?) {
    let producer = Unchecked(produce)
    Thread { [self] in
      while let batch = producer.value() {
        condition.lock()
        while ready.count >= depth { condition.wait() }
        ready.append(batch)
        condition.broadcast()
        condition.unlock()
      }
      condition.lock()
      finished = true
      condition.broadcast()
      condition.unlock()
    }.start()
  }

  /// The next batch in input order; nil once the input is exhausted.
  func next() -> Batch? {
    condition.lock()
    defer { condition.unlock() }
    while ready.isEmpty && !finished { condition.wait() }
    guard !ready.isEmpty else { return nil }
    condition.broadcast()
    return ready.removeFirst()
  }
}

/// Writes on a serial queue of its own, in order, at most `depth` writes behind the caller. The first
/// write that fails stops the writing; `failure` says why, and `finish` throws it.
final class BackgroundWriter: @unchecked Sendable {
  private let file: OutputFile
  private let queue = DispatchQueue(label: "discern.audit.writer")
  private let slots: DispatchSemaphore
  private let lock = NSLock()
  private var error: AuditError?

  init(_ file: OutputFile, depth: Int = 2) {
    self.file = file
    slots = DispatchSemaphore(value: depth)
  }

  /// The error that stopped the writing, once one has.
  var failure: AuditError? { lock.withLock { error } }

  func write(_ bytes: [UInt8]) {
    slots.wait()
    queue.async { [self] in
      defer { slots.signal() }
      guard failure == nil else { return }
      do throws(AuditError) {
        try file.write(bytes)
      } catch {
        lock.withLock { self.error = error }
      }
    }
  }

  /// Returns once everything handed over is written; throws what stopped the writing.
  func finish() throws(AuditError) {
    queue.sync {}
    if let failure { throw failure }
  }
}

/// A value handed to another thread by code that guarantees only one thread uses it at a time.
struct Unchecked<T>: @unchecked Sendable {
  let value: T
  init(_ value: T) { self.value = value }
}
