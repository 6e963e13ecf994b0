import Foundation

/// `body(0..<count)` split into contiguous parts, one per thread (each of at least `minimumPerPart`
/// items, so that small batches stay on one thread), results in order.
public func parallelMap<T>(_ count: Int, threads: Int, minimumPerPart: Int = 16, _ body: (Int) -> T) -> [T] {
  parallelParts(count, threads: threads, minimumPerPart: minimumPerPart) { $0.map(body) }
}

/// `0..<count` split into contiguous ranges, one per thread, each handed whole to `body` (which can
/// set up per-thread scratch such as a regex matcher once); the parts' results joined in order.
public func parallelParts<T>(_ count: Int, threads: Int, minimumPerPart: Int = 16, _ body: (Range<Int>) -> [T]) -> [T] {
  let parts = min(max(1, threads), max(1, count / max(1, minimumPerPart)))
  guard parts > 1 else { return body(0..<count) }
  return withoutActuallyEscaping(body) { body in
    let slots = UnsafeMutableBufferPointer<[T]>.allocate(capacity: parts)
    slots.initialize(repeating: [])
    defer { slots.deinitialize(); slots.deallocate() }
    let box = UncheckedBox(slots: slots, body: body)
    DispatchQueue.concurrentPerform(iterations: parts) { part in
      box.slots[part] = box.body((count * part / parts)..<(count * (part + 1) / parts))
    }
    return slots.flatMap { $0 }
  }
}

/// Hands the slots and the closure to `concurrentPerform`: each part writes only its own slot.
private struct UncheckedBox<T>: @unchecked Sendable {
  let slots: UnsafeMutableBufferPointer<[T]>
  let body: (Range<Int>) -> [T]
}
