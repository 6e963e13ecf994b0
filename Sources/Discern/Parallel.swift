import Foundation

/// `body(0..<count)` split into contiguous parts, one per thread (each of at least `minimumPerPart`
/// items, so that small batches stay on one thread), results in order.
public func parallelMap<T>(_ count: Int, threads: Int, minimumPerPart: Int = 16, _ body: (Int) -> T) -> [T] {
  let parts = min(max(1, threads), max(1, count / max(1, minimumPerPart)))
  guard parts > 1 else { return (0..<count).map(body) }
  return withoutActuallyEscaping(body) { body in
    let slots = UnsafeMutableBufferPointer<[T]>.allocate(capacity: parts)
    slots.initialize(repeating: [])
    defer { slots.deinitialize(); slots.deallocate() }
    let box = UncheckedBox(slots: slots, body: body)
    DispatchQueue.concurrentPerform(iterations: parts) { part in
      box.slots[part] = ((count * part / parts)..<(count * (part + 1) / parts)).map(box.body)
    }
    return slots.flatMap { $0 }
  }
}

/// Hands the slots and the closure to `concurrentPerform`: each part writes only its own slot.
private struct UncheckedBox<T>: @unchecked Sendable {
  let slots: UnsafeMutableBufferPointer<[T]>
  let body: (Int) -> T
}
